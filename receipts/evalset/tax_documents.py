"""Israeli tax documents for the evaluation: eight families of invoicing services' and suppliers'
mail, each rendered many times with its labels (document type, business number, allocation
number, amounts before and after VAT, the rate, copy or original).

Written after ``receipts/israeli.py`` and never tuned against: each family's wording and layout is
drawn from what such documents look like (Hebrew PDFs from invoicing services, plain-text mail
from small suppliers, English-language invoices from Israeli companies, receipts of exempt
dealers, credit notes), with the customer's own business number printed beside the supplier's.
PDFs are drawn by WeasyPrint, so their text comes back through PDFium as a real PDF's does.
"""
from __future__ import annotations

import html
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from stdnum import luhn

from receipts.israeli import vat_rate_on

CENT = Decimal("0.01")
ME = "books@example.co.il"

TYPES_HE = {"tax_invoice": "חשבונית מס", "tax_invoice_receipt": "חשבונית מס / קבלה", "receipt": "קבלה",
            "credit_note": "חשבונית זיכוי", "transaction_invoice": "חשבון עסקה"}
TYPES_EN = {"tax_invoice": "Tax Invoice", "tax_invoice_receipt": "Tax Invoice / Receipt", "receipt": "Receipt",
            "credit_note": "Credit Note", "transaction_invoice": "Proforma Invoice"}
SUPPLIERS = [("סטודיו אורן עיצוב", "studio@oren-design.co.il"), ("מעבדות גל בע\"מ", "billing@gal-labs.co.il"),
             ("ייעוץ מס כהן ושות'", "office@cohen-tax.co.il"), ("הדפוס של שלומי", "print@shlomi.co.il"),
             ("טק-נט מחשבים", "sales@technet.co.il"), ("אור ניקיון ואחזקה", "or@or-clean.co.il")]
SUPPLIERS_EN = [("Bluewave Software Ltd.", "billing@bluewave.co.il"), ("Negev Analytics Ltd.", "ar@negev-analytics.com"),
                ("Carmel Logistics Ltd.", "invoices@carmel-log.co.il")]
CUSTOMERS = [("דנה לוי בע\"מ", "נחלת בנימין 12, תל אביב"), ("אלפא פתרונות בע\"מ", "הברזל 30, תל אביב")]


@dataclass(frozen=True)
class TaxLabels:
    document_type: str
    supplier_tax_id: str
    allocation_number: str
    amount_before_vat: Decimal | None
    vat_amount: Decimal | None
    vat_rate: Decimal | None
    total: Decimal
    is_copy: bool


@dataclass(frozen=True)
class TaxDocument:
    name: str
    family: str
    raw: bytes
    labels: TaxLabels


def business_number(rng: random.Random, company: bool) -> str:
    stem = ("51" if company else str(rng.randint(0, 3))) + "".join(str(rng.randint(0, 9)) for _ in range(8 - (2 if company else 1)))
    return stem + luhn.calc_check_digit(stem)


@dataclass
class Draw:
    day: date
    kind: str
    supplier: tuple[str, str]
    tax_id: str
    customer_id: str
    number: int
    net: Decimal
    rate: Decimal
    vat: Decimal
    total: Decimal
    allocation: str
    copy: bool


def _draw(rng: random.Random, kinds: list[str], *, company: bool = True, exempt: bool = False,
          suppliers: list[tuple[str, str]] = SUPPLIERS) -> Draw:
    day = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1060))
    kind = rng.choice(kinds)
    net = (Decimal(10) ** Decimal(rng.uniform(1.7, 4.7))).quantize(CENT)
    rate = Decimal(0) if exempt else (vat_rate_on(day) or Decimal(18))
    vat = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    allocation = ""
    if kind in {"tax_invoice", "tax_invoice_receipt"} and rng.random() < 0.6:
        allocation = "".join(str(rng.randint(0, 9)) for _ in range(9))
    return Draw(day, kind, rng.choice(suppliers), business_number(rng, company), business_number(rng, True),
                rng.randint(1000, 99999), net, rate, vat, net + vat, allocation, rng.random() < 0.3)


def _labels(d: Draw, *, allocation_printed: str | None = None, exempt: bool = False) -> TaxLabels:
    sign = Decimal(-1) if d.kind == "credit_note" else Decimal(1)
    return TaxLabels(d.kind, d.tax_id, allocation_printed if allocation_printed is not None else d.allocation,
                     None if exempt else sign * d.net, None if exempt else sign * d.vat,
                     None if exempt else d.rate.quantize(CENT), sign * d.total, d.copy)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _pdf(page_html: str, rtl: bool) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher

    style = ("@page { size: A4; margin: 16mm } body { font-family: 'DejaVu Sans'; font-size: 10pt } "
             "table { border-collapse: collapse } td, th { padding: 3px 8px; border-bottom: 1px solid #ccc }")
    document = (f'<html dir="{"rtl" if rtl else "ltr"}"><head><meta charset="utf-8"><style>{style}</style></head>'
                f"<body>{page_html}</body></html>")
    return weasyprint.HTML(string=document, url_fetcher=URLFetcher(allowed_protocols=set())).write_pdf()  # type: ignore[no-any-return]


def _mail(d: Draw, subject: str, body: str, *, pdf: bytes | None = None, pdf_name: str = "",
          html_body: str | None = None, sender_name: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = formataddr((sender_name or d.supplier[0], d.supplier[1]))
    message["To"], message["Subject"] = ME, subject
    message["Date"] = format_datetime(datetime(d.day.year, d.day.month, d.day.day, 10, 30, tzinfo=UTC))
    message["Message-ID"] = f"<{d.number}.{d.tax_id}@{d.supplier[1].split('@')[1]}>"
    message.set_content(body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name or f"{d.number}.pdf")
    return message.as_bytes()


def _he_lines(d: Draw, *, customer: bool = True, copy_mark: str = "העתק נאמן למקור") -> list[str]:
    lines = [f"{TYPES_HE[d.kind]} מס' {d.number}", f"{'מקור' if not d.copy else copy_mark}",
             f"{d.supplier[0]}", f"עוסק מורשה {d.tax_id}" if not d.tax_id.startswith("5") else f"ח.פ. {d.tax_id}"]
    if customer:
        name, address = CUSTOMERS[d.number % len(CUSTOMERS)]
        lines += [f"לכבוד: {name}", address, f"ח.פ. {d.customer_id}"]
    lines += [f"תאריך: {d.day:%d/%m/%Y}", f"סה\"כ לפני מע\"מ: {_money(d.net)} ₪", f"מע\"מ {d.rate:.0f}%: {_money(d.vat)} ₪",
              f"סה\"כ לתשלום: {_money(d.total)} ₪"]
    if d.allocation:
        lines.append(f"מספר הקצאה: {d.allocation}")
    return lines


# --- the families ----------------------------------------------------------------------------
def morning(rng: random.Random, index: int) -> TaxDocument:
    """An invoicing service's mail for the supplier: a short Hebrew body, the document as a PDF."""
    d = _draw(rng, ["tax_invoice_receipt", "tax_invoice_receipt", "tax_invoice", "credit_note"])
    rows = "".join(f"<tr><td>{html.escape(line)}</td></tr>" for line in _he_lines(d))
    pdf = _pdf(f"<h2>{html.escape(d.supplier[0])}</h2><table>{rows}</table>", rtl=True)
    body = (f"שלום,\nמצורפת {TYPES_HE[d.kind]} מספר {d.number} מ{d.supplier[0]}.\nתודה שבחרתם בנו!\n\n"
            "נשלח באמצעות מורנינג - חשבוניות דיגיטליות\nלהסרה מרשימת התפוצה לחצו כאן")
    raw = _mail(d, f"{TYPES_HE[d.kind]} {d.number} מ{d.supplier[0]}", body, pdf=pdf,
                pdf_name=f"{d.kind}-{d.number}.pdf", sender_name=f"{d.supplier[0]} באמצעות מורנינג")
    return TaxDocument(f"tax_morning_{index}", "tax_morning", raw, _labels(d))


def icount_html(rng: random.Random, index: int) -> TaxDocument:
    """A Hebrew HTML table in the body, no PDF."""
    d = _draw(rng, ["tax_invoice", "tax_invoice", "receipt", "tax_invoice_receipt"])
    name, address = CUSTOMERS[d.number % len(CUSTOMERS)]
    label = "ח.פ" if d.tax_id.startswith("5") else "ע.מ"
    cells = [(TYPES_HE[d.kind], str(d.number)), ("ספק", d.supplier[0]), (label, d.tax_id), ("לקוח", name),
             ("ח.פ לקוח", d.customer_id), ("תאריך", f"{d.day:%d.%m.%Y}"), ("סה\"כ ללא מע\"מ", f"₪{_money(d.net)}"),
             (f"מע\"מ ({d.rate:.0f}%)", f"₪{_money(d.vat)}"), ("סה\"כ כולל מע\"מ", f"₪{_money(d.total)}")]
    if d.allocation:
        cells.append(("מס' הקצאה", d.allocation))
    if d.copy:
        cells.insert(0, ("", "העתק"))
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in cells)
    html_body = f'<html dir="rtl"><body><p>שלום {html.escape(name)},</p><table>{table}</table></body></html>'
    text = "\n".join(f"{k} {v}".strip() for k, v in cells)
    raw = _mail(d, f"{TYPES_HE[d.kind]} מספר {d.number}", text, html_body=html_body)
    return TaxDocument(f"tax_icount_{index}", "tax_icount", raw, _labels(d))


def english_invoice(rng: random.Random, index: int) -> TaxDocument:
    """An Israeli company's English-language invoice as a PDF, with the customer's VAT number too."""
    d = _draw(rng, ["tax_invoice", "tax_invoice_receipt", "credit_note"], suppliers=SUPPLIERS_EN)
    allocation = f"{rng.randint(100, 999)}{d.allocation}" if d.allocation and rng.random() < 0.5 else d.allocation
    lines = [TYPES_EN[d.kind] + f" No. {d.number}", "COPY" if d.copy else "ORIGINAL", d.supplier[0],
             f"Company Reg. No.: {d.tax_id[:2]}-{d.tax_id[2:8]}-{d.tax_id[8]}", "Bill to: Alpha Solutions Ltd.",
             f"VAT No.: {d.customer_id}", f"Date: {d.day:%d %b %Y}", f"Subtotal: ILS {_money(d.net)}",
             f"VAT {d.rate:.0f}%: ILS {_money(d.vat)}", f"Total due: ILS {_money(d.total)}"]
    if allocation:
        lines.append(f"Allocation number: {allocation}")
    pdf = _pdf("".join(f"<p>{html.escape(line)}</p>" for line in lines), rtl=False)
    raw = _mail(d, f"{TYPES_EN[d.kind]} {d.number} from {d.supplier[0]}",
                f"Dear customer,\nPlease find attached {TYPES_EN[d.kind].lower()} {d.number}.\nRegards,\n{d.supplier[0]}",
                pdf=pdf)
    return TaxDocument(f"tax_english_{index}", "tax_english", raw, _labels(d, allocation_printed=allocation))


def plain_supplier(rng: random.Random, index: int) -> TaxDocument:
    """A small supplier's plain-text mail with the document written into the body."""
    d = _draw(rng, ["tax_invoice", "transaction_invoice", "tax_invoice_receipt"], company=False)
    lines = _he_lines(d, customer=rng.random() < 0.5, copy_mark="העתק")
    raw = _mail(d, f"{TYPES_HE[d.kind]} {d.number}", "היי,\nמצרף את המסמך לחודש זה:\n\n" + "\n".join(lines)
                + "\n\nבברכה,\n" + d.supplier[0])
    return TaxDocument(f"tax_plain_{index}", "tax_plain", raw, _labels(d))


def pdf_only(rng: random.Random, index: int) -> TaxDocument:
    """A PDF with an empty body."""
    d = _draw(rng, ["tax_invoice_receipt", "tax_invoice", "receipt"])
    pdf = _pdf("".join(f"<p>{html.escape(line)}</p>" for line in _he_lines(d)), rtl=True)
    raw = _mail(d, f"{d.supplier[0]} - מסמך {d.number}", "", pdf=pdf, pdf_name=f"doc_{d.number}.pdf")
    return TaxDocument(f"tax_pdf_only_{index}", "tax_pdf_only", raw, _labels(d))


def exempt_receipt(rng: random.Random, index: int) -> TaxDocument:
    """An exempt dealer's receipt (400): no VAT at all."""
    d = _draw(rng, ["receipt"], company=False, exempt=True)
    lines = [f"קבלה מס' {d.number}", "עוסק פטור " + d.tax_id, d.supplier[0], f"תאריך: {d.day:%d/%m/%Y}",
             f"התקבל מ: {CUSTOMERS[0][0]}", f"סה\"כ שולם: {_money(d.total)} ₪", "אמצעי תשלום: העברה בנקאית"]
    if d.copy:
        lines.insert(1, "העתק")
    raw = _mail(d, f"קבלה {d.number}", "\n".join(lines))
    return TaxDocument(f"tax_exempt_{index}", "tax_exempt", raw, _labels(d, exempt=True))


def erp_english_plain(rng: random.Random, index: int) -> TaxDocument:
    """An ERP's English plain-text invoice mail."""
    d = _draw(rng, ["tax_invoice", "credit_note"], suppliers=SUPPLIERS_EN)
    lines = [f"{TYPES_EN[d.kind].upper()} #{d.number}", f"Supplier: {d.supplier[0]} (VAT Reg. No. {d.tax_id})",
             f"Invoice to: Alpha Solutions Ltd., Company No. {d.customer_id}", f"Issue date: {d.day:%Y-%m-%d}",
             f"Total before VAT: {_money(d.net)} NIS", f"VAT ({d.rate:.0f}%): {_money(d.vat)} NIS",
             f"Total: {_money(d.total)} NIS"]
    if d.allocation:
        lines.append(f"Allocation No: {d.allocation}")
    if d.copy:
        lines.insert(0, "COPY")
    raw = _mail(d, f"{TYPES_EN[d.kind]} #{d.number}", "\n".join(lines))
    return TaxDocument(f"tax_erp_{index}", "tax_erp", raw, _labels(d))


def service_receipt(rng: random.Random, index: int) -> TaxDocument:
    """A payment page's Hebrew HTML receipt for a tax invoice/receipt, with VAT and a card."""
    d = _draw(rng, ["tax_invoice_receipt", "receipt"])
    label = "ח.פ." if d.tax_id.startswith("5") else "עוסק מורשה"
    parts = [f"<h3>{TYPES_HE[d.kind]} {d.number}</h3>", f"<p>{html.escape(d.supplier[0])} | {label} {d.tax_id}</p>",
             f"<p>תאריך העסקה: {d.day:%d/%m/%y}</p>", f"<p>סכום לפני מע\"מ {_money(d.net)} ש\"ח</p>",
             f"<p>מע\"מ {d.rate:.0f}% {_money(d.vat)} ש\"ח</p>", f"<p><b>סה\"כ שולם {_money(d.total)} ש\"ח</b></p>",
             "<p>שולם בכרטיס אשראי המסתיים ב-4580</p>"]
    if d.allocation:
        parts.append(f"<p>מספר הקצאה {d.allocation}</p>")
    if d.copy:
        parts.insert(0, "<p>העתק נאמן למקור</p>")
    html_body = '<html dir="rtl"><body>' + "".join(parts) + "</body></html>"
    from receipts.parsing import html_to_text

    raw = _mail(d, f"אישור תשלום ו{TYPES_HE[d.kind]} {d.number}", html_to_text(html_body), html_body=html_body)
    return TaxDocument(f"tax_service_{index}", "tax_service", raw, _labels(d))


FAMILIES: list[Callable[[random.Random, int], TaxDocument]] = [
    morning, icount_html, english_invoice, plain_supplier, pdf_only, exempt_receipt, erp_english_plain, service_receipt]


def tax_documents(*, seed: int = 972, per_family: int = 12) -> Iterator[TaxDocument]:
    rng = random.Random(seed)
    for family in FAMILIES:
        for index in range(per_family):
            yield family(rng, index)


# --- a second batch, written after the extractor's fixes on the first and never tuned on ----------
def two_column_pdf(rng: random.Random, index: int) -> TaxDocument:
    """A PDF whose table puts each label above its value (the amounts on lines of their own)."""
    d = _draw(rng, ["tax_invoice_receipt", "tax_invoice", "transaction_invoice"])
    type_text = {"tax_invoice_receipt": "חשבונית מס קבלה", "tax_invoice": "חשבונית מס",
                 "transaction_invoice": "חשבון עסקה"}[d.kind]
    rows = [(type_text, f"מספר {d.number}"), ("העתק" if d.copy else "מקור", ""),
            ("מספר עוסק", f"{d.tax_id[:2]}-{d.tax_id[2:8]}-{d.tax_id[8]}"), ("תאריך הפקה", f"{d.day:%d/%m/%Y}"),
            ("סה\"כ לפני מע\"מ", _money(d.net)), (f"מע\"מ {d.rate:.0f}%", _money(d.vat)), ("סה\"כ לתשלום", _money(d.total))]
    if d.allocation:
        rows.append(("מספר הקצאה", d.allocation))
    page = "".join(f"<div>{html.escape(label)}</div><div>{html.escape(value)}</div>" for label, value in rows)
    pdf = _pdf(f"<h2>{html.escape(d.supplier[0])}</h2>{page}<p>הסכומים בשקלים חדשים</p>", rtl=True)
    raw = _mail(d, f"{type_text} {d.number}", f"מצ\"ב {type_text} מספר {d.number}.\nבברכה, {d.supplier[0]}", pdf=pdf)
    return TaxDocument(f"tax_two_column_{index}", "tax_two_column", raw, _labels(d))


def saas_english_html(rng: random.Random, index: int) -> TaxDocument:
    """An Israeli SaaS's English HTML invoice-receipt, its business number written "Osek Murshe"."""
    d = _draw(rng, ["tax_invoice_receipt", "tax_invoice"], company=False, suppliers=SUPPLIERS_EN)
    title = "Tax Invoice-Receipt" if d.kind == "tax_invoice_receipt" else "Tax Invoice"
    rows = [(title, f"#{d.number}"), ("Osek Murshe No.", d.tax_id), ("Date", f"{d.day:%B %d, %Y}"),
            ("Amount excl. VAT", f"₪{_money(d.net)}"), (f"VAT {d.rate:.0f}%", f"₪{_money(d.vat)}"),
            ("Total incl. VAT", f"₪{_money(d.total)}")]
    if d.allocation:
        rows.append(("Allocation #", d.allocation))
    if d.copy:
        rows.insert(0, ("True copy", ""))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    html_body = f"<html><body><p>Thanks for your payment!</p><table>{table}</table></body></html>"
    from receipts.parsing import html_to_text

    raw = _mail(d, f"Your {title.lower()} #{d.number}", html_to_text(html_body), html_body=html_body)
    return TaxDocument(f"tax_saas_{index}", "tax_saas", raw, _labels(d))


def credit_pdf_minus(rng: random.Random, index: int) -> TaxDocument:
    """Hebrew credit notes whose amounts are printed with a minus sign."""
    d = _draw(rng, ["credit_note"])
    lines = [f"חשבונית מס זיכוי מס' {d.number}", d.supplier[0], f"ע.מ {d.tax_id}", f"תאריך: {d.day:%d/%m/%Y}",
             f"זיכוי בגין חשבונית {d.number - rng.randint(1, 50)}", f"סה\"כ לפני מע\"מ: -{_money(d.net)} ₪",
             f"מע\"מ {d.rate:.0f}%: -{_money(d.vat)} ₪", f"סה\"כ לזיכוי: -{_money(d.total)} ₪"]
    if d.copy:
        lines.insert(1, "העתק")
    pdf = _pdf("".join(f"<p>{html.escape(line)}</p>" for line in lines), rtl=True)
    raw = _mail(d, f"חשבונית זיכוי {d.number}", "שלום, מצורפת חשבונית זיכוי.", pdf=pdf)
    return TaxDocument(f"tax_credit_minus_{index}", "tax_credit_minus", raw, _labels(d))


def receipt_for_invoice(rng: random.Random, index: int) -> TaxDocument:
    """A receipt (400) for a payment of a tax invoice issued before: it names that invoice."""
    d = _draw(rng, ["receipt"])
    lines = [f"קבלה מס' {d.number}", d.supplier[0], f"ח.פ. {d.tax_id}" if d.tax_id.startswith("5") else f"עוסק מורשה {d.tax_id}",
             f"תאריך: {d.day:%d/%m/%Y}", f"התקבל תשלום עבור חשבונית מס {d.number - 3}",
             f"סה\"כ לפני מע\"מ: {_money(d.net)} ₪", f"מע\"מ {d.rate:.0f}%: {_money(d.vat)} ₪",
             f"סה\"כ התקבל: {_money(d.total)} ₪", "אמצעי תשלום: צ'ק"]
    if d.copy:
        lines.insert(1, "העתק נאמן למקור")
    raw = _mail(d, f"קבלה {d.number}", "\n".join(lines))
    return TaxDocument(f"tax_receipt_for_invoice_{index}", "tax_receipt_for_invoice", raw, _labels(d))


SECOND_FAMILIES: list[Callable[[random.Random, int], TaxDocument]] = [
    two_column_pdf, saas_english_html, credit_pdf_minus, receipt_for_invoice]


def second_batch(*, seed: int = 5972, per_family: int = 12) -> Iterator[TaxDocument]:
    rng = random.Random(seed)
    for family in SECOND_FAMILIES:
        for index in range(per_family):
            yield family(rng, index)
