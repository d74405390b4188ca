"""The accountant's exports: a workbook with a sheet per month, and a month's pack of documents."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from openpyxl import load_workbook

from gmail_sync.models import GmailAccount
from receipts.models import Receipt
from receipts.parsing import ParsedEmail, parse_email
from receipts.recognition import recognise
from receipts.rendering import email_html, render_pdf
from receipts.services import ReceiptDraft, receipts_store
from tests.factories import GmailAccountFactory, ReceiptFactory
from tests.helpers import api_client

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")




def _store(account: GmailAccount, *, message_id: str, body: str, day: str, pdf: bytes | None = None) -> Receipt:
    message = EmailMessage()
    message["From"], message["To"] = "גרין שירותים <billing@green.example.co.il>", "me@example.co.il"
    message["Subject"], message["Date"] = "חשבונית מס / קבלה", day
    message["Message-ID"] = f"<{message_id}@green.example.co.il>"
    message.set_content(body)
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    parsed = parse_email(message.as_bytes())
    recognition = recognise(parsed)
    assert recognition.is_receipt, recognition.reasons
    receipts_store(account=account, run=None, drafts=[ReceiptDraft(message_id, "", parsed, recognition, parsed.date)])
    return Receipt.objects.get(account=account, gmail_message_id=message_id)


def _invoice(number: int, net: str, day: str) -> str:
    vat = (Decimal(net) * Decimal("0.18")).quantize(Decimal("0.01"))
    return (f"חשבונית מס / קבלה מס' {number}\nגרין שירותים בע\"מ ח.פ. 516179157\nתאריך: {day}\n"
            f"סה\"כ לפני מע\"מ: {net} ₪\nמע\"מ 18%: {vat} ₪\nסה\"כ לתשלום: {Decimal(net) + vat} ₪\n")


@pytest.fixture
def month_of_receipts(db):  # type: ignore[no-untyped-def]
    client, business = api_client()
    account = GmailAccountFactory(business=business)
    pdf = render_pdf(email_html(ParsedEmail(text=_invoice(20045, "1000.00", "14/07/2026"))))
    mailed = _store(account, message_id="m1", body=_invoice(20045, "1000.00", "14/07/2026"), pdf=pdf,
                    day="Tue, 14 Jul 2026 10:00:00 +0300")
    body_only = _store(account, message_id="m2", body=_invoice(20046, "200.00", "20/07/2026"),
                       day="Mon, 20 Jul 2026 10:00:00 +0300")
    june = _store(account, message_id="m3", body=_invoice(19990, "300.00", "03/06/2026"),
                  day="Wed, 03 Jun 2026 10:00:00 +0300")
    hostile = ReceiptFactory(account=account, vendor="=HYPERLINK(\"http://x\")", receipt_date=date(2026, 7, 2),
                             amount=Decimal("5.00"), currency="ILS", received_at=datetime(2026, 7, 2, tzinfo=UTC))
    ReceiptFactory(account=account, vendor="Rejected", receipt_date=date(2026, 7, 3), review_status="rejected")
    return client, {"mailed": mailed, "body_only": body_only, "june": june, "hostile": hostile, "pdf": pdf}


def test_the_workbook_has_a_sheet_per_month_right_to_left_with_hebrew_headers(month_of_receipts) -> None:
    client, made = month_of_receipts
    response = client.get("/api/receipts/export?format=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["2026-06", "2026-07"]
    july = book["2026-07"]
    assert july.sheet_view.rightToLeft
    header = [cell.value for cell in july[1]]
    assert header[:4] == ["תאריך", "ספק", "מספר עוסק", "סוג מסמך"] and 'סכום לפני מע"מ' in header
    rows = {row[-1]: row for row in july.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {made["mailed"].pk, made["body_only"].pk, made["hostile"].pk}, "rejected ones are left out"
    mailed = rows[made["mailed"].pk]
    assert mailed[1] == "גרין שירותים" and mailed[2] == "516179157" and mailed[3] == "חשבונית מס/קבלה (320)"
    assert (mailed[6], mailed[7], mailed[9]) == (1000, 180, 1180), "amounts are numbers"
    assert rows[made["hostile"].pk][1] == '=HYPERLINK("http://x")', "text stays text, never a formula"
    assert july.cell(row=2, column=2).data_type == "s" and all(
        cell.data_type != "f" for row in july.iter_rows() for cell in row)
    only_june = load_workbook(io.BytesIO(client.get("/api/receipts/export?format=xlsx&month=2026-06").content))
    assert only_june.sheetnames == ["2026-06"]


@pytest.mark.skipif(SOFFICE is None, reason="needs LibreOffice (apt-get install libreoffice-calc-nogui); .ci/run installs it")
def test_the_workbook_opens_in_libreoffice_with_hebrew_intact_and_a_sheet_per_month(month_of_receipts, tmp_path) -> None:
    client, made = month_of_receipts
    book = tmp_path / "receipts.xlsx"
    book.write_bytes(client.get("/api/receipts/export?format=xlsx").content)
    # Every sheet to a CSV of its own (the last token, -1), UTF-8 (76), comma-separated.
    target = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    done = subprocess.run([str(SOFFICE), f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", target, "--outdir", str(tmp_path / "out"), str(book)],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    sheets = sorted(p.name for p in (tmp_path / "out").glob("*.csv"))
    assert sheets == ["receipts-2026-06.csv", "receipts-2026-07.csv"], (sheets, done.stdout)
    july = list(csv.reader(Path(tmp_path / "out" / "receipts-2026-07.csv").read_text("utf-8").splitlines()))
    assert july[0][:4] == ["תאריך", "ספק", "מספר עוסק", "סוג מסמך"]
    by_id = {row[-1]: row for row in july[1:]}
    assert by_id[str(made["body_only"].pk)][1] == "גרין שירותים"
    assert by_id[str(made["body_only"].pk)][3] == "חשבונית מס/קבלה (320)"


def test_the_pack_holds_the_months_documents_byte_for_byte_and_its_workbook(month_of_receipts) -> None:
    client, made = month_of_receipts
    response = client.get("/api/receipts/export?format=pack&month=2026-07")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names == ["2026-07-14 גרין שירותים 1180.00.pdf", "2026-07-20 גרין שירותים 236.00.pdf", "2026-07.xlsx"], names
    assert archive.read(names[0]) == made["pdf"], "the mailed PDF, unchanged"
    body_only = Receipt.objects.get(pk=made["body_only"].pk)
    assert body_only.rendered_file, "an email not rendered yet is rendered for the pack"
    with default_storage.open(body_only.rendered_file, "rb") as handle:
        assert archive.read(names[1]) == handle.read()
    assert load_workbook(io.BytesIO(archive.read("2026-07.xlsx"))).sheetnames == ["2026-07"]

    for query, field in (("format=pack", "month"), ("format=pack&month=2026-13", "month"),
                         ("format=xlsx&month=July", "month"), ("format=docx", "format")):
        bad = client.get("/api/receipts/export?" + query)
        assert bad.status_code == 400 and field in bad.json()["errors"], (query, bad.json())
