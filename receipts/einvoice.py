"""Structured e-invoices embedded in PDFs (ZUGFeRD / Factur-X / XRechnung CII): when a PDF
carries the invoice as XML, that XML is the invoice and wins over anything read from text."""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

logger = logging.getLogger(__name__)
XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "zugferd.xml")
MAX_XML_BYTES = 5 * 1024 * 1024


@dataclass
class EInvoice:
    seller: str = ""
    total: Decimal | None = None
    currency: str = ""
    issue_date: date | None = None
    number: str = ""
    vat: Decimal | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [el for el in root.iter() if _local(el.tag) == name]


def _first_text(root: ElementTree.Element, *path: str) -> str:
    """Text of the first element reached by following local names (any depth for the first)."""
    for start in _find_all(root, path[0]):
        node: ElementTree.Element | None = start
        for name in path[1:]:
            node = next((child for child in node if _local(child.tag) == name), None) if node is not None else None
        if node is not None and (node.text or "").strip():
            return node.text.strip()  # type: ignore[union-attr]
    return ""


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()).quantize(Decimal("0.01")) if text.strip() else None
    except InvalidOperation:
        return None


def parse_cii(xml: bytes) -> EInvoice | None:
    """Read a UN/CEFACT Cross Industry Invoice (the XML inside ZUGFeRD and Factur-X)."""
    if len(xml) > MAX_XML_BYTES or b"<!ENTITY" in xml[:4096]:
        return None  # no entity expansion from mail attachments
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return None
    invoice = EInvoice()
    invoice.seller = _first_text(root, "SellerTradeParty", "Name")
    invoice.total = _decimal(_first_text(root, "GrandTotalAmount")) or _decimal(_first_text(root, "DuePayableAmount"))
    invoice.currency = _first_text(root, "InvoiceCurrencyCode").upper()[:3]
    if not invoice.currency:
        for element in _find_all(root, "GrandTotalAmount"):
            invoice.currency = (element.get("currencyID") or "").upper()[:3]
    raw_date = _first_text(root, "IssueDateTime", "DateTimeString")
    if len(raw_date) == 8 and raw_date.isdigit():
        try:
            invoice.issue_date = date(int(raw_date[:4]), int(raw_date[4:6]), int(raw_date[6:]))
        except ValueError:
            invoice.issue_date = None
    invoice.number = _first_text(root, "ExchangedDocument", "ID")
    invoice.vat = _decimal(_first_text(root, "TaxTotalAmount"))
    if invoice.total is None and not invoice.currency:
        return None
    return invoice


def embedded_invoice(pdf: bytes) -> EInvoice | None:
    """The e-invoice XML embedded in a PDF, if any and readable."""
    if b"EmbeddedFile" not in pdf and b"/EF" not in pdf:
        return None
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(pdf), strict=False)
        attachments = reader.attachments
    except Exception as exc:
        logger.debug("no embedded files: %s", exc)
        return None
    for name, contents in attachments.items():
        if name.lower() in XML_NAMES or name.lower().endswith(".xml"):
            for content in contents:
                parsed = parse_cii(content)
                if parsed is not None:
                    return parsed
    return None
