"""Writing receipts: one per (account, Gmail message), with their attachments."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from gmail_sync.models import GmailAccount, SyncRun

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


def receipt_store(*, account: GmailAccount, run: SyncRun | None, draft: ReceiptDraft) -> bool:
    """Store a receipt unless that message is already stored; True when this call created it.

    Must run inside the caller's transaction: the unique constraint on (account, message id)
    decides, so concurrent or repeated syncs never store a message twice.
    """
    recognition = draft.recognition
    parsed = draft.parsed
    try:
        with transaction.atomic():
            receipt = Receipt.objects.create(
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
    except IntegrityError:
        if Receipt.objects.filter(account=account, gmail_message_id=draft.gmail_message_id).exists():
            return False
        raise
    for attachment in parsed.attachments:
        attachment_store(receipt=receipt, attachment=attachment)
    return True


def attachment_store(*, receipt: Receipt, attachment: Attachment) -> ReceiptAttachment | None:
    """Store a PDF or image of a receipt; other files are not kept. Oversized files are
    recorded with the reason instead of their bytes."""
    content_type = sniff_content_type(attachment.data)
    if content_type not in STORED_TYPES:
        return None
    digest = sha256_hex(attachment.data)
    if ReceiptAttachment.objects.filter(receipt=receipt, sha256=digest).exists():
        return None  # the same file attached twice to one message
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
    row.save()
    return row
