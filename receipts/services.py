"""Writing receipts: one per (account, Gmail message), with their attachments."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from gmail_sync.models import GmailAccount, SyncRun
from gmail_sync.sql import insert_new

from .files import STORED_TYPES, safe_filename, sha256_hex, sniff_content_type, store_content
from .models import Receipt, ReceiptAttachment
from .parsing import Attachment, ParsedEmail
from .recognition import Recognition

logger = logging.getLogger(__name__)


@dataclass
class ReceiptDraft:
    """Everything needed to store one receipt, prepared outside the transaction."""

    gmail_message_id: str
    gmail_thread_id: str
    parsed: ParsedEmail
    recognition: Recognition
    received_at: datetime | None


def receipts_store(*, account: GmailAccount, run: SyncRun | None, drafts: list[ReceiptDraft]) -> int:
    """Store the receipts whose messages are not stored yet; return how many this call created.

    Must run inside the caller's transaction. One statement inserts the receipts and one their
    attachments. The unique constraint on (account, message id) decides which are new
    (``ON CONFLICT DO NOTHING``), so concurrent or repeated syncs never store a message twice
    and never fail on one stored in between.
    """
    unique: dict[str, ReceiptDraft] = {}
    for draft in drafts:
        unique.setdefault(draft.gmail_message_id, draft)
    if not unique:
        return 0
    now = timezone.now()
    rows = []
    for draft in unique.values():
        row = _receipt_row(account, run, draft)
        rows.append({field: getattr(row, field) for field in RECEIPT_COLUMNS} | {"created_at": now, "updated_at": now})
    created = insert_new(Receipt, rows, unique=["account", "gmail_message_id"], returning=["pk", "gmail_message_id"])
    attachments: list[dict[str, object]] = []
    for receipt_id, message_id in created:
        receipt = Receipt(pk=receipt_id)
        seen: set[str] = set()
        for attachment in unique[message_id].parsed.attachments:
            row = _attachment_row(receipt, attachment, seen)
            if row is not None:
                attachments.append({field: getattr(row, field) for field in ATTACHMENT_COLUMNS} | {"created_at": now})
    insert_new(ReceiptAttachment, attachments, unique=["receipt", "sha256"], returning=["pk"])
    return len(created)


def receipt_store(*, account: GmailAccount, run: SyncRun | None, draft: ReceiptDraft) -> bool:
    """Store one receipt unless its message is already stored; True when this call created it."""
    return receipts_store(account=account, run=run, drafts=[draft]) == 1


RECEIPT_COLUMNS = (
    "account_id", "sync_run_id", "gmail_message_id", "gmail_thread_id", "sender_email", "sender_name", "subject",
    "received_at", "vendor", "amount", "currency", "receipt_date", "invoice_number", "vat_amount", "confidence",
    "review_status", "reasons",
)
ATTACHMENT_COLUMNS = (
    "receipt_id", "file", "original_filename", "filename", "content_type", "size", "sha256", "skipped_reason",
)


def _receipt_row(account: GmailAccount, run: SyncRun | None, draft: ReceiptDraft) -> Receipt:
    recognition = draft.recognition
    parsed = draft.parsed
    return Receipt(
        account=account,
        sync_run=run,
        gmail_message_id=draft.gmail_message_id,
        gmail_thread_id=draft.gmail_thread_id,
        sender_email=parsed.sender_email[:320],
        sender_name=parsed.sender_name[:300],
        subject=parsed.subject,
        received_at=draft.received_at,
        vendor=recognition.vendor[:300],
        amount=recognition.amount,
        currency=recognition.currency,
        receipt_date=recognition.receipt_date,
        invoice_number=recognition.invoice_number[:100],
        vat_amount=recognition.vat_amount,
        confidence=recognition.confidence,
        reasons=recognition.reasons,
    )


def attachment_store(*, receipt: Receipt, attachment: Attachment) -> ReceiptAttachment | None:
    """Store a PDF or image of a receipt; other files are not kept. Oversized files are
    recorded with the reason instead of their bytes."""
    seen = set(ReceiptAttachment.objects.filter(receipt=receipt).values_list("sha256", flat=True))
    row = _attachment_row(receipt, attachment, seen)
    if row is not None:
        row.save()
    return row


def _attachment_row(receipt: Receipt, attachment: Attachment, seen: set[str]) -> ReceiptAttachment | None:
    """The attachment's row with its file saved, or None for a file not kept: not a PDF or an
    image, or the same file already attached to this receipt (``seen`` holds their digests)."""
    content_type = sniff_content_type(attachment.data)
    if content_type not in STORED_TYPES:
        return None
    digest = sha256_hex(attachment.data)
    if digest in seen:
        return None
    seen.add(digest)
    row = ReceiptAttachment(
        receipt=receipt,
        original_filename=attachment.filename[:500],
        filename=safe_filename(attachment.filename, content_type),
        content_type=content_type,
        size=len(attachment.data),
        sha256=digest,
    )
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(attachment.data) > limit:
        row.skipped_reason = f"larger than ATTACHMENT_MAX_BYTES ({len(attachment.data)} > {limit} bytes)"
    else:
        row.file.name = store_content(attachment.data, digest)
    return row
