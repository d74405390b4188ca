"""Hostile and odd mail, made on the spot (nothing downloaded): for the tests and bench/hostile.py.

A forward of a megabyte of blank lines, totals too large for the database, e-invoices with a
currency that is not one or a total that is not a number, 40,000 nested multiparts, a PDF that
inflates to a gigabyte, 20,000 tiny PDFs, and the odd-but-harmless (an unknown charset, a NUL in a
charset parameter, cut-short base64, a one-megabyte header).
"""
from __future__ import annotations

import base64
import io
import zlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from .pdf import one_page_pdf, simple_pdf


def good_receipt(number: int, when: datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zoom <billing@zoom.us>"
    msg["To"] = "owner@example.com"
    msg["Subject"] = f"Your receipt from Zoom #{number}"
    msg["Date"] = format_datetime(when)
    msg.set_content(f"Thanks for your payment.\nInvoice number: INV-{number}\nTotal paid: ${number}.99\n")
    return msg.as_bytes()


def pdf_bomb(inflated: int) -> bytes:
    """A one-page PDF whose content stream is a few MB of deflate that inflates to ``inflated``
    bytes of text operators."""
    packer = zlib.compressobj(9)
    chunk = b"BT /F1 1 Tf (a) Tj ET\n" * 40_000
    stream = b"".join(packer.compress(chunk) for _ in range(inflated // len(chunk))) + packer.flush()
    return one_page_pdf(stream, stream_options=b" /Filter /FlateDecode", encoding=b"")


def big_pdf(size: int, seed: int = 0) -> bytes:
    """A valid one-page PDF of about ``size`` bytes (an incompressible stream of noise after its text)."""
    import random

    noise = random.Random(seed).randbytes(size)
    return one_page_pdf(b"BT /F1 11 Tf 50 780 Td (Invoice total: 12.00 USD) Tj ET\n%" + noise.replace(b"\n", b" "),
                        encoding=b"")


def _headers(subject: str, content_type: str, when: datetime) -> str:
    return (f"From: Someone <someone@example.com>\r\nTo: owner@example.com\r\nSubject: {subject}\r\n"
            f"Date: {format_datetime(when)}\r\nContent-Type: {content_type}\r\n")


def _e_invoice(currency: str, total: str, when: datetime) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("factur-x.xml", (
        "<CrossIndustryInvoice><ExchangedDocument><ID>RE-42</ID></ExchangedDocument><SellerTradeParty><Name>Acme"
        f"</Name></SellerTradeParty><InvoiceCurrencyCode>{currency}</InvoiceCurrencyCode><GrandTotalAmount>{total}"
        "</GrandTotalAmount></CrossIndustryInvoice>").encode())
    out = io.BytesIO()
    writer.write(out)
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Date"] = "Acme Rechnung <rechnung@acme.example>", "Ihre Rechnung RE-42", format_datetime(when)
    msg.set_content("Guten Tag, anbei Ihre Rechnung RE-42.")
    msg.add_attachment(out.getvalue(), maintype="application", subtype="pdf", filename="rechnung-RE-42.pdf")
    return msg.as_bytes()


def hostile_messages(when: datetime) -> dict[str, bytes]:
    """Every kind of hostile or odd message, by what it is."""
    nested = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(40_000))
    many = "".join(f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=p{i}.pdf\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" for i in range(20_000))
    bomb = EmailMessage()
    bomb["From"], bomb["Subject"], bomb["Date"] = "Billing <billing@example.com>", "Invoice 7", format_datetime(when)
    bomb.set_content("Please find your invoice attached.")
    bomb.add_attachment(pdf_bomb(1 << 30), maintype="application", subtype="pdf", filename="invoice.pdf")
    cut = base64.b64encode(simple_pdf(["Total: 12.00 USD"])).decode()[:-37]
    text = "text/plain; charset=utf-8"
    return {
        "blank lines": (_headers("Fwd: your receipt", text, when)
                        + "\r\n---------- Forwarded message ---------\r\n" + "\r\n" * 1_000_000 + "From: A <a@b.co>\r\n").encode(),
        "too large a total": (_headers("Your receipt #5512", text, when)
                              + "\r\nReceipt number 5512\r\nPaid with Visa\r\nGrand total: 99999999999999.99\r\n").encode(),
        "an e-invoice in currency E1": _e_invoice("E1", "10.00", when),
        "an e-invoice of NaN": _e_invoice("EUR", "NaN", when),
        "deep nesting": (_headers("nested", "multipart/mixed; boundary=b0", when) + "\r\n" + nested).encode(),
        "pdf bomb": bomb.as_bytes(),
        "20,000 pdfs": (_headers("Your invoices", "multipart/mixed; boundary=b", when) + "\r\n" + many + "--b--\r\n").encode(),
        "unknown charset": (_headers("Receipt", "text/plain; charset=x-klingon", when) + "\r\nTotal paid: $5.00\r\n").encode(),
        "nul in charset": (_headers("Receipt", 'text/plain; charset="utf-8\x00"', when) + "\r\nTotal paid: $5.00\r\n").encode(),
        "cut-short base64": (_headers("Invoice", "multipart/mixed; boundary=c", when) + "\r\n--c\r\nContent-Type: text/plain\r\n\r\n"
                             "Invoice attached. Total: $12.00\r\n--c\r\nContent-Type: application/pdf\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n" + cut + "\r\n").encode(),
        "1 MB header": (_headers("Receipt " + "x" * 1_000_000, text, when) + "\r\nTotal paid: $5.00\r\n").encode(),
    }


def big_pdf_receipt(number: int, when: datetime, size: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Date"] = "Northwind <billing@northwind.example>", f"Invoice N-{number}", format_datetime(when)
    msg.set_content(f"Invoice N-{number} attached.\nTotal: {number}.00 GBP")
    msg.add_attachment(big_pdf(size, seed=number), maintype="application", subtype="pdf", filename=f"invoice-{number}.pdf")
    return msg.as_bytes()
