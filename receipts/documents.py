"""Reading an invoice document (a PDF or its text): total, currency, date and number."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .einvoice import embedded_invoice
from .extraction import find_invoice_number, pick_date, pick_total
from .money import currencies_in
from .parsing import pdf_text


@dataclass
class DocumentFacts:
    total: Decimal | None = None
    currency: str = ""
    issue_date: date | None = None
    number: str = ""
    seller: str = ""
    source: str = "text"  # "einvoice" when read from embedded XML


def read_text(text: str) -> DocumentFacts:
    facts = DocumentFacts()
    total = pick_total(text)
    if total is not None:
        facts.total = total.amount
        facts.currency = total.currency
    if not facts.currency:
        named = [c for c in currencies_in(text) if c]
        if named:  # the most named; on a tie, the one named first (a set's order changes from run to run)
            facts.currency = max(named, key=named.count)
    facts.issue_date = pick_date(text, prefer_dayfirst=facts.currency != "USD")
    facts.number = find_invoice_number(text)
    return facts


def read_pdf(data: bytes) -> DocumentFacts:
    structured = embedded_invoice(data)
    if structured is not None and structured.total is not None:
        return DocumentFacts(structured.total, structured.currency, structured.issue_date, structured.number,
                             structured.seller, source="einvoice")
    return read_text(pdf_text(data))
