"""Receipts found in Gmail and the files that came with them."""
from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from gmail_sync.models import GmailAccount, SyncRun


class Receipt(models.Model):
    """A receipt or invoice recognised in one Gmail message.

    Stored once per (account, Gmail message id), and once per (account, message key): the unique
    constraints, not a lookup, are what keep a retried, resumed or repeated sync, or an import of
    mail already synced, from storing a message twice.
    """

    class ReviewStatus(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"

    account = models.ForeignKey(GmailAccount, on_delete=models.CASCADE, related_name="receipts")
    sync_run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="receipts"
    )
    gmail_message_id = models.CharField(max_length=64)
    gmail_thread_id = models.CharField(max_length=64, blank=True, default="")
    # The message's own identity (a digest of its Message-ID, Date and sender; empty without a
    # Message-ID): the same mail reached by two ids (an import and a sync, say) is one receipt.
    message_key = models.CharField(max_length=64, blank=True, default="", db_default="")
    sender_email = models.CharField(max_length=320, blank=True, default="")
    sender_name = models.CharField(max_length=300, blank=True, default="")
    subject = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(null=True, blank=True)
    vendor = models.CharField(max_length=300, blank=True, default="")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    receipt_date = models.DateField(null=True, blank=True)
    invoice_number = models.CharField(max_length=100, blank=True, default="")
    vat_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Israeli tax documents (receipts/israeli.py): empty or null where the document has none.
    class DocumentType(models.TextChoices):
        NONE = "", "Not an Israeli tax document"
        TAX_INVOICE = "tax_invoice", "Tax invoice (305)"
        TAX_INVOICE_RECEIPT = "tax_invoice_receipt", "Tax invoice/receipt (320)"
        RECEIPT = "receipt", "Receipt (400)"
        CREDIT_NOTE = "credit_note", "Credit note (330)"
        TRANSACTION_INVOICE = "transaction_invoice", "Transaction invoice (300)"

    document_type = models.CharField(max_length=24, choices=DocumentType.choices, blank=True, default="",
                                     db_default="")
    supplier_tax_id = models.CharField(max_length=9, blank=True, default="", db_default="")
    allocation_number = models.CharField(max_length=30, blank=True, default="", db_default="")
    amount_before_vat = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    is_copy = models.BooleanField(default=False, db_default=False)
    # What a bookkeeper would flag (codes, see receipts/israeli.py) and why, worked out when the
    # receipt is stored and again when a person corrects it.
    checks = models.JSONField(default=list, blank=True, db_default=[])
    check_reasons = models.JSONField(default=dict, blank=True, db_default={})
    confidence = models.SmallIntegerField(default=0)
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reasons = models.JSONField(default=list, blank=True)
    # A person's review: the fields they edited (a sync never writes a stored receipt again, so
    # an edit stays), the extraction's values of those fields as they were, and when.
    edited_fields = models.JSONField(default=list, blank=True)
    original_values = models.JSONField(default=dict, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The receipt stored first that this one repeats (the same file, the same vendor and invoice
    # number, or the same vendor, date and amount): a duplicate is kept, never deleted.
    duplicate_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="duplicates")
    # A receipt without a PDF or image of its own: its email, kept (content-addressed) to be
    # rendered to PDF, and the rendered PDF once it is.
    body_file = models.CharField(max_length=200, blank=True, default="", db_default="")
    rendered_file = models.CharField(max_length=200, blank=True, default="", db_default="")
    render_error = models.CharField(max_length=300, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "receipts"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["account", "received_at"], name="idx_receipts_account_received"),
            models.Index(fields=["account", "receipt_date"], name="idx_receipts_account_date"),
            models.Index(fields=["account", "invoice_number"], name="idx_receipts_account_invoice"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "gmail_message_id"], name="uniq_receipt_per_account_message"
            ),
            models.UniqueConstraint(
                fields=["account", "message_key"], condition=~Q(message_key=""),
                name="uniq_receipt_per_account_message_key",
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=100), name="chk_receipt_confidence"
            ),
            models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex=r"^[A-Z]{3}$"), name="chk_receipt_currency"
            ),
            models.CheckConstraint(
                condition=Q(review_status__in=["pending", "approved", "rejected", "duplicate"]),
                name="chk_receipt_review_status",
            ),
            models.CheckConstraint(
                condition=Q(document_type__in=["", "tax_invoice", "tax_invoice_receipt", "receipt", "credit_note",
                                               "transaction_invoice"]),
                name="chk_receipt_document_type",
            ),
        ]

    @property
    def has_document(self) -> bool:
        """A mailed file is stored, or the email is kept to be rendered (the attachments prefetched)."""
        return bool(self.body_file or self.rendered_file) or any(a.file for a in self.attachments.all())

    def __str__(self) -> str:
        money = f" {self.amount} {self.currency}" if self.amount is not None else ""
        return f"{self.vendor or self.sender_email}{money}"


def attachment_upload_to(instance: ReceiptAttachment, filename: str) -> str:
    # Files are addressed by content, so identical files share one stored copy.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class ReceiptAttachment(models.Model):
    """A PDF or image that came with a receipt, stored on Django's storage by its SHA-256."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=200, blank=True)
    original_filename = models.CharField(max_length=500, blank=True, default="")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Why the bytes were not stored (too large, unreadable); empty when ``file`` is set.
    skipped_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "receipt_attachments"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "sha256"], name="uniq_attachment_per_receipt_sha256"),
            models.CheckConstraint(condition=Q(size__gte=0), name="chk_attachment_size"),
        ]

    def __str__(self) -> str:
        return self.filename


class ExaminedMessage(models.Model):
    """One message as one run examined it: its verdict and why, without its body.

    Written in the transaction that moves the run's counters past it, so a run's rows number
    exactly its ``messages_scanned``, through crashes and resumes. A message examined by several
    runs (a re-sync, an import after a sync) has a row for each.
    """

    class Verdict(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SKIPPED = "skipped", "Not a receipt"
        ERROR = "error", "Error"

    account = models.ForeignKey(GmailAccount, on_delete=models.CASCADE, related_name="examined_messages")
    sync_run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="examined_messages")
    gmail_message_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(null=True, blank=True)
    sender_email = models.CharField(max_length=320, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    score = models.SmallIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "examined_messages"
        ordering = ["-received_at", "-id"]
        # In the lists' order (newest first, undated last, then newest row), so a page of
        # "skipped from this sender" is read off an index, not sorted.
        indexes = [
            models.Index("account", "verdict", F("received_at").desc(nulls_last=True), F("id").desc(),
                         name="idx_examined_verdict"),
            models.Index("account", "sender_email", F("received_at").desc(nulls_last=True), F("id").desc(),
                         name="idx_examined_sender"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=["receipt", "skipped", "error"]),
                                   name="chk_examined_verdict"),
        ]

    def __str__(self) -> str:
        return f"{self.gmail_message_id} ({self.verdict})"


class SenderRule(models.Model):
    """A business's decision about a sender's mail, applied before the recogniser decides.

    ``sender`` is an address (``billing@vendor.com``) or a domain (``@vendor.com``, which also
    covers its subdomains). ``decision`` makes every message from it a receipt (``receipt``), or
    never one (``not_receipt``), or leaves it to the recogniser (``""``); ``vendor`` names the
    vendor of its receipts.
    """

    class Decision(models.TextChoices):
        RECOGNISER = "", "Let the recogniser decide"
        RECEIPT = "receipt", "Always a receipt"
        NOT_RECEIPT = "not_receipt", "Never a receipt"

    business = models.ForeignKey("gmail_sync.Business", on_delete=models.CASCADE, related_name="sender_rules")
    sender = models.CharField(max_length=320)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True, default="")
    vendor = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sender_rules"
        ordering = ["sender"]
        constraints = [
            models.UniqueConstraint(fields=["business", "sender"], name="uniq_sender_rule_per_business"),
            models.CheckConstraint(condition=Q(decision__in=["", "receipt", "not_receipt"]),
                                   name="chk_sender_rule_decision"),
            models.CheckConstraint(condition=~Q(decision="", vendor=""), name="chk_sender_rule_does_something"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.get_decision_display()}{' as ' + self.vendor if self.vendor else ''}"
