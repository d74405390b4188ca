"""Exports an accountant can use: an Excel workbook with a sheet per month (Hebrew headers, right to
left), and a month's pack (a ZIP of every receipt's document, named by date, supplier and amount,
with the workbook inside)."""
from __future__ import annotations

import calendar
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from .files import EXTENSIONS, safe_filename
from .models import Receipt
from .receipt_documents import receipt_document, render_pending

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
WORKBOOK_MAX_ROWS = 50_000
PACK_MAX_RECEIPTS = 2_000

# The columns an Israeli bookkeeper reads, in Hebrew: (header, width, value of a receipt).
DOCUMENT_TYPES_HE = {"tax_invoice": "חשבונית מס (305)", "tax_invoice_receipt": "חשבונית מס/קבלה (320)",
                     "receipt": "קבלה (400)", "credit_note": "חשבונית זיכוי (330)",
                     "transaction_invoice": "חשבון עסקה (300)", "": ""}
REVIEW_HE = {"pending": "ממתין לבדיקה", "approved": "אושר", "rejected": "נדחה", "duplicate": "כפול"}


class MonthError(ValueError):
    pass


def month_range(value: str) -> tuple[date, date]:
    """The first and last day of ``YYYY-MM``; ``MonthError`` otherwise."""
    match = MONTH_RE.match(value)
    if not match:
        raise MonthError("A month as YYYY-MM.")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1990 <= year <= 2100:
        raise MonthError("Not a plausible month for a receipt.")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def in_month(queryset: QuerySet[Receipt], first: date, last: date) -> QuerySet[Receipt]:
    """Receipts dated in the month (undated ones by the day they were received)."""
    return queryset.filter(Q(receipt_date__range=(first, last))
                           | Q(receipt_date__isnull=True, received_at__date__range=(first, last)))


def day_of(receipt: Receipt) -> date | None:
    return receipt.receipt_date or (receipt.received_at.date() if receipt.received_at else None)


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    number_format: str = ""


COLUMNS = [
    Column("תאריך", 12, "yyyy-mm-dd"), Column("ספק", 28), Column("מספר עוסק", 12), Column("סוג מסמך", 22),
    Column("מספר מסמך", 16), Column("מספר הקצאה", 14), Column('סכום לפני מע"מ', 15, "#,##0.00"),
    Column('מע"מ', 12, "#,##0.00"), Column('שיעור מע"מ', 10, "0.00"), Column('סה"כ', 14, "#,##0.00"),
    Column("מטבע", 7), Column("העתק", 6), Column("בדיקות", 30), Column("סטטוס", 12), Column("שולח", 30),
    Column("מזהה", 9),
]


def _row(receipt: Receipt) -> list[Any]:
    return [day_of(receipt), receipt.vendor or receipt.sender_name or receipt.sender_email, receipt.supplier_tax_id,
            DOCUMENT_TYPES_HE.get(receipt.document_type, receipt.document_type), receipt.invoice_number,
            receipt.allocation_number, receipt.amount_before_vat, receipt.vat_amount, receipt.vat_rate, receipt.amount,
            receipt.currency, "כן" if receipt.is_copy else "", ", ".join(receipt.checks),
            REVIEW_HE.get(receipt.review_status, receipt.review_status), receipt.sender_email, receipt.pk]


def _text_cell(sheet: Worksheet, value: str) -> Cell:
    """A text cell that stays text: openpyxl would take "=..." (a sender's to write) for a formula."""
    cell = Cell(sheet, value=value)
    cell.data_type = "s"
    return cell


def workbook_bytes(queryset: QuerySet[Receipt]) -> bytes:
    """The receipts as a workbook: a sheet per month (YYYY-MM, oldest first; "undated" last), each
    right to left with Hebrew headers, numbers as numbers and days as dates."""
    months: dict[str, list[Receipt]] = {}
    for receipt in queryset.order_by("receipt_date", "received_at", "id")[:WORKBOOK_MAX_ROWS]:
        day = day_of(receipt)
        months.setdefault(day.strftime("%Y-%m") if day else "undated", []).append(receipt)
    book = Workbook()
    book.remove(book.active)
    for name in sorted(months, key=lambda m: (m == "undated", m)) or ["receipts"]:
        sheet = book.create_sheet(title=name)
        sheet.sheet_view.rightToLeft = True
        sheet.freeze_panes = "A2"
        sheet.append([_text_cell(sheet, column.header) for column in COLUMNS])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index, column in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = column.width
        for receipt in months.get(name, []):
            values = _row(receipt)
            sheet.append([_text_cell(sheet, value) if isinstance(value, str) else value for value in values])
            row = sheet.max_row
            for index, column in enumerate(COLUMNS, start=1):
                if column.number_format:
                    sheet.cell(row=row, column=index).number_format = column.number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pack_name(receipt: Receipt, extension: str) -> str:
    """``YYYY-MM-DD ספק סכום.pdf``: how the document is named in the month's pack."""
    day = day_of(receipt)
    supplier = receipt.vendor or receipt.sender_name or receipt.sender_email or "ספק"
    amount = f"{receipt.amount}" if receipt.amount is not None else "ללא סכום"
    stem = re.sub(r"\s+", " ", f"{day or 'undated'} {supplier} {amount}").strip()
    return safe_filename(f"{stem}{extension}", max_length=150)


def pack_entries(queryset: QuerySet[Receipt]) -> list[tuple[str, str]]:
    """(name in the pack, storage name) of each receipt's document; emails not rendered yet are
    rendered first, in batches."""
    receipts = list(queryset.prefetch_related("attachments").order_by("receipt_date", "received_at", "id"))
    waiting = [r.pk for r in receipts if r.body_file and not r.rendered_file and not r.render_error]
    if waiting:
        render_pending(len(waiting), queryset=Receipt.objects.filter(pk__in=waiting))
        fresh = {r.pk: r for r in Receipt.objects.filter(pk__in=waiting)}
        receipts = [fresh.get(r.pk, r) for r in receipts]
    entries: list[tuple[str, str]] = []
    used: set[str] = set()
    for receipt in receipts:
        document = receipt_document(receipt, render=False)
        if document is None:
            continue
        extension = EXTENSIONS.get(document.content_type, ".pdf")
        name = pack_name(receipt, extension)
        stem = name[: -len(extension)]
        copy = 2
        while name in used:
            name = f"{stem} ({copy}){extension}"
            copy += 1
        used.add(name)
        entries.append((name, document.name))
    return entries


class _Sink(io.RawIOBase):
    """Where the ZIP writer writes; what it holds is handed on as the response's next chunk."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_chunks(entries: Iterable[tuple[str, str]], extra: Iterable[tuple[str, bytes]] = ()) -> Iterator[bytes]:
    """A ZIP streamed a megabyte at a time: the stored files ``entries`` (name in the ZIP, storage
    name) byte for byte, then ``extra`` (name, bytes)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, stored in entries:
            with default_storage.open(stored, "rb") as source, archive.open(name, "w", force_zip64=True) as target:
                while block := source.read(1024 * 1024):
                    target.write(block)
                    yield sink.take()
            yield sink.take()
        for name, data in extra:
            archive.writestr(name, data)
    yield sink.take()
