"""Attachments: sniffed types, safe names, stored once, size limits; e-invoice XML; the corpus check."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from gmail_sync.emulator.pdf import simple_pdf, tiny_png
from receipts.einvoice import parse_cii
from receipts.files import safe_filename, sniff_content_type
from receipts.models import Receipt, ReceiptAttachment
from receipts.parsing import Attachment, parse_email
from receipts.recognition import recognise
from receipts.services import ReceiptDraft, attachment_store, receipt_store, receipts_store
from tests.factories import GmailAccountFactory, ReceiptFactory


def test_content_type_comes_from_the_bytes() -> None:
    assert sniff_content_type(simple_pdf(["x"])) == "application/pdf"
    assert sniff_content_type(tiny_png()) == "image/png"
    assert sniff_content_type(b"\xff\xd8\xff\xe0JFIF") == "image/jpeg"
    assert sniff_content_type(b"MZ\x90\x00 an exe named invoice.pdf") == "application/octet-stream"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\me\\invoice.pdf", "invoice.pdf"),
        ("in\x00voi\x1bce\r\n.pdf", "invoice.pdf"),
        ("חשבונית 12.pdf", "חשבונית 12.pdf"),
        ("", "attachment.pdf"),
        ("invoice.exe", "invoice.exe.pdf"),
    ],
)
def test_safe_filenames(name: str, expected: str) -> None:
    assert safe_filename(name, "application/pdf") == expected


@pytest.mark.django_db
def test_identical_files_are_stored_once_and_oversized_ones_are_recorded(settings) -> None:
    pdf = simple_pdf(["Invoice", "Total 10.00 USD"])
    first, second = ReceiptFactory(), ReceiptFactory()
    a = attachment_store(receipt=first, attachment=Attachment("a.pdf", "application/octet-stream", pdf))
    b = attachment_store(receipt=second, attachment=Attachment("b.pdf", "application/pdf", pdf))
    assert a is not None and b is not None
    assert a.content_type == "application/pdf" and a.file.name == b.file.name
    assert len(list((Path(settings.MEDIA_ROOT) / "attachments").rglob("*"))) == 2  # one folder, one file
    assert attachment_store(receipt=first, attachment=Attachment("again.pdf", "application/pdf", pdf)) is None
    assert attachment_store(receipt=first, attachment=Attachment("notes.txt", "text/plain", b"hello")) is None
    settings.ATTACHMENT_MAX_BYTES = 10
    big = attachment_store(receipt=first, attachment=Attachment("big.png", "image/png", tiny_png(3)))
    assert big is not None and not big.file and "ATTACHMENT_MAX_BYTES" in big.skipped_reason


def test_a_file_is_stored_whole_or_not_at_all(settings, monkeypatch) -> None:
    """A write cut short leaves nothing under the file's name (a later sync would take it for
    stored) and no partial file behind; the next attempt stores it."""
    import os

    from receipts import files

    pdf = simple_pdf(["Invoice", "Total 10.00 USD"])
    digest = files.sha256_hex(pdf)
    real_replace = os.replace

    def killed(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", killed)
    with pytest.raises(OSError, match="disk full"):
        files.store_content(pdf, digest)
    folder = Path(settings.MEDIA_ROOT) / "attachments" / digest[:2]
    assert list(folder.iterdir()) == []
    monkeypatch.setattr(files.os, "replace", real_replace)
    name = files.store_content(pdf, digest)
    stored = Path(settings.MEDIA_ROOT) / name
    assert stored.read_bytes() == pdf and [p.name for p in folder.iterdir()] == [digest]
    assert stored.stat().st_mode & 0o777 == settings.FILE_UPLOAD_PERMISSIONS
    assert files.store_content(pdf, digest) == name  # already there: left alone


@pytest.mark.django_db
def test_receipt_with_pdf_is_stored_once_with_its_attachment() -> None:
    msg = EmailMessage()
    msg["From"] = "Northwind <billing@northwind.example>"
    msg["Subject"] = "Invoice 77"
    msg["Date"] = "Mon, 01 Jul 2024 06:00:00 +0000"
    msg.set_content("Your invoice is attached.")
    msg.add_attachment(simple_pdf(["Invoice number: 77", "Invoice date: 01/07/2024", "Total 144.00 GBP"]),
                       maintype="application", subtype="pdf", filename="../invoice-77.pdf")
    parsed = parse_email(msg.as_bytes())
    recognition = recognise(parsed)
    assert recognition.is_receipt and recognition.amount == Decimal("144.00") and recognition.currency == "GBP"
    assert recognition.receipt_date == date(2024, 7, 1)
    account = GmailAccountFactory()
    draft = ReceiptDraft("m1", "t1", parsed, recognition, None)
    assert receipt_store(account=account, run=None, draft=draft) is True
    assert receipt_store(account=account, run=None, draft=draft) is False
    stored = ReceiptAttachment.objects.get()
    assert stored.filename == "invoice-77.pdf" and stored.original_filename == "../invoice-77.pdf"
    assert len(stored.sha256) == 64 and stored.size > 0


CII = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument><ram:ID>RE-42</ram:ID>
  <ram:IssueDateTime><udt:DateTimeString format="102">20240115</udt:DateTimeString></ram:IssueDateTime>
 </rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty><ram:Name>Muster GmbH</ram:Name>
 </ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeSettlement>
 <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode><ram:SpecifiedTradeSettlementHeaderMonetarySummation>
 <ram:TaxTotalAmount currencyID="EUR">19.00</ram:TaxTotalAmount><ram:GrandTotalAmount>119.00</ram:GrandTotalAmount>
 </ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""


def test_cii_e_invoice_is_read() -> None:
    invoice = parse_cii(CII)
    assert invoice is not None
    assert (invoice.seller, invoice.total, invoice.currency, invoice.issue_date, invoice.number, invoice.vat) == (
        "Muster GmbH", Decimal("119.00"), "EUR", date(2024, 1, 15), "RE-42", Decimal("19.00"))
    assert parse_cii(b"<not-xml") is None
    assert parse_cii(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>') is None


def test_an_e_invoice_inside_a_mailed_pdf_gives_the_receipt_its_values() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("factur-x.xml", CII)
    pdf = BytesIO()
    writer.write(pdf)
    msg = EmailMessage()
    msg["From"] = "Muster GmbH <rechnung@muster.example>"
    msg["Subject"] = "Ihre Rechnung RE-42"
    msg["Date"] = "Tue, 16 Jan 2024 08:00:00 +0000"
    msg.set_content("Anbei Ihre Rechnung.")
    msg.add_attachment(pdf.getvalue(), maintype="application", subtype="pdf", filename="rechnung-RE-42.pdf")
    result = recognise(parse_email(msg.as_bytes()))
    assert result.is_receipt
    assert any("e-invoice" in reason for reason in result.reasons)
    assert (result.amount, result.currency, result.receipt_date, result.invoice_number, result.vat_amount) == (
        Decimal("119.00"), "EUR", date(2024, 1, 15), "RE-42", Decimal("19.00"))
    assert result.vendor == "Muster"


def test_check_corpus_counts_everything_and_compares_documents(tmp_path: Path) -> None:
    (tmp_path / "good.pdf").write_bytes(simple_pdf(["Invoice", "Invoice date: 03/02/2024", "Grand total: 50.00 EUR"]))
    (tmp_path / "good.json").write_text(json.dumps([{"amount": 50.0, "currency": "EUR", "date": "2024-02-03"}]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 truncated garbage")
    (tmp_path / "mail.eml").write_bytes(b"Subject: hi\n\nno headers to speak of \xff\xfe")
    (tmp_path / "worse.eml").write_bytes(b"Content-Type: multipart/mixed; boundary=\n\n--\n--\n")
    out = StringIO()
    call_command("check_corpus", str(tmp_path), stdout=out)
    text = out.getvalue()
    assert "messages: 2 examined" in text and "0 errors" in text
    assert "documents: 2 read, 0 errors; 1 with expected values" in text and "all three 1/1 (100.0%)" in text
    (tmp_path / "good.json").write_text(json.dumps([{"amount": 51.0, "currency": "EUR", "date": "2024-02-03"}]))
    with pytest.raises(CommandError, match="below 90%"):
        call_command("check_corpus", str(tmp_path), "--min-document-accuracy", "0.9", stdout=StringIO())


@pytest.mark.django_db
def test_a_batch_stores_only_the_receipts_not_stored_yet() -> None:
    """One statement per batch; the unique constraint decides what is new, so a message stored
    earlier, or twice in one batch, is stored once, and its files with it."""
    account = GmailAccountFactory()
    drafts = []
    for number in range(130):  # more than one statement's worth of parameters on SQLite
        msg = EmailMessage()
        msg["From"] = "Northwind <billing@northwind.example>"
        msg["Subject"] = f"Invoice {number}"
        msg.set_content(f"Invoice number: N-{number}\nTotal: {number}.50 GBP")
        if number % 50 == 0:
            msg.add_attachment(simple_pdf([f"Invoice {number}"]), maintype="application", subtype="pdf",
                               filename=f"invoice-{number}.pdf")
        parsed = parse_email(msg.as_bytes())
        drafts.append(ReceiptDraft(f"m{number}", "t", parsed, recognise(parsed), None))
    assert receipts_store(account=account, run=None, drafts=drafts[:60]) == 60
    assert receipts_store(account=account, run=None, drafts=drafts + drafts[100:101]) == 70
    assert receipts_store(account=account, run=None, drafts=drafts) == 0
    assert Receipt.objects.filter(account=account).count() == 130
    assert ReceiptAttachment.objects.count() == 3
    stored = Receipt.objects.get(gmail_message_id="m101")
    assert stored.amount == Decimal("101.50") and stored.currency == "GBP" and stored.invoice_number == "N-101"
    assert stored.review_status == "pending" and stored.reasons and stored.created_at is not None


@pytest.mark.django_db
def test_nul_characters_in_mail_are_dropped_not_fatal() -> None:
    """PostgreSQL refuses NUL in text; an encoded header or a body may still carry one."""
    raw = (b"From: =?utf-8?q?Ac=00me?= <billing@acme.example>\r\nSubject: =?utf-8?q?Invoice=00 12?=\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
           b"Content-Type: text/plain\r\n\r\nYour receipt. Invoice number: A\x0012\r\nTotal: 12.00 USD\r\n--x\r\n"
           b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"in\x00v.pdf\"\r\n\r\n"
           b"%PDF-1.4 not much of one\r\n--x--\r\n")
    parsed = parse_email(raw)
    assert "\x00" in parsed.subject + parsed.sender_name + parsed.attachments[0].filename
    recognition = recognise(parsed)
    assert recognition.is_receipt
    assert receipts_store(account=GmailAccountFactory(), run=None,
                          drafts=[ReceiptDraft("m1", "t", parsed, recognition, None)]) == 1
    stored = Receipt.objects.get(gmail_message_id="m1")
    assert (stored.subject, stored.sender_name) == ("Invoice 12", "Acme")
    assert stored.attachments.get().original_filename == "inv.pdf"


def _invoices(count: int) -> list[ReceiptDraft]:
    drafts = []
    for number in range(count):
        msg = EmailMessage()
        msg["From"] = "Northwind <billing@northwind.example>"
        msg["Subject"] = f"Invoice {number}"
        msg.set_content(f"Invoice number: N-{number}\nTotal: {number}.50 GBP")
        msg.add_attachment(simple_pdf([f"Invoice {number}"]), maintype="application", subtype="pdf", filename="i.pdf")
        msg.add_attachment(simple_pdf([f"Invoice {number}"]), maintype="application", subtype="pdf", filename="again.pdf")
        parsed = parse_email(msg.as_bytes())
        drafts.append(ReceiptDraft(f"m{number}", "t", parsed, recognise(parsed), None))
    return drafts


@pytest.mark.django_db(transaction=True)
def test_a_commit_group_stores_receipts_files_and_the_runs_progress_together_or_not_at_all() -> None:
    """GIVEN fetched batches examined by a slice WHEN they are committed THEN the new receipts,
    their files and the run's counters and checkpoint move together; when the run is no longer
    the worker's, none of it is written; a receipt stored before counts as already stored."""
    from gmail_sync.engine import Examined, LostOwnership, SliceRunner
    from tests.factories import SyncRunFactory

    run = SyncRunFactory(status="running", worker_id="w1")
    drafts = _invoices(3)

    def commit(batch: list[ReceiptDraft], worker: str, skipped: int = 2) -> None:
        runner = SliceRunner(run.pk, worker_id=worker)
        runner.run_obj, runner.account = run, run.account
        runner.started = runner.last_log = runner.clock()
        examined = Examined()
        examined.add([draft.gmail_message_id for draft in batch], [("receipt", draft) for draft in batch])
        examined.skipped = skipped
        runner._commit(examined, runner._page_checkpoint(examined, "1-2", "2025-01"))

    with pytest.raises(LostOwnership):
        commit(drafts[:1], "someone else")
    assert Receipt.objects.count() == 0 and ReceiptAttachment.objects.count() == 0
    commit(drafts[:2], "w1")
    commit(drafts, "w1")  # m0 and m1 are stored already: only m2 is new
    run.refresh_from_db()
    assert (run.messages_scanned, run.saved_receipts, run.skipped_count, run.already_stored, run.page_cursor) == (
        9, 3, 4, 2, "m2")
    assert sorted(Receipt.objects.values_list("gmail_message_id", flat=True)) == ["m0", "m1", "m2"]
    assert ReceiptAttachment.objects.count() == 3  # one per receipt: the second copy is the same file
    stored = Receipt.objects.get(gmail_message_id="m2")
    assert stored.amount == Decimal("2.50") and stored.attachments.get().filename == "i.pdf"
    assert stored.sync_run_id == run.pk


@pytest.mark.django_db
def test_a_receipt_stored_by_another_run_is_not_counted_as_new() -> None:
    """GIVEN a message stored by an earlier run WHEN a later run stores the same message THEN the
    unique constraint keeps one row and the later run creates none (and attaches no files)."""
    from django.utils import timezone

    from tests.factories import SyncRunFactory

    first = SyncRunFactory(status="completed", finished_at=timezone.now())
    account = first.account
    second = SyncRunFactory(status="running", account=account)
    drafts = _invoices(2)
    assert receipts_store(account=account, run=first, drafts=drafts[:1]) == 1
    assert receipts_store(account=account, run=second, drafts=drafts) == 1
    assert dict(Receipt.objects.values_list("gmail_message_id", "sync_run")) == {"m0": first.pk, "m1": second.pk}
    assert ReceiptAttachment.objects.filter(receipt__gmail_message_id="m0").count() == 1


@pytest.mark.django_db
def test_a_receipt_keeps_at_most_its_share_of_files_and_lists_the_rest(settings) -> None:
    """GIVEN a receipt mailed with 8 distinct PDFs and a cap of 5 WHEN it is stored THEN 5 files
    are saved and the other 3 are listed with the reason, without their bytes."""
    settings.ATTACHMENTS_MAX_PER_RECEIPT = 5
    msg = EmailMessage()
    msg["From"] = "Northwind <billing@northwind.example>"
    msg["Subject"] = "Invoice 9"
    msg.set_content("Invoice number: N-9\nTotal: 9.50 GBP")
    for number in range(8):
        msg.add_attachment(simple_pdf([f"Page {number}"]), maintype="application", subtype="pdf", filename=f"p{number}.pdf")
    parsed = parse_email(msg.as_bytes())
    account = GmailAccountFactory()
    assert receipts_store(account=account, run=None, drafts=[ReceiptDraft("m9", "t", parsed, recognise(parsed), None)]) == 1
    rows = list(ReceiptAttachment.objects.filter(receipt__gmail_message_id="m9").order_by("pk"))
    assert len(rows) == 8
    assert [bool(row.file) for row in rows] == [True] * 5 + [False] * 3
    assert all(row.skipped_reason == "more than ATTACHMENTS_MAX_PER_RECEIPT (5) files" for row in rows[5:])
