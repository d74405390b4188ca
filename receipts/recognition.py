"""Deciding whether a message is a receipt or invoice, and reading what a bookkeeper needs from it.

A short pipeline of named steps:

1. ``read``: the message as a person reads it (a forward's original sender and subject).
2. ``evidence``: which features of ``receipts.features`` it has (the PDF's text only when it
   could change the answer).
3. ``decide``: a logistic model weighs them (``receipts/model.json``, trained by
   ``manage.py train_recogniser``); the verdict keeps each feature's weight as its reason.
4. ``extract`` (receipts only): total, currency, VAT, number, date, vendor.
5. ``sanitise``: a value the database cannot hold (an amount beyond numeric(12,2), a currency
   that is not ISO 4217, a date out of range) is dropped with a reason, never written.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from . import extraction
from .einvoice import EInvoice, embedded_invoice
from .extraction import clean_vendor_name, find_invoice_number, pick_total, pick_vat  # noqa: F401  (the module's API)
from .features import FIELDS, PDF_TEXT_FEATURES, REASONS, FieldPatterns, add_broad
from .israeli import CREDIT_NOTE, is_israeli, read_tax_fields, tax_document_evidence
from .israeli import vat_amount as israeli_vat_amount
from .money import Money, find_money
from .parsing import ParsedEmail, decode_header
from .textcase import lower

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
BODY_LIMIT = 20000
MONEY_LIMIT = 50000
QUOTE_RE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)
# Line-start patterns take [ \t]*, never \s*: under MULTILINE \s* would run across blank lines
# from every line start, a cost that grows with the square of a run of blank lines.
FORWARD_RE = re.compile(r"^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|הודעה שהועברה|original message)[ \t]*-{2,}|begin forwarded message:)",
                        re.IGNORECASE | re.MULTILINE)
FORWARD_MARKERS = ("forwarded message", "הודעה שהועברה", "original message")
FORWARD_PREFIX_RE = re.compile(r"^[ \t]*(fwd?|fw|הועבר)[ \t]*:[ \t]*", re.IGNORECASE)
FORWARD_FROM_RE = re.compile(r"^[ \t]*(?:from|מאת)[ \t]*:[ \t]*(?P<name>[^<\n]{0,200}?)[ \t]*<?(?P<email>[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8})>?[ \t\r]*$",
                             re.IGNORECASE | re.MULTILINE)
FORWARD_SUBJECT_RE = re.compile(r"^[ \t]*(?:subject|נושא)[ \t]*:[ \t]*(?P<subject>[^\n]+)$", re.IGNORECASE | re.MULTILINE)


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
    # Israeli tax documents' fields (receipts/israeli.py); empty for a document that shows none.
    document_type: str = ""
    supplier_tax_id: str = ""
    allocation_number: str = ""
    amount_before_vat: Decimal | None = None
    vat_rate: Decimal | None = None
    is_copy: bool = False
    forwarded: bool = False
    features: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Model:
    """Logistic regression over binary features: P(receipt) = sigmoid(bias + sum of weights)."""
    bias: float
    weights: dict[str, float]

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        data = json.loads(path.read_text("utf-8"))
        return cls(bias=float(data["bias"]), weights={k: float(v) for k, v in data["weights"].items()})

    def logit(self, features: frozenset[str] | set[str]) -> float:
        return self.bias + sum(self.weights.get(name, 0.0) for name in features)

    def most_from(self, names: frozenset[str]) -> float:
        """The most that features among ``names`` could add to the logit."""
        return sum(max(0.0, self.weights.get(name, 0.0)) for name in names)


@lru_cache(maxsize=1)
def default_model() -> Model:
    return Model.load()


@dataclass
class Reading:
    """The message as the recogniser reads it: a forward is read for its original sender and subject."""
    parsed: ParsedEmail
    subject: str
    body: str
    sender_name: str
    sender_email: str
    forwarded: bool


@dataclass
class Evidence:
    features: set[str]
    money: list[Money]
    text_for_money: str
    invoice: EInvoice | None = None


def read(parsed: ParsedEmail) -> Reading:
    body = parsed.body
    subject = parsed.subject
    sender_name, sender_email = parsed.sender_name, parsed.sender_email
    forwarded = bool(FORWARD_PREFIX_RE.match(subject))
    folded = lower(body[:BODY_LIMIT])
    if forwarded or any(marker in folded for marker in FORWARD_MARKERS):
        unquoted = QUOTE_RE.sub("", body)
        forwarded = forwarded or bool(FORWARD_RE.search(unquoted))
        if forwarded:
            inner_from = FORWARD_FROM_RE.search(unquoted)
            if inner_from:
                name = inner_from.group("name").strip().strip('"')
                sender_name, sender_email = decode_header(name) if "=?" in name else name, inner_from.group("email").lower()
            inner_subject = FORWARD_SUBJECT_RE.search(unquoted)
            subject = FORWARD_PREFIX_RE.sub("", inner_subject.group("subject").strip() if inner_subject else subject)
    return Reading(parsed, subject, body, sender_name, sender_email, forwarded)


def _found(patterns: FieldPatterns, text: str) -> list[str]:
    return patterns.found(text) if text else []


def evidence(reading: Reading, fields: dict[str, FieldPatterns] = FIELDS) -> Evidence:
    """Every feature but those of the PDF's text (see ``pdf_evidence``)."""
    parsed = reading.parsed
    subject, body = lower(reading.subject), lower(reading.body[:BODY_LIMIT])
    found = set(_found(fields["subject"], subject))
    found.update(_found(fields["body"], body))
    found.update(_found(fields["content"], f"{subject}\n{body}"))
    found.update(_found(fields["sender"], f"{reading.sender_name} <{reading.sender_email}>".lower()))
    pdfs = parsed.pdfs
    if pdfs:
        found.add("pdf_attached")
        found.update(_found(fields["pdf_name"], lower(" ".join(a.filename for a in pdfs))))
    if reading.forwarded:
        found.add("forwarded")
    money = find_money(reading.body[:MONEY_LIMIT])
    if money:
        found.add("money")
        if len(money) >= 3:
            found.add("many_amounts")
        if "total_word" in found and any(extraction.labelled_totals(reading.body[:MONEY_LIMIT])):
            found.add("total_with_amount")
    elif not pdfs:
        found.add("no_amount")
    add_broad(found)
    return Evidence(found, money, reading.body)


def pdf_evidence(reading: Reading, found: Evidence, fields: dict[str, FieldPatterns] = FIELDS) -> None:
    """Add what the PDFs' text and embedded e-invoices say (reading them costs the most)."""
    parsed = reading.parsed
    pdf_text = parsed.pdf_text
    if pdf_text.strip():
        found.features.update(_found(fields["pdf_text"], lower(pdf_text[:BODY_LIMIT])))
        found.text_for_money = "\n".join(x for x in (reading.body, pdf_text) if x)
        if not found.money and find_money(pdf_text[:MONEY_LIMIT]):
            found.features.add("money")
        if any(extraction.labelled_totals(pdf_text[:MONEY_LIMIT])):
            found.features.add("total_with_amount")
    found.invoice = next((inv for inv in (embedded_invoice(a.data) for a in parsed.pdfs) if inv and inv.total is not None), None)
    if found.invoice is not None:
        found.features.add("einvoice")
    add_broad(found.features)


def decide(features: frozenset[str], model: Model) -> tuple[bool, int, list[str]]:
    """The verdict, its confidence (0-100, the model's probability) and every feature's weight as a reason."""
    logit = model.logit(features)
    probability = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
    weighed = sorted(((model.weights.get(name, 0.0), name) for name in features), key=lambda x: -abs(x[0]))
    reasons = [f"{REASONS[name]} ({weight:+.1f})" for weight, name in weighed if name in REASONS]
    return probability >= 0.5, int(round(probability * 100)), reasons


def recognise(parsed: ParsedEmail, *, exhaustive: bool = False, model: Model | None = None) -> Recognition:
    """Weigh the evidence. The PDFs' text is read only when it could change the answer, or when
    ``exhaustive`` asks for everything (a full list of reasons)."""
    model = model or default_model()
    reading = read(parsed)
    found = evidence(reading)
    notes: list[str] = []
    if parsed.pdfs:
        could_reach = model.logit(found.features) + model.most_from(PDF_TEXT_FEATURES - found.features) >= 0
        if exhaustive or could_reach:
            pdf_evidence(reading, found)
        else:
            notes.append("PDF text not read: it could not change the answer")
    features = frozenset(found.features)
    is_receipt, confidence, reasons = decide(features, model)
    if not is_receipt:  # an Israeli tax document is a receipt whatever the words around it
        tax_reason = _tax_document(reading, found)
        if tax_reason:
            is_receipt, confidence = True, max(confidence, 50)
            reasons = [tax_reason, *reasons]
    result = Recognition(is_receipt=is_receipt, confidence=confidence, reasons=reasons + notes,
                         forwarded=reading.forwarded, features=features)
    if is_receipt:  # a receipt's PDF text has been read: only then could it have reached the threshold
        extract(reading, found, result)
        sanitise(result, reading)
    return result


def _tax_document(reading: Reading, found: Evidence) -> str:
    """``tax_document_evidence`` of the message, its PDFs' text read for it if the subject or body
    names an Israeli document type (the score alone did not call for it)."""
    head = f"{reading.sender_email}\n{reading.subject}\n{reading.body[:BODY_LIMIT]}"
    if not is_israeli(head):
        return ""
    if reading.parsed.pdfs and found.text_for_money == reading.body:
        pdf_evidence(reading, found)
    return tax_document_evidence(f"{reading.subject}\n{found.text_for_money}")


def extract(reading: Reading, found: Evidence, result: Recognition) -> None:
    text = found.text_for_money
    parsed = reading.parsed
    total = pick_total(text)
    if total is not None:
        result.amount, result.currency = total.amount, total.currency
        if not result.currency:
            result.currency = extraction.default_currency(text, parsed.sender_email)
    result.vat_amount = pick_vat(text)
    result.invoice_number = find_invoice_number(f"{reading.subject}\n{text}").rstrip(".-/")
    result.receipt_date = extraction.pick_date(text, prefer_dayfirst=extraction.prefers_dayfirst(text, result.currency))
    result.vendor = extraction.pick_vendor(reading.sender_name, reading.sender_email, f"{reading.subject}\n{text}")
    invoice = found.invoice
    if invoice is not None:  # the invoice itself, as data: it wins over what the text seemed to say
        result.amount = invoice.total
        result.currency = invoice.currency or result.currency
        result.receipt_date = invoice.issue_date or result.receipt_date
        result.invoice_number = invoice.number[:100] or result.invoice_number
        result.vat_amount = invoice.vat if invoice.vat is not None else result.vat_amount
        result.vendor = result.vendor or clean_vendor_name(invoice.seller)
    tax = read_tax_fields(f"{reading.subject}\n{text}")
    if result.vat_amount is None and tax.document_type:
        result.vat_amount = israeli_vat_amount(text)
    result.document_type, result.supplier_tax_id = tax.document_type, tax.supplier_tax_id
    result.allocation_number, result.is_copy = tax.allocation_number, tax.is_copy
    result.amount_before_vat, result.vat_rate = tax.amount_before_vat, tax.vat_rate
    if tax.document_type == CREDIT_NOTE:  # a credit note's amounts are negative, however printed
        result.amount = -abs(result.amount) if result.amount is not None else None
        result.amount_before_vat = -abs(tax.amount_before_vat) if tax.amount_before_vat is not None else None
        result.vat_amount = -abs(result.vat_amount) if result.vat_amount is not None else None


def sanitise(result: Recognition, reading: Reading) -> None:
    """Drop, with a reason, any value the database cannot hold or that cannot be true."""
    today = datetime.now(UTC).date()
    if result.amount is not None and not extraction.sane_amount(result.amount):
        result.reasons.append(f"amount dropped: {str(result.amount)[:30]} does not fit numeric(12,2)")
        result.amount = None
    if result.vat_amount is not None and not extraction.sane_amount(result.vat_amount):
        result.reasons.append("VAT dropped: it does not fit numeric(12,2)")
        result.vat_amount = None
    if result.amount_before_vat is not None and not extraction.sane_amount(result.amount_before_vat):
        result.reasons.append("amount before VAT dropped: it does not fit numeric(12,2)")
        result.amount_before_vat = None
    if result.currency and not extraction.is_iso_currency(result.currency):
        result.reasons.append(f"currency dropped: {result.currency[:10]!r} is not an ISO 4217 code")
        result.currency = ""
    if result.receipt_date is not None and not extraction.sane_date(result.receipt_date, today):
        result.reasons.append(f"date dropped: {result.receipt_date.isoformat()} is out of range")
        result.receipt_date = None
    if result.receipt_date is None:
        sent = reading.parsed.date
        result.receipt_date = sent.date() if sent and extraction.sane_date(sent.date(), today) else None
    result.invoice_number = result.invoice_number[:100]
    result.vendor = result.vendor[:300]
