"""Deciding whether a message is a receipt or invoice, and reading what a bookkeeper needs from it.

The decision is a weighted score over evidence a person would use (subject, sender, body,
attachments, PDF text), with the reasons kept so a reviewer can see why. Mail that talks about
money without being a receipt (shipping notices, newsletters and sales, security and settings
notices, bank statements) carries negative evidence.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import re2

from .datefinder import find_issue_date
from .einvoice import embedded_invoice
from .money import Money, find_bare_amounts, find_money, has_money
from .parsing import ParsedEmail
from .textcase import compile_lower, lower, require_lower

THRESHOLD = 50

SUBJECT_POSITIVE = [
    (r"\b(tax\s+)?invoice\b|\binv[-# ]?\d", 40, "subject says invoice"),
    (r"\breceipt\b", 40, "subject says receipt"),
    (r"payment (received|confirmation|successful|confirmed)|thank you for your payment|we received your payment", 35, "subject confirms a payment"),
    (r"order (confirmation|confirmed|receipt)|your order\b.*\b(confirmed|placed)|thanks for your (order|purchase)|purchase confirmation", 30, "subject confirms an order"),
    (r"your (bill|statement of charges)|billing statement|subscription (renewed|renewal)|renewal receipt", 25, "subject is a bill"),
    (r"חשבונית|קבלה|אישור תשלום|אישור הזמנה|תודה על (רכישתך|הזמנתך|התשלום)|חיוב", 40, "subject names a receipt in Hebrew"),
    (r"\b(rechnung|quittung|facture|factuur|factura|fattura|ricevuta|reçu|kvittering|faktura)\b", 40, "subject names an invoice in another language"),
    (r"you sent a payment|payment sent|you paid|you've paid|your payment to|trip with|your (\w+ )?(ride|trip) (receipt|with)", 35, "subject confirms a payment or ride"),
]
BODY_POSITIVE = [
    (r"\b(amount paid|total paid|total charged|payment total|grand total|order total|amount due|total due|balance paid)\b", 20, "body states a total paid"),
    (r"\b(invoice|receipt) (number|no\.?|#)|\border (number|no\.?|#)", 15, "body has an invoice or order number"),
    (r"rechnungsnummer|rechnungsbetrag|gesamtbetrag|factuurnummer|numéro de facture|montant total|totaal bedrag|"
     r"transaction id|thanks for riding", 15, "body has invoice terms"),
    (r"\border confirmation\b|\bthank you for (your order|your purchase|shopping with us)\b", 15, "body confirms an order"),
    (r"\b(payment method|paid with|charged to|visa|mastercard|amex|paypal)\b.{0,40}(\d{4}|paypal)", 10, "body names the payment method"),
    (r"סה[\"״']?כ|סך הכל|לתשלום|שולם|חשבונית מס|מספר קבלה|מס['׳] קבלה|אמצעי תשלום", 20, "body has Hebrew receipt terms"),
    (r"\bvat\b|\bmwst\b|\btva\b|מע[\"״]?מ", 5, "body mentions VAT"),
]
NEGATIVE = [
    (r"\b(has shipped|have shipped|is on (its|the) way|out for delivery|was delivered|has been delivered|track(ing)? (your )?(package|order|shipment)|tracking number|delivery (update|attempt|notification)|shipment)\b", -45, "shipping or delivery notice"),
    (r"משלוח(ך)? (בדרך|נשלח|יצא)|החבילה|מעקב משלוח|נמסר", -40, "Hebrew shipping notice"),
    (r"\b(unsubscribe|newsletter|view (this email )?in (your )?browser|% off|sale ends|shop now|limited time|deal of the|new arrivals)\b|הסרה מרשימת|להסרה|מבצע", -30, "newsletter or sale"),
    (r"\b(password reset|reset your password|verify your (email|account)|security alert|new sign-in|sign-in attempt|two-factor|verification code)\b|איפוס סיסמה|קוד אימות", -60, "account or security notice"),
    (r"\breceipt (settings|preferences)\b|\b(settings|preferences) (have|has) (been )?changed\b|\bupdate your (billing|payment) (info|details|method)\b", -60, "settings notice"),
    (r"\b(statement is (now )?available|account balance|your balance|low balance|direct deposit|wire transfer received|deposit received)\b|יתרה|דף חשבון", -35, "bank notice"),
    (r"\b(quote|estimate|proposal|price list|abandoned|still in your cart|left in your cart|wishlist|back in stock|price drop)\b|הצעת מחיר", -40, "offer, not a purchase"),
    (r"\b(claim your (prize|reward)|you have won|you('ve| have) been selected|lottery|jackpot|inheritance|"
     r"wire the fee|bitcoin opportunity)\b", -60, "spam or scam"),
    (r"\b(payment (failed|declined)|card was declined|unable to process your payment|upcoming (payment|charge)|will be charged|payment reminder|invoice (is )?due soon)\b", -45, "not a completed payment"),
]
QUOTE_RE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)
FORWARD_RE = re.compile(r"^\s*(?:-{2,}\s*(?:forwarded message|הודעה שהועברה)\s*-{2,}|begin forwarded message:)", re.IGNORECASE | re.MULTILINE)
FORWARD_MARKERS = ("forwarded message", "הודעה שהועברה")
FORWARD_PREFIX_RE = re.compile(r"^\s*(fwd?|הועבר)\s*:\s*", re.IGNORECASE)
FORWARD_FROM_RE = re.compile(r"^\s*(?:from|מאת)\s*:\s*(?P<name>[^<\n]*?)\s*<?(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>?\s*$", re.IGNORECASE | re.MULTILINE)
FORWARD_SUBJECT_RE = re.compile(r"^\s*(?:subject|נושא)\s*:\s*(?P<subject>.+)$", re.IGNORECASE | re.MULTILINE)
TOTAL_LINE_RE = compile_lower(
    r"(grand total|total paid|amount paid|total charged|payment total|order total|total amount|amount due|total due|"
    r"total\s*\(incl|total incl|invoice total|balance paid|you paid|charged|total|"
    r"סה[\"״']?כ(?:\s*(?:לתשלום|כולל מע[\"״']?מ|לתשלום כולל מע[\"״']?מ|שולם))?|סך הכל(?: לתשלום)?|לתשלום|שולם|"
    r"gesamtbetrag|gesamtsumme|rechnungsbetrag|endbetrag|zu zahlen|montant total|total ttc|net à payer|"
    r"totaal|te betalen|factuur totaal|total facture|importe total|total a pagar|totale|razem|do zapłaty|suma)",
)
NOT_TOTAL_RE = compile_lower(
    r"sub\s*-?total|subtotaal|zwischensumme|sous-total|before tax|excl|exclusief|net amount|netto|\bht\b|hors taxe|"
    r"tax\b|vat\b|mwst|tva\b|btw\b|מע[\"״']?מ(?!\s*\))|discount|korting|rabatt|remise|הנחה|shipping|משלוח|savings|you saved|"
    r"lowest price|promotional",
)
STRONG_TOTAL_RE = compile_lower(
    r"grand total|total paid|amount paid|total charged|order total|invoice total|you paid|לתשלום|שולם|gesamtbetrag|"
    r"rechnungsbetrag|endbetrag|total ttc|montant total|factuur totaal|total facture|te betalen|do zapłaty",
)
VAT_LINE_RE = compile_lower(r"(?:\bvat\b|\btax\b|מע[\"״']?מ|mwst|ust\.?|tva)")
NOT_VAT_AMOUNT_RE = compile_lower(r"incl|כולל|excl|before|לפני|%\s*$")
INVOICE_NO_RE = compile_lower(
    r"(?:(?:tax\s+)?invoice|receipt|order|rechnung|facture|חשבונית(?:\s+מס)?(?:\s*/\s*קבלה)?|קבלה)\s*"
    r"(?:number|no\.?|num\.?|#|nr\.?|n°|מספר|מס['׳]?)\s*[:#.]?\s*(?P<num>[a-z0-9][a-z0-9\-/_.]{2,30})",
)
GENERIC_NAMES = re.compile(
    r"^(no[-_ ]?reply|do[-_ ]?not[-_ ]?reply|billing|invoices?|receipts?|payments?|accounts?|support|info|"
    r"notifications?|orders?|service|team|customer service|mailer|sales|הנהלת חשבונות|שירות לקוחות)$",
    re.IGNORECASE,
)
HEBREW_RE = re.compile(r"[\u0590-\u05FF]")


@dataclass
class Recognition:
    is_receipt: bool
    confidence: int
    reasons: list[str] = field(default_factory=list)
    vendor: str = ""
    amount: Decimal | None = None
    currency: str = ""
    receipt_date: date | None = None
    invoice_number: str = ""
    vat_amount: Decimal | None = None
    forwarded: bool = False


class Rules:
    """Weighted rules, all looked for in one pass over a text.

    RE2 matches every rule of the set at once, in time linear in the text, where Python's
    ``re`` would scan the text again for each rule (a long HTML receipt costs 40x more that
    way). Rules match lower-cased text (see ``_score``), so they are written in lower case.
    RE2's ``\\b`` and ``\\w`` are ASCII-only: an English word written against a Hebrew
    letter still counts as a word.
    """

    def __init__(self, rules: list[tuple[str, int, str]]) -> None:
        options = re2.Options()
        options.max_mem = 32 << 20  # room for the DFA of a large set
        self._set = re2.Set.SearchSet(options)
        for pattern, _, reason in rules:
            self._set.Add(require_lower(pattern, f"rule {reason!r}"))
        self._set.Compile()
        self.rules = [(weight, reason) for _, weight, reason in rules]

    def found(self, text: str) -> list[tuple[int, str]]:
        """The (weight, reason) of every rule found in ``text``, in the order they are listed."""
        return [self.rules[i] for i in sorted(self._set.Match(text) or ())]

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter(self.rules)


SUBJECT_RULES = Rules(SUBJECT_POSITIVE)
BODY_RULES = Rules(BODY_POSITIVE)
NEGATIVE_RULES = Rules(NEGATIVE)
PDF_RULES = Rules([
    (r"\b(invoice|receipt|rechnung|facture|factura)\b|חשבונית|קבלה", 25, "PDF text names an invoice or receipt"),
    (r"\btotal\b|gesamt|montant|סה[\"״']?כ|לתשלום", 10, "PDF text has a total"),
])
PDF_RULES_MAX = sum(weight for weight, _ in PDF_RULES)
PDF_NAME_WEIGHT = 30
AMOUNT_WEIGHT = 10
PDF_NAME_RE = re.compile(r"invoice|receipt|rechnung|facture|factura|bill|חשבונית|קבלה", re.IGNORECASE)


def _score(rules: Rules, text: str, reasons: list[str], label: str) -> int:
    """The summed weight of the rules found in ``text``, which the caller has lower-cased."""
    total = 0
    for weight, reason in rules.found(text):
        total += weight
        reasons.append(f"{reason} ({label}, {weight:+d})")
    return total


def recognise(parsed: ParsedEmail, *, exhaustive: bool = False) -> Recognition:
    """Weigh the evidence. Mail that cannot reach the threshold is answered as soon as that is
    certain; ``exhaustive`` weighs everything anyway, for a full list of reasons."""
    reasons: list[str] = []
    body = parsed.body
    folded = lower(body)
    subject = parsed.subject
    sender_name, sender_email = parsed.sender_name, parsed.sender_email
    forwarded = bool(FORWARD_PREFIX_RE.match(subject))
    # FORWARD_RE cannot match without one of these words: most mail skips un-quoting.
    if forwarded or any(marker in folded for marker in FORWARD_MARKERS):
        unquoted = QUOTE_RE.sub("", body)
        forwarded = forwarded or bool(FORWARD_RE.search(unquoted))
    if forwarded:
        inner_from = FORWARD_FROM_RE.search(unquoted)
        if inner_from:
            sender_name, sender_email = inner_from.group("name").strip().strip('"'), inner_from.group("email").lower()
        inner_subject = FORWARD_SUBJECT_RE.search(unquoted)
        subject = FORWARD_PREFIX_RE.sub("", inner_subject.group("subject") if inner_subject else subject)
        reasons.append("forwarded message: read the original sender and subject")
    subject_lower, body_lower = subject.lower(), folded[:20000]
    score = _score(SUBJECT_RULES, subject_lower, reasons, "subject")
    score += _score(BODY_RULES, body_lower, reasons, "body")
    pdfs = parsed.pdfs
    for attachment in pdfs:
        if PDF_NAME_RE.search(attachment.filename):
            score += PDF_NAME_WEIGHT
            reasons.append(f"PDF named like an invoice: {attachment.filename} (+{PDF_NAME_WEIGHT})")
            break
    # Everything still to weigh either lowers the score (negative evidence) or adds at most the PDF
    # text's and an amount's weight. When even that cannot reach the threshold, the answer is known:
    # most mail stops here, before its PDFs are read or its amounts looked for.
    if not exhaustive and score + (PDF_RULES_MAX if pdfs else 0) + AMOUNT_WEIGHT < THRESHOLD:
        reasons.append("too little receipt evidence to reach the threshold")
        return Recognition(is_receipt=False, confidence=max(0, min(100, score)), reasons=reasons,
                           forwarded=forwarded)
    negative = _score(NEGATIVE_RULES, f"{subject_lower}\n{body_lower}", reasons, "content")
    score += negative
    if pdfs and parsed.pdf_text.strip():
        score += _score(PDF_RULES, parsed.pdf_text[:20000].lower(), reasons, "pdf")
    text_for_money = "\n".join(x for x in (body, parsed.pdf_text) if x)
    structured = next((inv for inv in (embedded_invoice(a.data) for a in pdfs) if inv and inv.total is not None), None)
    if structured is not None:
        score += AMOUNT_WEIGHT
        reasons.append(f"a PDF carries an e-invoice (ZUGFeRD/Factur-X) with its total (+{AMOUNT_WEIGHT})")
    elif has_money(text_for_money[:50000]):
        score += AMOUNT_WEIGHT
        reasons.append(f"mentions an amount with a currency (+{AMOUNT_WEIGHT})")
    elif score > 0:
        score -= 15
        reasons.append("no amount with a currency (-15)")
    if negative <= -40 and score < 70:
        score = min(score, THRESHOLD - 1)
    confidence = max(0, min(100, score))
    result = Recognition(is_receipt=confidence >= THRESHOLD, confidence=confidence, reasons=reasons, forwarded=forwarded)
    if not result.is_receipt:
        return result
    _extract(parsed, result, text_for_money, subject, sender_name, sender_email)
    if structured is not None:  # the invoice itself, as data: it wins over what the text seemed to say
        result.amount = structured.total
        result.currency = structured.currency or result.currency
        result.receipt_date = structured.issue_date or result.receipt_date
        result.invoice_number = structured.number[:100] or result.invoice_number
        result.vat_amount = structured.vat if structured.vat is not None else result.vat_amount
        result.vendor = result.vendor or clean_vendor_name(structured.seller)
    return result


def _extract(parsed: ParsedEmail, result: Recognition, text: str, subject: str, sender_name: str, sender_email: str) -> None:
    total = pick_total(text)
    if total is not None:
        result.amount, result.currency = total.amount, total.currency
        if not result.currency:
            result.currency = _default_currency(text, parsed)
    result.vat_amount = pick_vat(text)
    result.invoice_number = find_invoice_number(f"{subject}\n{text}").rstrip(".-/")
    result.receipt_date = pick_date(text, prefer_dayfirst=_prefers_dayfirst(text, result.currency)) or (
        parsed.date.date() if parsed.date else None
    )
    result.vendor = pick_vendor(sender_name, sender_email, text)


def _default_currency(text: str, parsed: ParsedEmail) -> str:
    if HEBREW_RE.search(text) or parsed.sender_email.endswith(".il"):
        return "ILS"
    return ""


def _prefers_dayfirst(text: str, currency: str) -> bool:
    return currency != "USD" or bool(HEBREW_RE.search(text))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _line_pairs(text: str) -> list[tuple[str, str]]:
    """The text's non-blank lines, stripped, each beside its lower-cased twin (see textcase)."""
    return [(line, lower(line)) for line in _lines(text)]


def pick_total(text: str) -> Money | None:
    """The total actually paid: the last strong total line, else the last total line, else the largest amount."""
    lines = _line_pairs(text)
    strong: list[Money] = []
    weak: list[Money] = []
    for index, (line, folded) in enumerate(lines):
        label = TOTAL_LINE_RE.search(folded)
        if not label or NOT_TOTAL_RE.search(folded[: label.end() + 15]):
            continue
        after = line[label.start():]
        candidates = find_money(after) or find_bare_amounts(after)
        if not candidates and index + 1 < len(lines):
            following = lines[index + 1][0]
            candidates = find_money(following) or find_bare_amounts(following)
        if not candidates:
            continue
        (strong if STRONG_TOTAL_RE.search(label.group(0)) else weak).append(candidates[-1] if len(candidates) > 1 and not find_money(after) else candidates[0])
    for group in (strong, weak):
        if group:
            best = max(group, key=lambda m: m.amount)
            return best
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


def pick_vendor(sender_name: str, sender_email: str, text: str) -> str:
    name = re.sub(r"\s*(via|from|by)\s+.*$", "", sender_name, flags=re.IGNORECASE).strip()
    name = re.sub(r"\s*[-|:]\s*(billing|receipts?|invoices?|payments?|orders?|no-?reply|notifications?)\s*$", "", name, flags=re.IGNORECASE)
    name = re.sub(r"^(billing|receipts?|invoices?|payments?|orders?)\s*(from|@)?\s*[-|:]?\s*", "", name, flags=re.IGNORECASE).strip()
    processor = re.search(r"you sent [^\n]*? to ([^\n.]{2,60})|^\s*merchant:?\s+([^\n]{2,60})$", text, re.IGNORECASE | re.MULTILINE)
    if processor and re.search(r"paypal|payoneer|bit\.ly|paybox|wise", sender_email + " " + sender_name, re.IGNORECASE):
        return clean_vendor_name((processor.group(1) or processor.group(2)).strip())
    name = clean_vendor_name(name)
    if name and not GENERIC_NAMES.match(name) and "@" not in name:
        return name[:300]
    match = re.search(r"(?:thank you for (?:shopping|your purchase|your order) (?:at|with)|thanks for (?:shopping|choosing) (?:at|with)?)\s+([A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})", text)
    if match:
        return match.group(1).rstrip(".")
    domain = sender_email.split("@")[-1] if "@" in sender_email else ""
    parts = [p for p in domain.split(".") if p not in {"com", "co", "il", "org", "net", "io", "uk", "de", "mail", "email", "e", "billing", "info", "news", "app"}]
    return parts[-1].capitalize() if parts else ""


VENDOR_SUFFIX_RE = re.compile(
    r"(?:[\s,]+(?:receipts?|billing|invoices?|payments?|online|inc\.?|ltd\.?|llc|gmbh|ag|s\.?a\.?|b\.?v\.?|plc|"
    r"בע[\"״']?מ|אונליין|team|support|customer service|store))+$",
    re.IGNORECASE,
)


def clean_vendor_name(name: str) -> str:
    """The business as a person names it: "Uber Receipts" -> "Uber", "Acme Inc." -> "Acme"."""
    cleaned = name.strip().strip('"\'')
    for _ in range(3):
        shorter = VENDOR_SUFFIX_RE.sub("", cleaned).strip(" ,-|")
        if shorter == cleaned or not shorter:
            break
        cleaned = shorter
    return cleaned
