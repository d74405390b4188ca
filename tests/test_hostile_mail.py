"""A mailbox of hostile and odd mail, each message between two good receipts: the run completes,
every good receipt is saved, every hostile message is counted once, and nothing dies.

The mail is made here (nothing downloaded): a forward of a megabyte of blank lines, totals too
large for the database, 40,000 nested multiparts, a PDF that inflates to a gigabyte, 20,000 tiny
PDFs, and the odd-but-harmless (an unknown charset, a NUL in a charset parameter, cut-short
base64, a one-megabyte header).
"""
from __future__ import annotations

import io
import resource
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.utils import timezone

from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox
from gmail_sync.emulator.pdf import simple_pdf
from gmail_sync.models import SyncRun
from gmail_sync.services import sync_start
from receipts.models import Receipt
from tests.factories import GmailAccountFactory
from tests.test_sandbox import _pdf_bomb

NOW = timezone.now()


def _good(number: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zoom <billing@zoom.us>"
    msg["To"] = "owner@example.com"
    msg["Subject"] = f"Your receipt from Zoom #{number}"
    msg["Date"] = format_datetime(NOW)
    msg.set_content(f"Thanks for your payment.\nInvoice number: INV-{number}\nTotal paid: ${number}.99\n")
    return msg.as_bytes()


def _headers(subject: str, content_type: str, extra: str = "") -> str:
    return (f"From: Someone <someone@example.com>\r\nTo: owner@example.com\r\nSubject: {subject}\r\n"
            f"Date: {format_datetime(NOW)}\r\n{extra}Content-Type: {content_type}\r\n")


def _hostile() -> dict[str, bytes]:
    nested = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(40_000))
    many = "".join(f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=p{i}.pdf\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" for i in range(20_000))
    bomb = EmailMessage()
    bomb["From"], bomb["Subject"], bomb["Date"] = "Billing <billing@example.com>", "Invoice 7", format_datetime(NOW)
    bomb.set_content("Please find your invoice attached.")
    bomb.add_attachment(_pdf_bomb(1 << 30), maintype="application", subtype="pdf", filename="invoice.pdf")
    cut = simple_pdf(["Total: 12.00 USD"])
    import base64

    def e_invoice(currency: str, total: str) -> bytes:
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
        msg["From"], msg["Subject"], msg["Date"] = "Acme Rechnung <rechnung@acme.example>", "Ihre Rechnung RE-42", format_datetime(NOW)
        msg.set_content("Guten Tag, anbei Ihre Rechnung RE-42.")
        msg.add_attachment(out.getvalue(), maintype="application", subtype="pdf", filename="rechnung-RE-42.pdf")
        return msg.as_bytes()

    return {
        "blank lines": (_headers("Fwd: your receipt", "text/plain; charset=utf-8")
                        + "\r\n---------- Forwarded message ---------\r\n" + "\r\n" * 1_000_000 + "From: A <a@b.co>\r\n").encode(),
        "too large a total": (_headers("Your receipt #5512", "text/plain; charset=utf-8")
                              + "\r\nReceipt number 5512\r\nPaid with Visa\r\nGrand total: 99999999999999.99\r\n").encode(),
        "an e-invoice in currency E1": e_invoice("E1", "10.00"),
        "an e-invoice of NaN": e_invoice("EUR", "NaN"),
        "deep nesting": (_headers("nested", "multipart/mixed; boundary=b0") + "\r\n" + nested).encode(),
        "pdf bomb": bomb.as_bytes(),
        "20,000 pdfs": (_headers("Your invoices", "multipart/mixed; boundary=b") + "\r\n" + many + "--b--\r\n").encode(),
        "unknown charset": (_headers("Receipt", "text/plain; charset=x-klingon") + "\r\nTotal paid: $5.00\r\n").encode(),
        "nul in charset": (_headers("Receipt", 'text/plain; charset="utf-8\x00"') + "\r\nTotal paid: $5.00\r\n").encode(),
        "cut-short base64": (_headers("Invoice", "multipart/mixed; boundary=c") + "\r\n--c\r\nContent-Type: text/plain\r\n\r\n"
                             "Invoice attached. Total: $12.00\r\n--c\r\nContent-Type: application/pdf\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(cut).decode()[:-37]
                             + "\r\n").encode(),
        "1 MB header": (_headers("Receipt " + "x" * 1_000_000, "text/plain; charset=utf-8") + "\r\nTotal paid: $5.00\r\n").encode(),
    }


@pytest.fixture
def hostile_emulator(settings) -> Iterator[tuple[GmailEmulator, list[str], list[str]]]:
    box = Mailbox(address="owner@example.com")
    good: list[str] = []
    bad: list[str] = []
    number = 100
    for raw in _hostile().values():
        good.append(box.add(_good(number)).id)
        bad.append(box.add(raw).id)
        number += 1
    good.append(box.add(_good(number)).id)
    with GmailEmulator(box, EmulatorOptions(seed=3)) as emu:
        settings.GMAIL_API_ROOT_URL = emu.url
        settings.GOOGLE_TOKEN_URI = emu.token_uri
        settings.GMAIL_QUOTA_UNITS_PER_SECOND = 100000
        yield emu, good, bad


def _wait(run: SyncRun, seconds: float = 300) -> SyncRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in {SyncRun.Status.COMPLETED, SyncRun.Status.FAILED, SyncRun.Status.CANCELLED}:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {seconds} s")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["in the caller", "RUN_SYNCS_IN_THREAD", "sliced"])
def test_a_run_over_hostile_mail_saves_every_good_receipt_and_counts_every_message(hostile_emulator, settings,
                                                                                  mode: str) -> None:
    """GIVEN each hostile message between two good receipts WHEN a run reads them (to completion,
    in a thread of its own, or in one-second slices that resume from their checkpoints) THEN it
    completes, every message is fetched and counted once, every good receipt is saved, and the
    values of the hostile ones that are receipts are ones the database can hold."""
    emulator, good, bad = hostile_emulator
    settings.RUN_SYNCS_IN_THREAD = mode == "RUN_SYNCS_IN_THREAD"
    account = GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")
    started = time.monotonic()
    sliced = {"run_to_completion": False, "max_seconds_per_run": 1} if mode == "sliced" else {"run_to_completion": True}
    run = _wait(sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=NOW.date(), to_date=NOW.date(),
                           **sliced))
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert run.messages_scanned == len(good) + len(bad)  # each message once
    assert mode != "sliced" or run.slices_count > 1, run.slices_count  # it did pause and resume
    assert run.saved_receipts + run.skipped_count + run.errors_count == run.messages_scanned
    stored = set(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True))
    assert set(good) <= stored  # every good receipt, on either side of every hostile message
    assert set(emulator.fetches) == set(good) | set(bad) and set(emulator.fetches.values()) == {1}  # none read twice
    for receipt in Receipt.objects.filter(account=account, gmail_message_id__in=bad):
        assert receipt.currency == "" or (len(receipt.currency) == 3 and receipt.currency.isupper())
        assert receipt.amount is None or abs(receipt.amount) < 10**10
    assert run.errors_count >= 3  # the nesting and the 20,000 parts refused, the bomb out of memory
    assert time.monotonic() - started < 600
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1_500_000  # KiB: this process stayed small
