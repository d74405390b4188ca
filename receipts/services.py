"""Writing receipts: one per (account, Gmail message), with their attachments."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone

from gmail_sync.models import GmailAccount, SyncRun

from .duplicates import mark_duplicates
from .files import STORED_TYPES, safe_filename, sha256_hex, sniff_content_type, store_content
from .models import ExaminedMessage, Receipt, ReceiptAttachment
from .parsing import Attachment, ParsedEmail
from .recognition import Recognition
from .rendering import email_html
from .tax import checked

logger = logging.getLogger(__name__)


@dataclass
class ReceiptDraft:
    """Everything needed to store one receipt, prepared outside the transaction."""

    gmail_message_id: str
    gmail_thread_id: str
    parsed: ParsedEmail
    recognition: Recognition
    received_at: datetime | None


@dataclass
class Seen:
    """What the ledger keeps of a message that is not a receipt: its headers and the verdict's
    score and reasons (skipped), or why it could not be read (error)."""

    sender_email: str = ""
    subject: str = ""
    received_at: datetime | None = None
    score: int | None = None
    reasons: list[str] = field(default_factory=list)
    error: str = ""


LEDGER_REASONS_MAX = 6  # the strongest; the list shows three
LEDGER_COLUMNS = ["account_id", "sync_run_id", "gmail_message_id", "received_at", "sender_email", "subject", "verdict",
                  "score", "reasons", "error", "created_at"]


def ledger_store(*, account: GmailAccount, run: SyncRun,
                 entries: list[tuple[str, str, ReceiptDraft | Seen | None]]) -> None:
    """Write the ledger rows of examined messages: (message id, verdict, what was seen). Runs in
    the caller's transaction, beside the counters it must always equal. On PostgreSQL the rows go
    in by COPY (a commit group's rows in one stream, a fifth of an INSERT's cost)."""
    now = timezone.now()
    rows = []
    for message_id, verdict, seen in entries:
        if isinstance(seen, ReceiptDraft):
            seen = Seen(sender_email=seen.parsed.sender_email, subject=seen.parsed.subject,
                        received_at=seen.received_at, score=seen.recognition.confidence,
                        reasons=seen.recognition.reasons)
        seen = seen or Seen()
        rows.append((account.pk, run.pk, message_id[:64], _instant(seen.received_at), _text(seen.sender_email, 320),
                     _text(seen.subject, 300), verdict, seen.score,
                     [_text(r, 200) for r in seen.reasons[:LEDGER_REASONS_MAX]], _text(seen.error, 200), now))
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: Django has no COPY
            with raw.copy(f"COPY examined_messages ({', '.join(LEDGER_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row[:8], json.dumps(row[8], ensure_ascii=False), *row[9:]))
        return
    ExaminedMessage.objects.bulk_create([ExaminedMessage(**dict(zip(LEDGER_COLUMNS, row, strict=True)))
                                         for row in rows], batch_size=500)


def _instant(value: datetime | None) -> datetime | None:
    """A time a column holds: with its zone and in a plausible year (a Date header is the
    sender's to write), else None."""
    if value is None or value.tzinfo is None or not 1970 <= value.year <= 2200:
        return None
    return value


def receipts_store(*, account: GmailAccount, run: SyncRun | None, drafts: list[ReceiptDraft]) -> int:
    """Store the receipts whose messages are not stored yet; return how many this call created.

    Must run inside the caller's transaction (the page loop's, with the run's counters). The
    unique constraints on (account, message id) and (account, message key) decide which are new
    (``bulk_create`` with ``ignore_conflicts``: ``ON CONFLICT DO NOTHING``), so concurrent or
    repeated syncs, and an import of mail a sync stored under another id, never store a message
    twice and never fail on one stored in between. The new ones are then looked up: rows of these
    messages written by this run that were not there before the insert (only the worker that owns
    a run writes its receipts).
    """
    receipts, attachments = receipt_rows(account=account, run=run, drafts=drafts)
    if not receipts:
        return 0
    message_ids = [receipt.gmail_message_id for receipt in receipts]
    stored = Receipt.objects.filter(account=account, gmail_message_id__in=message_ids)
    before = set(stored.values_list("pk", flat=True))
    Receipt.objects.bulk_create(receipts, ignore_conflicts=True)
    rows = list(stored.values_list("pk", "gmail_message_id", "sync_run"))
    if len(rows) < len(receipts):
        found = {message_id for _, message_id, _ in rows}
        keys = {r.message_key for r in receipts if r.gmail_message_id not in found and r.message_key}
        same_mail = set(Receipt.objects.filter(account=account, message_key__in=keys).values_list("message_key",
                                                                                                  flat=True))
        refused = [r for r in receipts if r.gmail_message_id not in found and r.message_key not in same_mail]
        if refused:
            # SQLite's INSERT OR IGNORE skips a row that fails a check as silently as a duplicate:
            # a receipt that is not there now, under its id or its message key, was refused.
            raise IntegrityError(f"{len(refused)} receipt rows refused by a constraint")
    run_id = run.pk if run is not None else None
    created = {message_id: pk for pk, message_id, writer in rows if writer == run_id and pk not in before}
    linked = []
    for message_id, files in attachments.items():
        if message_id in created:  # files of receipts stored earlier are theirs already
            for attachment in files:
                attachment.receipt_id = created[message_id]
                linked.append(attachment)
    ReceiptAttachment.objects.bulk_create(linked, ignore_conflicts=True)
    mark_duplicates(list(created.values()))
    return len(created)


def receipt_rows(*, account: GmailAccount, run: SyncRun | None,
                 drafts: list[ReceiptDraft]) -> tuple[list[Receipt], dict[str, list[ReceiptAttachment]]]:
    """The rows to insert for ``drafts``: one receipt per message, and the kept attachments of
    each message (their files already saved, their receipt not set yet: the insert decides it)."""
    unique: dict[str, ReceiptDraft] = {}
    for draft in drafts:
        unique.setdefault(draft.gmail_message_id, draft)
    receipts = [Receipt(**_receipt_values(account, run, draft)) for draft in unique.values()]
    attachments: dict[str, list[ReceiptAttachment]] = {}
    for receipt, (message_id, draft) in zip(receipts, unique.items(), strict=True):
        seen: set[str] = set()
        kept = 0
        files = attachments[message_id] = []
        for attachment in draft.parsed.attachments:
            values = _attachment_values(attachment, seen, store=kept < settings.ATTACHMENTS_MAX_PER_RECEIPT)
            if values is not None:
                kept += not values["skipped_reason"]
                files.append(ReceiptAttachment(**values))
        if not kept:  # only an email: kept as a page, to be rendered to PDF as its document
            page = draft.parsed.page or email_html(draft.parsed)  # made in the sandbox, when it read the message
            receipt.body_file = store_content(page, sha256_hex(page), "bodies", ".html")
    return receipts, attachments


def receipt_store(*, account: GmailAccount, run: SyncRun | None, draft: ReceiptDraft) -> bool:
    """Store one receipt unless its message is already stored; True when this call created it."""
    return receipts_store(account=account, run=run, drafts=[draft]) == 1


def _receipt_values(account: GmailAccount, run: SyncRun | None, draft: ReceiptDraft) -> dict[str, object]:
    """The receipt's row, as field values (the model's defaults included)."""
    recognition = draft.recognition
    parsed = draft.parsed
    values: dict[str, object] = {
        "account_id": account.pk,
        "sync_run_id": run.pk if run is not None else None,
        "gmail_message_id": draft.gmail_message_id,
        "gmail_thread_id": draft.gmail_thread_id,
        "message_key": message_key(parsed),
        "sender_email": _text(parsed.sender_email, 320),
        "sender_name": _text(parsed.sender_name, 300),
        "subject": _text(parsed.subject),
        "received_at": draft.received_at,
        "vendor": _text(recognition.vendor, 300),
        "amount": recognition.amount,
        "currency": recognition.currency,
        "receipt_date": recognition.receipt_date,
        "invoice_number": _text(recognition.invoice_number, 100),
        "vat_amount": recognition.vat_amount,
        "document_type": recognition.document_type,
        "supplier_tax_id": recognition.supplier_tax_id[:9],
        "allocation_number": recognition.allocation_number[:30],
        "amount_before_vat": recognition.amount_before_vat,
        "vat_rate": recognition.vat_rate,
        "is_copy": recognition.is_copy,
        "confidence": recognition.confidence,
        "review_status": Receipt.ReviewStatus.PENDING,
        "reasons": recognition.reasons,
    }
    values["checks"], values["check_reasons"] = checked(values)
    return values


def message_key(parsed: ParsedEmail) -> str:
    """The message's own identity: a digest of its Message-ID, Date and sender, or "" when it has
    no Message-ID (nothing then tells two copies of it apart from two messages)."""
    if not parsed.message_id_header:
        return ""
    identity = "\x00".join([parsed.message_id_header, parsed.date_header.strip(), parsed.sender_email])
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: str, max_length: int | None = None) -> str:
    """Text as a column can hold it: without NUL characters (mail can carry them, in an encoded
    header say, and PostgreSQL refuses them in text), cut to the column's length."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:max_length] if max_length is not None else value


def attachment_store(*, receipt: Receipt, attachment: Attachment) -> ReceiptAttachment | None:
    """Store a PDF or image of a receipt; other files are not kept. Oversized files are
    recorded with the reason instead of their bytes."""
    seen = set(ReceiptAttachment.objects.filter(receipt=receipt).values_list("sha256", flat=True))
    values = _attachment_values(attachment, seen)
    return ReceiptAttachment.objects.create(receipt=receipt, **values) if values is not None else None


def _attachment_values(attachment: Attachment, seen: set[str], *, store: bool = True) -> dict[str, object] | None:
    """The attachment's row (its receipt aside) with its file saved, or None for a file not
    kept: not a PDF or an image, or the same file already attached to this receipt (``seen``
    holds their digests). Without ``store`` (the receipt has its ATTACHMENTS_MAX_PER_RECEIPT
    files already) the file is listed with that reason, not saved."""
    content_type = sniff_content_type(attachment.data)
    if content_type not in STORED_TYPES:
        return None
    digest = sha256_hex(attachment.data)
    if digest in seen:
        return None
    seen.add(digest)
    values: dict[str, object] = {
        "file": "",
        "original_filename": _text(attachment.filename, 500),
        "filename": safe_filename(attachment.filename, content_type),
        "content_type": content_type,
        "size": len(attachment.data),
        "sha256": digest,
        "skipped_reason": "",
    }
    limit = settings.ATTACHMENT_MAX_BYTES
    if not store:
        values["skipped_reason"] = f"more than ATTACHMENTS_MAX_PER_RECEIPT ({settings.ATTACHMENTS_MAX_PER_RECEIPT}) files"
    elif len(attachment.data) > limit:
        values["skipped_reason"] = f"larger than ATTACHMENT_MAX_BYTES ({len(attachment.data)} > {limit} bytes)"
    else:
        values["file"] = store_content(attachment.data, digest)
    return values
