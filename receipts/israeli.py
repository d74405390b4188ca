"""Israeli tax documents: what a bookkeeper reads off one, and the checks they would make by hand.

Reading (``read_tax_fields``) runs beside the rest of the extraction, in the sandbox's child, on
the body and the PDFs' text: the document type (the Tax Authority's codes 305, 320, 400, 330,
300), the supplier's business number (validated by python-stdnum's Israeli modules), the
allocation number, the amount before VAT, the VAT rate, and whether the document says it is a
copy. Checks (``tax_checks``) work on the stored values, so a person's correction re-runs them.

Both need no Django.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from stdnum.il import hp, idnr

from .money import find_bare_amounts, find_money
from .textcase import compile_lower, lower

G = "(?:\"|״|''|'|׳)?"  # gershayim as typed: ", ״, '', ' or nothing
HEB = "\u0590-\u05ff"

TAX_INVOICE = "tax_invoice"
TAX_INVOICE_RECEIPT = "tax_invoice_receipt"
RECEIPT = "receipt"
CREDIT_NOTE = "credit_note"
TRANSACTION_INVOICE = "transaction_invoice"
CODES = {TAX_INVOICE: 305, TAX_INVOICE_RECEIPT: 320, RECEIPT: 400, CREDIT_NOTE: 330, TRANSACTION_INVOICE: 300}
TAX_INVOICES = {TAX_INVOICE, TAX_INVOICE_RECEIPT}

# The most specific first: "חשבונית מס קבלה" holds both "חשבונית מס" and "קבלה".
_TYPE_PATTERNS = [
    (TAX_INVOICE_RECEIPT, r"חשבונית\s*מס\s*[/\\\-–|,]?\s*(?:ו)?קבלה|tax\s*invoice\s*[/\\&+\-–|,]?\s*(?:and\s+)?receipt|\b320\b(?=\s*[)\]])"),
    (CREDIT_NOTE, rf"חשבונית\s*(?:מס\s*)?זיכוי|(?<![{HEB}])זיכוי\s*מס|credit\s*(?:note|invoice)|\b330\b(?=\s*[)\]])"),
    (TAX_INVOICE, r"חשבונית\s*מס(?!\s*[/\\\-–|,]?\s*(?:ו)?(?:קבלה|זיכוי))|tax\s*invoice(?!\s*[/\\&+\-–|,]?\s*(?:and\s+)?receipt)|\b305\b(?=\s*[)\]])"),
    (TRANSACTION_INVOICE, r"חשבון\s*עסקה|חשבונית\s*עסקה|pro[\s-]?forma|transaction\s*invoice|\b300\b(?=\s*[)\]])"),
    (RECEIPT, rf"(?<![{HEB}])קבלה(?![{HEB}])|^\s*receipt\b|\breceipt\s*(?:no|number|#)|\b400\b(?=\s*[)\]])"),
]
TYPE_RES = [(kind, compile_lower(pattern, re.MULTILINE)) for kind, pattern in _TYPE_PATTERNS]

ISRAELI_RE = compile_lower(rf"[{HEB}]|₪|\bils\b|\bnis\b|\bisrael|ע{G}מ|ח{G}פ|osek|\.co\.il\b")
_TAX_ID_LABEL = (
    rf"(?:ע\.?\s?מ\.?|ע{G}מ|עוסק\s*(?:מורשה|פטור)|ח\.?\s?פ\.?|ח{G}פ|ע\.?\s?ר\.?(?=\s*[:\d])|ע{G}ר(?=\s*[:\d])|"
    rf"מס(?:פר|['׳])?\s*(?:עוסק|חברה|תאגיד|ע{G}מ|ח{G}פ)|"
    r"(?:business|company)\s*(?:reg(?:istration)?\.?\s*)?(?:no|number|id)\b\.?|(?:business|company)\s*reg(?:istration)?\b\.?|"
    r"vat\s*(?:reg(?:istration)?\.?\s*)?(?:no|number|id|#)|osek\s*(?:murshe|patur)?(?:\s*(?:no|number))?|"
    r"tax\s*id|registration\s*(?:no|number))"
)
TAX_ID_RE = compile_lower(_TAX_ID_LABEL + r"[\s.:#]*(?P<num>\d[\d \-]{6,12}\d)(?!\d)")
# A number printed for the customer ("לכבוד ... ח.פ.", "Bill to ... VAT No") is not the supplier's.
CUSTOMER_RE = compile_lower(r"לכבוד|ללקוח|לקוח|שם\s*הלקוח|customer|bill(?:ed)?\s*to|client|invoice\s*to|sold\s*to")
ALLOCATION_RE = compile_lower(
    r"(?:(?:מספר|מס['׳]?)\s*(?:ה)?הקצאה|הקצאה\s*(?:מספר|מס['׳]?)?|allocation\s*(?:no\.?|number|#|id)?|"
    r"confirmation\s*(?:no|number)\s*\(?\s*(?:allocation|הקצאה)\)?)"
    r"[\s.:#]*(?P<num>\d[\d \-]{7,24}\d)(?!\d)")
NET_RE = compile_lower(
    rf"סה{G}כ\s*(?:לפני|ללא|בלי)\s*מע{G}מ|סכום\s*(?:לפני|ללא)\s*מע{G}מ|(?<![{HEB}])לפני\s*מע{G}מ|"
    rf"חייב\s*במע{G}מ|סה{G}כ\s*חייב|"
    r"sub[\s-]?total|total\s*(?:before|excl(?:uding|\.)?|without|net\s*of)\s*(?:vat|tax)|"
    r"amount\s*(?:before|excl(?:uding|\.)?)\s*(?:vat|tax)|net\s*(?:amount|total)|total\s*net")
RATE_RE = compile_lower(
    rf"(?:מע{G}מ|vat)\s*[(:]?\s*(?P<a>\d{{1,2}}(?:[.,]\d{{1,2}})?)\s*%|(?P<b>\d{{1,2}}(?:[.,]\d{{1,2}})?)\s*%\s*(?:מע{G}מ|vat)")
COPY_RE = re.compile(rf"(?<![{HEB}])העתק(?![{HEB}])|נאמן\s*למקור|^\s*(?:COPY|Copy|True copy|TRUE COPY|Duplicate copy)\s*$",
                     re.MULTILINE)
NOT_COPY_RE = re.compile(rf"(?<![{HEB}])מקור(?![{HEB}])\s*$|^\s*(?:ORIGINAL|Original)\s*$", re.MULTILINE)


@dataclass
class TaxFields:
    document_type: str = ""
    supplier_tax_id: str = ""
    allocation_number: str = ""
    amount_before_vat: Decimal | None = None
    vat_rate: Decimal | None = None
    is_copy: bool = False


def valid_tax_id(number: str) -> bool:
    """A nine-digit Israeli business number (עוסק מורשה, ח.פ., ע.ר.) whose check digit holds."""
    return len(number) == 9 and number.isdigit() and (idnr.is_valid(number) or hp.is_valid(number))


def is_israeli(text: str) -> bool:
    return bool(ISRAELI_RE.search(lower(text)))


def read_tax_fields(text: str) -> TaxFields:
    """The Israeli fields of one document's text (its body and its PDFs' text); empty for a
    document that shows nothing Israeli."""
    fields = TaxFields()
    if not text or not is_israeli(text):
        return fields
    folded = lower(text)
    fields.document_type = document_type(folded)
    fields.supplier_tax_id = supplier_tax_id(text, folded)
    match = ALLOCATION_RE.search(folded)
    if match:
        fields.allocation_number = re.sub(r"\D", "", match.group("num"))[:30]
    fields.amount_before_vat = amount_before_vat(text)
    fields.vat_rate = vat_rate(folded)
    fields.is_copy = bool(COPY_RE.search(text)) and not NOT_COPY_RE.search(text[:2000])
    return fields


def tax_document_evidence(text: str) -> str:
    """Why ``text`` is an Israeli tax document whatever the recogniser's score ("" when it is not
    one): a document type named, a supplier's business number that passes its check digit, and an
    amount. A business's own footer ("ח.פ. 51...") with no document type is not enough."""
    if not text or not is_israeli(text):
        return ""
    fields = read_tax_fields(text)
    if not fields.document_type or not valid_tax_id(fields.supplier_tax_id):
        return ""
    if fields.amount_before_vat is None and not find_money(text[:20000]):
        return ""
    return (f"an Israeli tax document: {fields.document_type} ({CODES[fields.document_type]}) from business "
            f"number {fields.supplier_tax_id}")


def document_type(folded: str) -> str:
    """The type named first (a document's title comes before what it refers to: a receipt "for
    tax invoice 1234" is a receipt); at one place, the most specific name."""
    found = [(match.start(), rank, kind) for rank, (kind, pattern) in enumerate(TYPE_RES)
             if (match := pattern.search(folded))]
    return min(found)[2] if found else ""


def supplier_tax_id(text: str, folded: str) -> str:
    """The first business number printed with its label that is not the customer's."""
    found = ""
    for match in TAX_ID_RE.finditer(folded):
        line_start = folded.rfind("\n", 0, match.start()) + 1
        previous_start = folded.rfind("\n", 0, max(line_start - 1, 0)) + 1
        if CUSTOMER_RE.search(folded[previous_start:match.start()]):
            continue
        digits = re.sub(r"\D", "", match.group("num"))
        if len(digits) == 8:  # an eight-digit number is printed without its leading zero
            digits = "0" + digits
        if len(digits) != 9:
            continue
        if valid_tax_id(digits):
            return digits
        found = found or digits  # an invalid one is kept (and flagged) only if no valid one follows
    return found


def amount_before_vat(text: str) -> Decimal | None:
    return labelled_amount(text, NET_RE)


PERCENT_RE = re.compile(r"\d{1,2}(?:[.,]\d+)?\s*%")


def labelled_amount(text: str, label: re.Pattern[str]) -> Decimal | None:
    """The amount on the line of the first ``label`` that has one, or on the line after a label
    that ends its line (a table whose labels sit above their values)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not label.search(lower(line)):
            continue
        for candidate in (line, lines[index + 1] if index + 1 < len(lines) else ""):
            amounts = [m.amount for m in (find_money(candidate) or find_bare_amounts(candidate)) if m.amount != 0]
            if amounts:
                return amounts[-1]
            if candidate is line and re.search(r"\d", PERCENT_RE.sub("", line)):
                break  # the line has a number of its own (a date, say): not a label above its value
    return None


VAT_ONLY_RE = compile_lower(rf"^\s*(?:מע{G}מ|vat)\b[^a-z{HEB}]*$|^\s*(?:מע{G}מ|vat)\s*\(?\d{{1,2}}(?:[.,]\d+)?\s*%\)?\s*:?\s*$")


def vat_amount(text: str) -> Decimal | None:
    """The VAT amount of a table whose "מע"מ 18%" label sits above its value (the general reader
    takes a VAT amount on its label's line)."""
    return labelled_amount(text, VAT_ONLY_RE)


def vat_rate(folded: str) -> Decimal | None:
    match = RATE_RE.search(folded)
    if not match:
        return None
    try:
        rate = Decimal((match.group("a") or match.group("b")).replace(",", "."))
    except InvalidOperation:
        return None
    return rate.quantize(Decimal("0.01")) if Decimal(0) < rate < Decimal(50) else None


# --- checks ----------------------------------------------------------------------------------
# VAT in Israel by the day a document is dated: (from, rate).
VAT_RATES = [(date(2012, 9, 1), Decimal("17")), (date(2013, 6, 2), Decimal("18")), (date(2015, 10, 1), Decimal("17")),
             (date(2025, 1, 1), Decimal("18"))]
# A tax invoice above this amount before VAT needs an allocation number from the Tax Authority.
ALLOCATION_THRESHOLDS = [(date(2024, 5, 5), Decimal("25000")), (date(2025, 1, 1), Decimal("20000")),
                         (date(2026, 1, 1), Decimal("10000")), (date(2026, 6, 1), Decimal("5000"))]
ROUNDING = Decimal("0.10")  # net + VAT may differ from the total by rounding, per line
RATE_TOLERANCE = Decimal("0.3")  # percentage points, for a rate worked out from the amounts

CHECK_CODES = ["vat_mismatch", "vat_rate", "allocation_missing", "tax_id_invalid", "not_deductible", "copy_of_stored"]


def _in_force(table: list[tuple[date, Decimal]], day: date) -> Decimal | None:
    current = None
    for start, value in table:
        if day >= start:
            current = value
    return current


def vat_rate_on(day: date) -> Decimal | None:
    return _in_force(VAT_RATES, day)


def allocation_threshold_on(day: date) -> Decimal | None:
    return _in_force(ALLOCATION_THRESHOLDS, day)


@dataclass
class TaxValues:
    """What the checks look at: a receipt's stored (or corrected) values."""

    document_type: str = ""
    currency: str = ""
    amount: Decimal | None = None
    amount_before_vat: Decimal | None = None
    vat_amount: Decimal | None = None
    vat_rate: Decimal | None = None
    receipt_date: date | None = None
    allocation_number: str = ""
    supplier_tax_id: str = ""


def tax_checks(values: TaxValues) -> dict[str, str]:
    """The problems a bookkeeper would flag, as {code: reason}. ``copy_of_stored`` is decided
    where duplicates are (it needs the other receipts)."""
    problems: dict[str, str] = {}
    israeli = values.currency in {"", "ILS"} and bool(values.document_type or values.supplier_tax_id)
    net, vat, total = values.amount_before_vat, values.vat_amount, values.amount
    if net is not None and vat is not None and total is not None and abs(net + vat - total) > ROUNDING:
        problems["vat_mismatch"] = f"{net} before VAT + {vat} VAT = {net + vat}, not the total {total}"
    day = values.receipt_date
    in_force = vat_rate_on(day) if day else None
    if israeli and in_force is not None and vat is not None and vat != 0:
        rate = values.vat_rate
        worked_out = rate is None and net not in (None, Decimal(0))
        if worked_out and net is not None:
            rate = (vat / net * 100).quantize(Decimal("0.01"))
        if rate is not None and abs(rate - in_force) > (RATE_TOLERANCE if worked_out else Decimal("0.005")):
            how = "worked out from the amounts" if worked_out else "printed"
            problems["vat_rate"] = f"VAT at {rate}% ({how}); the rate on {day} was {in_force}%"
    threshold = allocation_threshold_on(day) if day else None
    if (israeli and day is not None and threshold is not None and values.document_type in TAX_INVOICES
            and not values.allocation_number):
        before_vat = net if net is not None else (total / (1 + in_force / 100) if total is not None and in_force else None)
        if before_vat is not None and abs(before_vat) > threshold:
            problems["allocation_missing"] = (f"a tax invoice of {before_vat.quantize(Decimal('0.01'))} before VAT on {day} "
                                              f"needs an allocation number (above {threshold} from "
                                              f"{_start(ALLOCATION_THRESHOLDS, day)}); without one its VAT cannot be deducted")
    if values.supplier_tax_id and not valid_tax_id(values.supplier_tax_id):
        problems["tax_id_invalid"] = f"business number {values.supplier_tax_id} fails its check digit"
    if values.document_type == RECEIPT:
        problems["not_deductible"] = ("a receipt (400) is not a tax invoice: the VAT in it cannot be deducted "
                                      "without the tax invoice")
    return problems


def _start(table: list[tuple[date, Decimal]], day: date) -> date:
    return max(start for start, _ in table if day >= start)
