"""Reading what a bookkeeper needs from a receipt: total, currency, VAT, number, date, vendor.

The total is the amount actually paid among the many a receipt prints (items, subtotal,
discount, tax, tip, shipping, an estimate before a grocery order was picked). The vendor is the
business that was paid, also when a payment or invoicing service sends the mail for it.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pycountry

from .datefinder import find_issue_date
from .money import MAX_AMOUNT, Money, find_bare_amounts, find_money
from .textcase import compile_lower, lower

G = "(?:\"|״|''|'|׳)?"
TOTAL_LINE_RE = compile_lower(
    r"(final (?:charge|amount(?: charged)?|total)|grand total|total paid|amount paid|total charged|paid amount|payment total|"
    r"order total|total amount|amount received|payment amount|total premium paid|balance paid|amount due|total due|"
    r"total\s*\(incl|total incl|invoice total|total price(?: paid)?|you paid|charged|total|amount|"
    rf"סה{G}כ(?:\s*(?:לתשלום|כולל מע{G}מ|ששולם|שולם|חויב|שחויב|לחיוב))?|סך הכל(?: לתשלום)?|לתשלום|ששולם|שולם|חויבת|חויב|"
    r"סכום(?: סופי)?(?: ה?\S+)?|החיוב הסופי|עלות(?: ה?\S+)?|"
    r"gesamtbetrag|gesamtsumme|rechnungsbetrag|endbetrag|zu zahlen|montant total|total ttc|net à payer|"
    r"totaal|te betalen|factuur totaal|total facture|importe total|total a pagar|totale|razem|do zapłaty|suma)",
)
NOT_TOTAL_RE = compile_lower(
    r"sub\s*-?total|subtotaal|zwischensumme|sous-total|item\(?s?\)? ?subtotal|item total|before tax|excl|exclusief|net amount|"
    r"netto|\bht\b|hors taxe|tax\b|vat\b|mwst|tva\b|btw\b|"
    rf"מע{G}מ(?!\s*\))|לפני מע|discount|korting|rabatt|remise|הנחה|shipping|משלוח|savings|you saved|lowest price|"
    r"promotional|estimate|משוער|לפני ליקוט|original|minimum|\btip\b|\bfee\b|דמי|coupon|קופון",
)
FINAL_TOTAL_RE = compile_lower(r"final|סופי|הסופי")
STRONG_TOTAL_RE = compile_lower(
    r"grand total|total paid|amount paid|total charged|paid amount|order total|invoice total|you paid|amount received|"
    r"payment amount|premium paid|balance paid|total price|ששולם|שולם|חויב|שחויב|לתשלום|לחיוב|סכום ה|סכום החיוב|"
    r"gesamtbetrag|rechnungsbetrag|endbetrag|total ttc|montant total|factuur totaal|total facture|te betalen|do zapłaty",
)
VAT_LINE_RE = compile_lower(rf"(?:\bvat\b|\btax\b|מע{G}מ|mwst|ust\.?|tva)")
NOT_VAT_AMOUNT_RE = compile_lower(r"incl|כולל|excl|before|without|לפני|ללא|בלי|%\s*$")
INVOICE_NO_RE = compile_lower(
    r"(?:(?:tax\s+)?invoice|receipt|order|rechnung|facture|חשבונית(?:\s+מס)?(?:\s*/\s*קבלה)?|קבלה)\s*"
    r"(?:number|no\.?|num\.?|#|nr\.?|n°|מספר|מס['׳]?)\s*[:#.]?\s*(?P<num>[a-z0-9][a-z0-9\-/_.]{2,30})",
)
GENERIC_NAMES = re.compile(
    r"^(no[-_ ]?reply|do[-_ ]?not[-_ ]?reply|billing|invoices?|receipts?|payments?|accounts?|support|info|"
    r"notifications?|orders?|service|team|customer service|mailer|sales|transactions?|הנהלת חשבונות|שירות לקוחות)$",
    re.IGNORECASE,
)
HEBREW_RE = re.compile(r"[\u0590-\u05FF]")
EARLIEST_DATE = date(1990, 1, 1)

# Services that send mail for the business that was paid: their own name is not the vendor.
PAYMENT_SERVICES = re.compile(
    r"@([\w.-]+\.)?(stripe\.com|squareup\.com|square\.com|paddle\.com|paypal\.com|lemonsqueezy\.com|shopifyemail\.com|"
    r"xero\.com|intuit\.com|freshbooks\.com|greeninvoice\.co\.il|morning\.co|icount\.co\.il|ezcount\.co\.il|invoice4u\.co\.il|"
    r"rivhit\.co\.il|sumit\.co\.il|cardcom\.co\.il|tranzila\.com|meshulam\.co\.il|payplus\.co\.il|venmo\.com|wise\.com|"
    r"bit\.co\.il|payboxapp\.com|pepper\.co\.il|jgive\.com|payments\.gov\.il)$",
    re.IGNORECASE,
)
SERVICE_NAMES = {"cash app", "paypal", "venmo", "wise", "bit", "paybox", "pepper pay", "morning", "ezcount", "jgive",
                 "square", "stripe", "paddle", "paddle.com", "xero", "quickbooks", "freshbooks", "green invoice",
                 "חשבונית ירוקה", "שירות התשלומים הממשלתי"}
# Where the body names the business that was paid, when a service sent the mail (linear patterns:
# bounded repeats, no unbounded run at a line's start).
PAID_TO_PATTERNS = [
    re.compile(r"on behalf of ([^\n.,]{2,60})", re.IGNORECASE),
    re.compile(r"\breceipt from ([A-Z][^\n.#]{1,60}?)(?:[ \t]+#|[ \t]*$|\.)", re.MULTILINE),
    re.compile(r"\byou (?:sent|paid)(?: a payment of)? [^\n]{0,30}?\bto ([^\n.]{2,60})", re.IGNORECASE),
    re.compile(r"\btransfer to ([^\n.]{2,60}?) is complete", re.IGNORECASE),
    re.compile(r"\byou paid ([^\n$₪€£\d]{2,60}?)(?:[ \t]*[$₪€£\d]|[ \t]*$)", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^([^\n]{2,50}?) sent you (?:a|an) (?:receipt|invoice)", re.MULTILINE),
    re.compile(r"שלחת [^\n]{1,30}? ל([^\n.]{2,40}?)(?: באמצעות|\.|$)", re.MULTILINE),
    re.compile(r"שילמת [^\n]{1,30}? בקבוצה ([^\n.]{2,40})"),
    re.compile(r"שולם ל([^\n:]{2,40}):"),
    re.compile(r"תרומתך [^\n]{0,30}?ל(עמותת [^\n]{2,30}?) התקבלה"),
    re.compile(r"^([^\n]{2,50}?) (?:שלחו|שלח/ה|שלח|שלחה) לך", re.MULTILINE),
    re.compile(r"מסמך מאת ([^\n]{2,50})"),
]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _line_pairs(text: str) -> list[tuple[str, str]]:
    """The text's non-blank lines, stripped, each beside its lower-cased twin (see textcase)."""
    return [(line, lower(line)) for line in _lines(text)]


def labelled_totals(text: str) -> tuple[list[Money], list[Money], list[Money]]:
    """Amounts beside a total label: (final charges, strong totals, other totals), each in order."""
    lines = _line_pairs(text)
    final: list[Money] = []
    strong: list[Money] = []
    weak: list[Money] = []
    for index, (line, folded) in enumerate(lines):
        label = TOTAL_LINE_RE.search(folded)
        if not label or NOT_TOTAL_RE.search(folded[: label.end() + 15]):
            continue
        after = line[label.start():]
        with_currency = find_money(after)
        candidates = with_currency or find_bare_amounts(after)
        # The amount on the next line only when the label ends its line ("Total:" then "$12.00"),
        # not after a sentence that merely starts with a label word ("Paid with Visa").
        if not candidates and index + 1 < len(lines) and not line[label.end():].strip(" :.-\u200f\u200e"):
            following = lines[index + 1][0]
            if not TOTAL_LINE_RE.search(lines[index + 1][1]):
                candidates = find_money(following) or find_bare_amounts(following)
        if not candidates:
            continue
        chosen = candidates[-1] if len(candidates) > 1 and not with_currency else candidates[0]
        words = label.group(0)
        if FINAL_TOTAL_RE.search(folded[: label.end()]):
            final.append(chosen)
        elif STRONG_TOTAL_RE.search(words):
            strong.append(chosen)
        else:
            weak.append(chosen)
    return final, strong, weak


def pick_total(text: str) -> Money | None:
    """The total actually paid: the last final charge, else the largest strong total, else the
    largest other total, else the largest amount with a currency."""
    final, strong, weak = labelled_totals(text)
    if final:
        return final[-1]
    for group in (strong, weak):
        if group:
            return max(group, key=lambda m: m.amount)
    money = find_money(text)
    if money:
        return max(money, key=lambda m: m.amount)
    return None


def pick_vat(text: str) -> Decimal | None:
    for line, folded in _line_pairs(text):
        if VAT_LINE_RE.search(folded) and not NOT_VAT_AMOUNT_RE.search(folded):
            amounts = [m for m in find_money(line) or find_bare_amounts(line) if m.amount > 0]
            if amounts:
                return amounts[-1].amount
    return None


def find_invoice_number(text: str) -> str:
    """The invoice, receipt or order number written after its label, as written; "" when none."""
    match = INVOICE_NO_RE.search(lower(text))
    return text[match.start("num"):match.end("num")] if match else ""


def pick_date(text: str, *, prefer_dayfirst: bool) -> date | None:
    return find_issue_date(text, dayfirst=prefer_dayfirst)


def default_currency(text: str, sender_email: str) -> str:
    if HEBREW_RE.search(text) or sender_email.endswith(".il"):
        return "ILS"
    return ""


def prefers_dayfirst(text: str, currency: str) -> bool:
    return currency != "USD" or bool(HEBREW_RE.search(text))


NAME_LIMIT = 300  # a display name longer than this is cut before any pattern reads it


def _display_name(sender_name: str) -> str:
    name = sender_name[:NAME_LIMIT]
    name = re.sub(r"\s+(via|from|by|באמצעות)\s+.*$", "", name, flags=re.IGNORECASE).strip()
    name = re.sub(r"\s*[-|:]\s*(billing|receipts?|invoices?|payments?|orders?|no-?reply|notifications?)\s*$", "", name,
                  flags=re.IGNORECASE)
    name = re.sub(r"^(billing|receipts?|invoices?|payments?|orders?)\s*(from|@)?\s*[-|:]?\s*", "", name, flags=re.IGNORECASE)
    return clean_vendor_name(name.strip())


def _is_service_name(name: str, sender_email: str) -> bool:
    folded = name.casefold()
    domain = sender_email.rsplit("@", 1)[-1].casefold()
    words = [w for w in re.split(r"[\s.]+", folded) if len(w) >= 3]
    return folded in SERVICE_NAMES or "@" in name or any(w in domain for w in words)


def paid_to(text: str) -> str:
    """The business a payment or invoicing service's mail says was paid; "" when it names none."""
    for pattern in PAID_TO_PATTERNS:
        match = pattern.search(text)
        if match:
            name = clean_vendor_name(match.group(1).strip(" :-"))
            if name and len(name) <= 60:
                return name
    return ""


def pick_vendor(sender_name: str, sender_email: str, text: str) -> str:
    """The business that was paid: the sender's display name, unless the mail was sent by a
    payment or invoicing service (then the business it names), else the sender's domain."""
    name = _display_name(sender_name)
    if PAYMENT_SERVICES.search(sender_email) and (not name or _is_service_name(name, sender_email)):
        named = paid_to(text)
        if named:
            return named[:300]
    if name and not GENERIC_NAMES.match(name) and "@" not in name:
        return name[:300]
    match = re.search(r"(?:thank you for (?:shopping|your purchase|your order) (?:at|with)|thanks for (?:shopping|choosing) "
                      r"(?:at|with)?)\s+([A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})", text)
    if match:
        return match.group(1).rstrip(".")
    named = paid_to(text)
    if named:
        return named[:300]
    domain = sender_email.split("@")[-1] if "@" in sender_email else ""
    parts = [p for p in domain.split(".") if p not in {"com", "co", "il", "org", "net", "io", "uk", "de", "mail", "email", "e",
                                                        "billing", "info", "news", "app"}]
    return parts[-1].capitalize() if parts else ""


VENDOR_SUFFIX_RE = re.compile(
    r"(?:[\s,]+(?:receipts?|billing|invoices?|payments?|transactions|online|inc\.?|ltd\.?|llc|gmbh|ag|s\.?a\.?|b\.?v\.?|plc|"
    r"בע[\"״']?מ|אונליין|team|support|customer service|store))+$",
    re.IGNORECASE,
)


def clean_vendor_name(name: str) -> str:
    """The business as a person names it: "Uber Receipts" -> "Uber", "Acme Inc." -> "Acme"."""
    cleaned = name[:NAME_LIMIT].strip().strip('"\'')
    for _ in range(3):
        shorter = VENDOR_SUFFIX_RE.sub("", cleaned).strip(" ,-|")
        if shorter == cleaned or not shorter:
            break
        cleaned = shorter
    return cleaned


def is_iso_currency(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def sane_amount(amount: Decimal | None) -> bool:
    """Whether ``amount`` fits the database's numeric(12,2) and is a number at all."""
    return amount is not None and amount.is_finite() and abs(amount) <= MAX_AMOUNT


def sane_date(day: date | None, today: date) -> bool:
    return day is not None and EARLIEST_DATE <= day <= date(today.year + 1, today.month, min(today.day, 28))
