"""Starting, resuming and cancelling sync runs: what the API, the admin and the commands call."""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from receipts.models import ExaminedMessage, Receipt
from receipts.parsing import parse_email
from receipts.recognition import recognise
from receipts.sandbox import shared_sandbox
from receipts.services import ReceiptDraft, message_key, receipts_store

from . import dates, likely, runs, takeout
from .client import GmailClient, raw_bytes, received_at
from .models import GmailAccount, SyncRun

logger = logging.getLogger(__name__)
DEFAULT_MONTHS_BACK = 36


class ActiveRunExists(Exception):
    """The account already has a running or paused run."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        super().__init__(f"Sync run {run.pk} of {run.account.email} is already {run.status}.")


class AccountNotConnected(Exception):
    pass


def active_run(account: GmailAccount) -> SyncRun | None:
    return SyncRun.objects.filter(account=account, status__in=SyncRun.ACTIVE_STATUSES).first()


def resolve_range(
    *, mode: str, account: GmailAccount, from_date: date | None, to_date: date | None, months_back: int | None
) -> dict[str, Any]:
    """The fixed configuration of a new run: its dates, or the history id it starts from."""
    if from_date or to_date:
        start = from_date or dates.months_back_range(DEFAULT_MONTHS_BACK, end=to_date)[0]
        return {"from_date": start, "to_date": to_date or dates.today(), "months_back": None}
    if mode == SyncRun.Mode.INCREMENTAL and months_back is None and account.last_history_id:
        return {"start_history_id": account.last_history_id, "months_back": None}
    months = months_back or DEFAULT_MONTHS_BACK
    start, end = dates.months_back_range(months)
    return {"from_date": start, "to_date": end, "months_back": months}


def sync_start(
    *,
    account: GmailAccount,
    mode: str = SyncRun.Mode.INCREMENTAL,
    from_date: date | None = None,
    to_date: date | None = None,
    months_back: int | None = None,
    run_to_completion: bool | None = None,
    max_seconds_per_run: int | None = None,
    requested_by: Any = None,
    enqueue: bool = True,
    receipts_first: bool | None = None,
) -> SyncRun:
    """Create a run (status ``running``, not yet claimed) and enqueue its first slice after commit.

    A range scan reads the likely receipts of the range first (``SYNC_RECEIPTS_FIRST``, or
    ``receipts_first``), then the rest; a scan of Gmail's history is short and reads in order.
    Raises ``ActiveRunExists`` naming the active run: the database allows one per account.
    """
    account.refresh_from_db()  # its history id and status may have moved since it was loaded
    if account.status != GmailAccount.Status.CONNECTED or not account.has_token:
        raise AccountNotConnected(f"{account.email} is not connected; connect it before syncing.")
    rtc = settings.RUN_TO_COMPLETION if run_to_completion is None else run_to_completion
    config = resolve_range(mode=mode, account=account, from_date=from_date, to_date=to_date, months_back=months_back)
    first = settings.SYNC_RECEIPTS_FIRST if receipts_first is None else receipts_first
    if first and config.get("from_date"):
        config.update(likely_query=likely.query_for_account(account), phase=SyncRun.Phase.LIKELY)
    return _create(account=account, mode=mode, requested_by=requested_by, enqueue=enqueue,
                   run_to_completion=rtc, max_seconds_per_run=None if rtc else (max_seconds_per_run or settings.MAX_SECONDS_PER_RUN),
                   **config)


class ImportRefused(ValueError):
    """The file cannot be imported (missing, unreadable, not an mbox)."""


def import_start(
    *,
    account: GmailAccount,
    path: str | Path,
    run_to_completion: bool | None = None,
    max_seconds_per_run: int | None = None,
    requested_by: Any = None,
    enqueue: bool = True,
) -> SyncRun:
    """Create a run of mode ``takeout_import`` over the mbox file at ``path`` and enqueue its
    first slice after commit. Needs no Gmail connection. Raises ``ImportRefused`` for a file that
    is not there or not an mbox, ``ActiveRunExists`` while the account has an active run."""
    source = Path(path).expanduser().resolve()
    if not source.is_file():
        raise ImportRefused(f"No file at {source}.")
    try:
        takeout.check_mbox(source)
        size = source.stat().st_size
    except takeout.NotAnMbox as exc:
        raise ImportRefused(str(exc)) from None
    except OSError as exc:
        raise ImportRefused(f"Cannot read {source} ({exc.strerror or exc}).") from None
    rtc = settings.RUN_TO_COMPLETION if run_to_completion is None else run_to_completion
    return _create(account=account, mode=SyncRun.Mode.TAKEOUT_IMPORT, requested_by=requested_by, enqueue=enqueue,
                   run_to_completion=rtc,
                   max_seconds_per_run=None if rtc else (max_seconds_per_run or settings.MAX_SECONDS_PER_RUN),
                   source_path=str(source), source_size=size)


def _create(*, account: GmailAccount, mode: str, enqueue: bool, **fields: Any) -> SyncRun:
    """Insert a new running run and enqueue its first slice after commit; ``ActiveRunExists``
    when the account has an active run."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(account=account, mode=mode, status=SyncRun.Status.RUNNING, **fields)
                if enqueue:
                    from .tasks import enqueue_slice

                    enqueue_slice(run.pk)
            break
        except IntegrityError:
            existing = active_run(account)
            if existing is not None:
                raise ActiveRunExists(existing) from None
            if attempt == 2:
                raise
            # The active run it collided with has ended since: the account is free again.
    logger.info("run_id=%s created mode=%s account=%s", run.pk, mode, account.pk)
    return run


def resume_run(*, run: SyncRun, enqueue: bool = True) -> SyncRun:
    """Continue a paused, failed or cancelled run from its checkpoint, or a running one whose
    worker stopped beating (killed with its web server or its worker)."""
    try:
        with transaction.atomic():
            if run.status == SyncRun.Status.PAUSED:
                run = runs.lift_hold(run=run)  # an operator's resume lifts an operator's hold
            elif run.status == SyncRun.Status.RUNNING and runs.is_orphaned(run):
                run.refresh_from_db()  # the next slice's claim takes it over
            else:
                run = runs.reopen_for_resume(run=run)
            if enqueue:
                from .tasks import enqueue_slice

                enqueue_slice(run.pk)
    except IntegrityError:
        existing = active_run(run.account)
        if existing is None:
            raise
        raise ActiveRunExists(existing) from None
    return run


def cancel_run(*, run: SyncRun) -> SyncRun:
    return runs.request_cancel(run=run)


class NotFetchable(Exception):
    """A ledger row whose message cannot be fetched from Gmail again."""


def mark_as_receipt(*, entry: ExaminedMessage, client_factory: Callable[[GmailAccount], GmailClient] | None = None,
                    approve: bool = True, reason: str = "marked as a receipt by a person") -> tuple[Receipt, bool]:
    """Store a message the recogniser passed over as a receipt, after one ``messages.get``: a
    person's decision stands as approved (``approve``); a sender rule's waits for review. Returns
    the receipt and whether it was created (a receipt already stored for the message is left as it
    is, approved by a person's decision, without fetching anything)."""
    from . import engine  # the engine imports this module's neighbours: loaded when first needed

    stored = Receipt.objects.filter(account_id=entry.account_id, gmail_message_id=entry.gmail_message_id).first()
    if stored is not None:
        if approve:
            Receipt.objects.filter(pk=stored.pk).update(review_status=Receipt.ReviewStatus.APPROVED,
                                                        reviewed_at=timezone.now(), updated_at=timezone.now())
            stored.refresh_from_db()
        return stored, False
    if entry.gmail_message_id.startswith(("mbox-", "byte:")):
        raise NotFetchable("This message came from an mbox file, not from Gmail: it cannot be fetched again. "
                           "Import the file again after adding a sender rule, or add the receipt by hand.")
    account = entry.account
    if account.status != GmailAccount.Status.CONNECTED or not account.has_token:
        raise AccountNotConnected(f"{account.email} is not connected; reconnect it to fetch the message again.")
    client = (client_factory or engine.default_client)(account)
    resource = client.get_message(entry.gmail_message_id, fmt="raw")
    raw = raw_bytes(resource)
    if settings.EXAMINE_IN_SANDBOX:
        parsed, recognition = shared_sandbox().examine(raw, keep=True)
    else:
        parsed = parse_email(raw)
        recognition = recognise(parsed)
    assert parsed is not None
    recognition = dataclasses.replace(recognition, is_receipt=True, reasons=[*recognition.reasons, reason])
    draft = ReceiptDraft(entry.gmail_message_id, str(resource.get("threadId", "")), parsed, recognition,
                         received_at(resource) or parsed.date)
    with transaction.atomic():
        created = receipts_store(account=account, run=None, drafts=[draft]) == 1
        # Not created: the same mail is stored already, under another id (an import's, say).
        key = message_key(parsed)
        receipt = Receipt.objects.filter(account=account).filter(
            Q(gmail_message_id=entry.gmail_message_id) | (Q(message_key=key) if key else Q(pk__in=[]))).get()
        if approve:
            Receipt.objects.filter(pk=receipt.pk).update(review_status=Receipt.ReviewStatus.APPROVED,
                                                         reviewed_at=timezone.now())
    receipt.refresh_from_db()
    return receipt, created
