"""The page loop: one slice of a sync run.

A slice claims its run with a conditional UPDATE, then walks the run's range month by month
(or the account's Gmail history), one page of message ids at a time, fetching messages in
batches through the Gmail seam and recognising receipts. Every few examined batches are
committed in one transaction together with the counters and the checkpoint (and always at a
page's end, when the slice's time is up, or before a Gmail error ends the slice), so a slice
killed at any instant loses nothing and counts nothing twice: the next slice resumes at the
last committed message. Every write to the run is conditional on the run still being this
worker's and not asked to cancel, so a cancel or an operator's change stops the slice at its
next write.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from receipts import senders
from receipts.parsing import MessageRefused, parse_email
from receipts.recognition import recognise
from receipts.rules import rules_of_business
from receipts.sandbox import MessageFailed, shared_sandbox
from receipts.services import ReceiptDraft, Seen, ledger_store, receipts_store

from . import dates, likely, quarantine, runs
from .client import (
    OUT_OF_RANGE_LABELS,
    AccessRevoked,
    GmailClient,
    GmailError,
    HistoryExpired,
    MessageNotFound,
    raw_bytes,
    received_at,
)
from .models import GmailAccount, SyncRun

logger = logging.getLogger(__name__)
Status = SyncRun.Status

PAGE_SIZE = 500  # ids per messages.list page (Gmail's maximum)
# Fetched batches examined before their results are committed together. Each commit has a fixed
# cost (a statement, a round trip); three batches are at most 150 messages to fetch again after
# a killed worker, and the raw mail is dropped as each batch is examined.
COMMIT_EVERY_BATCHES = 3
# ... or sooner, when the receipts waiting for the commit hold this many bytes of files.
COMMIT_EVERY_FILE_BYTES = 64 * 1024 * 1024
PROGRESS_LOG_EVERY_SECONDS = 5.0
# Slices in a row that a database error may end before the run fails; each next slice waits
# twice as long as the one before (2 s, 4 s, ... at most DATABASE_BACKOFF_MAX_SECONDS).
DATABASE_RETRIES = 8
DATABASE_BACKOFF_MAX_SECONDS = 120  # RUN_PROGRESS log lines: at every page and at most this often between

ClientFactory = Callable[[GmailAccount], GmailClient]
ProgressCallback = Callable[[SyncRun], None]


class Quarantined(Exception):
    """Stands for a quarantined message in a fetched batch: it was not fetched."""


QUARANTINED = Quarantined("quarantined after repeated failures")


class LostOwnership(Exception):
    """The run is no longer ours (cancelled, failed by an operator, or reclaimed)."""


# (verdict, what was seen): 'receipt' with its draft, 'skipped' or 'error' with a Seen (or None),
# or 'outside'/'gone' (not counted).
Verdict = tuple[str, "ReceiptDraft | Seen | None"]


@dataclass
class Examined:
    """Fetched batches, examined and not committed yet, with their ledger entries."""

    batches: int = 0
    last_id: str = ""
    drafts: list[ReceiptDraft] = field(default_factory=list)
    skipped: int = 0
    errors: int = 0
    file_bytes: int = 0
    ledger: list[tuple[str, str, ReceiptDraft | Seen | None]] = field(default_factory=list)

    def add(self, ids: list[str], verdicts: list[Verdict]) -> None:
        self.batches += 1
        self.last_id = ids[-1]
        drafts = [seen for _, seen in verdicts if isinstance(seen, ReceiptDraft)]
        self.drafts += drafts
        self.file_bytes += sum(len(a.data) for draft in drafts for a in draft.parsed.attachments)
        self.skipped += sum(1 for verdict, _ in verdicts if verdict == "skipped")
        self.errors += sum(1 for verdict, _ in verdicts if verdict == "error")
        self.ledger += [(mid, verdict, seen) for mid, (verdict, seen) in zip(ids, verdicts, strict=True)
                        if verdict in {"receipt", "skipped", "error"}]


@dataclass
class SliceResult:
    run_id: int
    outcome: str  # not_claimed | paused | completed | failed | cancelled | interrupted | lost
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "outcome": self.outcome, "status": self.status}


def default_client(account: GmailAccount) -> GmailClient:
    return GmailClient(refresh_token=account.refresh_token, account_key=f"account:{account.pk}")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{time.monotonic_ns()}"


def counters(run: SyncRun) -> str:
    line = (
        f"run_id={run.pk} status={run.status} scanned={run.messages_scanned} saved={run.saved_receipts} "
        f"skipped={run.skipped_count} errors={run.errors_count} already_stored={run.already_stored} "
        f"pages={run.pages_scanned} month={run.current_month or '-'}"
    )
    if run.phase:
        line += f" phase={run.phase}"
    if run.mode == SyncRun.Mode.TAKEOUT_IMPORT:
        line += f" offset={run.source_offset}"
    return line


class SliceRunner:
    def __init__(
        self,
        run_id: int,
        *,
        worker_id: str,
        client_factory: ClientFactory = default_client,
        on_progress: ProgressCallback | None = None,
        chain: Callable[..., None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_id = run_id
        self.worker_id = worker_id
        self.client_factory = client_factory
        self.on_progress = on_progress
        self.chain = chain
        self.clock = clock
        self.boundary: list[str] = []  # examined in the window's last second, not committed yet

    # -- entry ---------------------------------------------------------------------------
    def run(self) -> SliceResult:
        if not runs.claim(run_id=self.run_id, worker_id=self.worker_id):
            status = SyncRun.objects.filter(pk=self.run_id).values_list("status", flat=True).first() or "missing"
            logger.info("run_id=%s not claimed (status=%s)", self.run_id, status)
            return SliceResult(self.run_id, "not_claimed", status)
        run = SyncRun.objects.select_related("account").get(pk=self.run_id)
        self.run_obj = run
        self.account = run.account  # kept here: refreshing the run forgets its loaded relations
        # The business's sender rules, read once a slice: a rule added during a run counts from its next slice.
        self.rules = rules_of_business(self.account.business_id)
        self.keep = frozenset(sender for sender, rule in self.rules.items() if rule.decision == senders.RECEIPT)
        self.started = self.last_log = self.clock()
        self.limit = None if run.run_to_completion else (run.max_seconds_per_run or settings.MAX_SECONDS_PER_RUN)
        if run.slices_count == 1:
            logger.info("🔍 RUN_START %s mode=%s from=%s to=%s", counters(run), run.mode, run.from_date, run.to_date)
        else:
            logger.info("▶️ RUN_RESUME %s slice=%s page_token=%s", counters(run), run.slices_count, bool(run.last_page_token))
        try:
            outcome = self._scan()
        except LostOwnership:
            cancelled = self._cancel()
            if cancelled:
                return cancelled
            run.refresh_from_db()
            logger.info("run_id=%s stopped: no longer owned (status=%s)", run.pk, run.status)
            return SliceResult(run.pk, "lost", run.status)
        except KeyboardInterrupt:  # an operator's stop: held until an operator resumes it
            runs.hold(run_id=run.pk, worker_id=self.worker_id, **self._worked())
            run.refresh_from_db()
            logger.info("⏸️ Interrupted; run paused at its checkpoint until resumed %s", counters(run))
            return SliceResult(run.pk, "interrupted", run.status)
        except SoftTimeLimitExceeded:  # the task ran for its whole time limit: the next task goes on
            logger.info("run_id=%s reached the task's time limit; handing on from the checkpoint", run.pk)
            if not self._release():
                return SliceResult(run.pk, "lost", "unknown")
            return SliceResult(run.pk, "paused", Status.PAUSED)
        except AccessRevoked:
            return self._fail(
                "Gmail access was revoked or has expired. Reconnect the Gmail account, then resume this run "
                "to continue from its checkpoint.",
                account_error=True,
            )
        except GmailError as exc:
            return self._fail(f"Gmail error: {exc}. Resume the run to continue from its checkpoint.")
        except (OperationalError, InterfaceError) as exc:
            return self._database_lost(exc)
        except DatabaseError as exc:  # its text may quote a row (subject, sender, amounts): not for the page
            logger.exception("run_id=%s failed", run.pk)
            return self._fail(f"{type(exc).__name__} from the database; the worker's log has the details. "
                              "Resume the run to continue from its checkpoint.")
        except Exception as exc:  # a bug or an outage of our own: fail loudly, keep the checkpoint
            logger.exception("run_id=%s failed", run.pk)
            return self._fail(f"{type(exc).__name__}: {exc}")
        return outcome

    # -- scans ---------------------------------------------------------------------------
    def _scan(self) -> SliceResult:
        run = self.run_obj
        self.client = self.client_factory(self.account)
        self.client.on_wait = self._beat
        if not run.history_id_at_start:
            profile = self.client.get_profile()
            self._update(history_id_at_start=str(profile.get("historyId", "")))
        if run.start_history_id:
            return self._history_scan()
        return self._range_scan()

    def _range_scan(self) -> SliceResult:
        """The range, month by month, each month in time windows listed in one call each. A
        receipts-first run reads the range twice over: the likely receipts, then the rest."""
        run = self.run_obj
        assert run.from_date and run.to_date
        months = dates.months_between(run.from_date, run.to_date)
        month = run.current_month if run.current_month in months else months[0]
        window = _parse_window(run.last_page_token) if run.current_month == month else None
        ids: list[str] | None = list(run.page_ids) if window and window[1] is not None else None
        if run.estimated_total is None:
            start, end = dates.window(run.from_date, run.to_date)
            estimate = self.client.list_messages(q=_window_query(start, end), max_results=1)
            self._update(estimated_total=estimate.result_size_estimate, current_month=month)
        while True:
            stop = self._should_stop()
            if stop:
                return stop
            month_start, month_end = dates.window(*dates.month_bounds(month, run.from_date, run.to_date))
            if window is None or ids is None:
                start = window[0] if window else month_start
                end, ids = self._list_window(start, month_end, likely.phase_filter(run.phase, run.likely_query))
                examined_before = set(run.boundary_ids)
                ids = [mid for mid in ids if mid not in examined_before]
                window = (start, end)
                self._update(last_page_token=f"{start}-{end}", page_ids=ids, boundary_ids=[], current_month=month,
                             page_cursor="")
            start, listed_to = window
            assert listed_to is not None  # listed just above, or kept with its ids in the checkpoint
            end = listed_to
            stop = self._process_page(ids, window=(start * 1000, end * 1000), page_token=run.last_page_token,
                                      month=month)
            if stop:
                return stop
            if end < month_end:
                window, ids = (end, None), None
                self._checkpoint(last_page_token=f"{end}-", page_ids=[], current_month=month, page_cursor="",
                                 page_done=True)
                continue
            index = months.index(month)
            if index + 1 < len(months):
                month, window, ids = months[index + 1], None, None
                self._checkpoint(last_page_token="", page_ids=[], current_month=month, page_cursor="",
                                 page_done=True)
                continue
            if run.phase == SyncRun.Phase.LIKELY:  # the likely receipts are read: now the rest of the range
                month, window, ids = months[0], None, None
                self._checkpoint(phase=SyncRun.Phase.REST, last_page_token="", page_ids=[], boundary_ids=[],
                                 current_month=month, page_cursor="", page_done=True)
                logger.info("run_id=%s read the likely receipts (saved=%s already_stored=%s); now the rest of the "
                            "range", run.pk, run.saved_receipts, run.already_stored)
                continue
            return self._complete()

    def _list_window(self, start: int, limit: int, search: str = "") -> tuple[int, list[str]]:
        """The longest window from ``start`` (epoch seconds) to at most ``limit`` whose messages
        one messages.list call answers whole, and their ids: no page token is ever carried over,
        so none can expire, and a deletion cannot shift what a later page would have held. A
        window of one second that holds more than a page is read through its pages at once."""
        end = limit
        while True:
            page = self.client.list_messages(q=_window_query(start, end, search), max_results=PAGE_SIZE)
            if not page.next_page_token:
                return end, page.ids
            width = end - start
            if width <= 1:
                ids = list(page.ids)
                next_token: str | None = page.next_page_token
                while next_token:
                    page = self.client.list_messages(q=_window_query(start, end, search), page_token=next_token,
                                                     max_results=PAGE_SIZE)
                    ids += page.ids
                    next_token = page.next_page_token
                return end, list(dict.fromkeys(ids))
            # Shrink to what the estimate says fits in four fifths of a page, and at least by half.
            share = 0.8 * PAGE_SIZE / max(page.result_size_estimate, PAGE_SIZE + 1)
            end = start + max(1, min(width // 2, int(width * share)))

    def _history_scan(self) -> SliceResult:
        run = self.run_obj
        token = run.last_page_token or None
        ids: list[str] | None = list(run.page_ids) if token == (run.last_page_token or None) and run.page_ids else None
        next_token = run.next_page_token or None
        while True:
            stop = self._should_stop()
            if stop:
                return stop
            if ids is None:
                try:
                    page = self.client.list_history(start_history_id=run.start_history_id, page_token=token)
                except HistoryExpired:
                    return self._fall_back_to_range()
                ids, next_token = page.message_ids, page.next_page_token
                # This page's ids are kept with the checkpoint, so that a resumed slice reads
                # the same list from its cursor, whatever was deleted meanwhile.
                self._update(last_page_token=token or "", page_ids=ids, next_page_token=next_token or "",
                             current_month="", page_cursor="")
            stop = self._process_page(ids, window=None, page_token=token or "", month="")
            if stop:
                return stop
            if not next_token:
                return self._complete()
            token, ids = next_token, None
            self._checkpoint(last_page_token=token, page_ids=[], next_page_token="", current_month="", page_cursor="",
                             page_done=True)

    def _fall_back_to_range(self) -> SliceResult:
        run = self.run_obj
        account = self.account
        start = timezone.localdate(account.last_synced_at, timezone=dates.zone()) if account.last_synced_at else None
        end = dates.today()
        if start is None or start > end:
            start, end = dates.months_back_range(36)
        logger.info("run_id=%s history id %s expired; scanning %s..%s instead", run.pk, run.start_history_id, start, end)
        self._update(start_history_id="", from_date=start, to_date=end, last_page_token="", page_cursor="",
                     page_ids=[], next_page_token="", boundary_ids=[], current_month="")
        run.refresh_from_db()
        return self._range_scan()

    # -- one page ------------------------------------------------------------------------
    def _process_page(self, ids: list[str], *, window: tuple[int, int] | None, page_token: str, month: str) -> SliceResult | None:
        run = self.run_obj
        cursor = run.page_cursor if (run.last_page_token or "") == page_token and run.current_month == month else ""
        ids = list(dict.fromkeys(ids))
        if cursor and cursor in ids:
            ids = ids[ids.index(cursor) + 1:]
        pending = Examined()
        batches = self._fetch_in_order(ids)
        while True:
            try:
                batch_ids, fetched = next(batches, (None, None))
            except GmailError:
                self._commit(pending, self._page_checkpoint(pending, page_token, month))  # what was fetched stays fetched
                raise
            if batch_ids is None or fetched is None:
                return None
            pending.add(batch_ids, [self._examine(mid, fetched.get(mid), window) for mid in batch_ids])
            del fetched  # the raw mail; only the receipts' drafts wait for the commit
            # The slice's time runs out only at a batch's end, and what was examined is committed
            # first, so messages already fetched (and paid for in quota) are never fetched again.
            time_up = self._time_up()
            if (time_up or pending.batches >= COMMIT_EVERY_BATCHES or pending.file_bytes >= COMMIT_EVERY_FILE_BYTES
                    or batch_ids[-1] == ids[-1]):
                self._commit(pending, self._page_checkpoint(pending, page_token, month))
                pending = Examined()
            if time_up:
                return self._pause()

    def _fetch_in_order(self, ids: list[str]) -> Iterator[tuple[list[str], dict[str, Any]]]:
        """The page's messages in batches, in its order; a quarantined one is not fetched but
        stands in its place as ``QUARANTINED``, so that it is counted where it lies on the page."""
        held = quarantine.quarantined(account=self.account, ids=ids)
        position = 0
        for batch_ids, fetched in self.client.iter_messages([mid for mid in ids if mid not in held], fmt="raw"):
            end = ids.index(batch_ids[-1], position) + 1
            span = ids[position:end]
            fetched.update((mid, QUARANTINED) for mid in span if mid in held)
            yield span, fetched
            position = end
        if position < len(ids):
            yield ids[position:], dict.fromkeys(ids[position:], QUARANTINED)

    def _examine(self, message_id: str, resource: Any, window: tuple[int, int] | None) -> Verdict:
        """'receipt', 'skipped', 'error'; or, not counted, 'outside' (belongs to a neighbouring
        window, or is in spam, the trash or drafts) or 'gone' (deleted since it was listed)."""
        if isinstance(resource, MessageNotFound):  # deleted since it was listed: no longer in the range
            logger.info("run_id=%s message %s is gone (404)", self.run_id, message_id)
            return "gone", None
        if resource is QUARANTINED:
            logger.info("run_id=%s message %s is quarantined; not read again", self.run_id, message_id)
            return "error", Seen(error="quarantined after repeated failures")
        if isinstance(resource, Exception):
            logger.warning("run_id=%s message %s failed: %s", self.run_id, message_id, resource)
            return "error", Seen(error=f"Gmail could not give it: {resource}"[:200])
        try:
            internal_ms = int(resource.get("internalDate", "0"))
            if window and not (window[0] <= internal_ms < window[1]):
                return "outside", None
            if OUT_OF_RANGE_LABELS & set(resource.get("labelIds", [])):  # moved to spam or the trash meanwhile
                return "outside", None
            if window and internal_ms >= window[1] - 1000:
                self.boundary.append(message_id)
            raw = raw_bytes(resource)
        except Exception:
            logger.warning("run_id=%s message %s could not be read", self.run_id, message_id, exc_info=True)
            return "error", None
        return self._read(raw, message_id, str(resource.get("threadId", "")), received_at(resource))

    def _read(self, raw: bytes, message_id: str, thread_id: str, received: datetime | None) -> Verdict:
        """Parse and recognise one message's bytes: 'receipt' with its draft, 'skipped' or 'error'."""
        try:
            if settings.EXAMINE_IN_SANDBOX:
                parsed, recognition = shared_sandbox().examine(raw, keep=self.keep)
            else:
                parsed = parse_email(raw)
                recognition = recognise(parsed)
        except MessageRefused as exc:  # by design and in bounded time: its reason, no traceback
            logger.warning("run_id=%s message %s refused: %s", self.run_id, message_id, exc)
            return "error", Seen(received_at=received, error=f"refused: {exc}"[:200])
        except MessageFailed as exc:  # out of memory or time, or the reader died: this message only
            logger.warning("run_id=%s message %s could not be read (%s)", self.run_id, message_id, exc)
            quarantine.record_failure(account=self.account, run=self.run_obj, message_id=message_id,
                                      reason=f"could not be read: {exc}")
            return "error", Seen(received_at=received, error=f"could not be read: {exc}"[:200])
        except Exception:
            logger.warning("run_id=%s message %s could not be read", self.run_id, message_id, exc_info=True)
            return "error", None
        rule = senders.rule_for(parsed.sender_email, self.rules) if parsed is not None else None
        if rule is not None:  # the business's word about this sender comes before the recogniser's
            recognition = senders.apply_rule(recognition, rule.decision, rule.vendor, rule.sender)
        if not recognition.is_receipt or parsed is None:
            return "skipped", Seen(
                sender_email=parsed.sender_email if parsed else "", subject=parsed.subject if parsed else "",
                received_at=received or (parsed.date if parsed else None), score=recognition.confidence,
                reasons=recognition.reasons)
        return "receipt", ReceiptDraft(message_id, thread_id, parsed, recognition, received or parsed.date)

    def _page_checkpoint(self, examined: Examined, page_token: str, month: str) -> dict[str, Any]:
        """The checkpoint past ``examined``, the last examined batches of a page."""
        checkpoint: dict[str, Any] = {"last_page_token": page_token, "current_month": month,
                                      "page_cursor": examined.last_id}
        if self.boundary and examined.batches:  # the boundary's messages are in these batches
            checkpoint["boundary_ids"] = [*self.run_obj.boundary_ids, *self.boundary]
            self.boundary = []
        return checkpoint

    def _commit(self, examined: Examined, checkpoint: dict[str, Any]) -> None:
        """Store the examined batches' receipts and move the run's counters and ``checkpoint``
        past them, in one transaction."""
        if not examined.batches:
            return
        drafts, skipped, errors = examined.drafts, examined.skipped, examined.errors
        increments = {"messages_scanned": len(drafts) + skipped + errors, "errors_count": errors,
                      "skipped_count": skipped}
        checkpoint = {**checkpoint, "database_errors": 0}
        try:
            with transaction.atomic():
                saved = receipts_store(account=self.account, run=self.run_obj, drafts=drafts) if drafts else 0
                ledger_store(account=self.account, run=self.run_obj, entries=examined.ledger)
                # Receipts not saved now were stored before (by an earlier run, or another import).
                self._update(increments={**increments, "saved_receipts": saved,
                                         "already_stored": len(drafts) - saved}, **checkpoint)
        except (OperationalError, InterfaceError):
            raise  # the connection, not a row: the slice hands the run on (see _database_lost)
        except DatabaseError:  # a row the database refused: that message's error, not the group's
            self._commit_one_by_one(examined, checkpoint)
        if self.clock() - self.last_log >= PROGRESS_LOG_EVERY_SECONDS:
            self._log_progress()
        if self.on_progress:
            self.on_progress(self.run_obj)

    def _commit_one_by_one(self, examined: Examined, checkpoint: dict[str, Any]) -> None:
        """The group's write failed on a row: store each receipt on its own (a refused one is an
        error, logged by message id and never by its values), then move the counters past the group."""
        drafts, skipped, errors = examined.drafts, examined.skipped, examined.errors
        saved = refused = 0
        refused_ids: set[str] = set()
        for draft in drafts:
            try:
                with transaction.atomic():
                    saved += receipts_store(account=self.account, run=self.run_obj, drafts=[draft])
            except (OperationalError, InterfaceError):
                raise
            except DatabaseError as exc:
                refused += 1
                refused_ids.add(draft.gmail_message_id)
                logger.warning("run_id=%s message %s could not be stored (%s)", self.run_id, draft.gmail_message_id,
                               type(exc).__name__)
                quarantine.record_failure(account=self.account, run=self.run_obj, message_id=draft.gmail_message_id,
                                          reason=f"refused by the database ({type(exc).__name__})")
        scanned = len(drafts) + skipped + errors
        refusal = Seen(error="refused by the database")
        entries = [(mid, "error", refusal) if verdict == "receipt" and mid in refused_ids else (mid, verdict, seen)
                   for mid, verdict, seen in examined.ledger]
        with transaction.atomic():
            ledger_store(account=self.account, run=self.run_obj, entries=entries)
            self._update(increments={"messages_scanned": scanned, "errors_count": errors + refused,
                                     "saved_receipts": saved, "skipped_count": skipped,
                                     "already_stored": len(drafts) - saved - refused}, **checkpoint)

    # -- state ---------------------------------------------------------------------------
    def _update(self, *, increments: dict[str, float] | None = None, **fields: Any) -> None:
        """Write to the run while this worker owns it and no cancel is asked; otherwise stop the slice.

        ``increments`` are added to counters in the database. What was written is mirrored on
        ``run_obj`` without reading the row back: while this worker owns the run, nobody else
        writes these fields."""
        fields = self._stamped(fields)
        increments = {**(increments or {}), "running_seconds": self._since_beat(fields["last_heartbeat_at"])}
        increments = {name: step for name, step in increments.items() if step}
        if not self._owned().filter(cancel_requested=False).update(
            **fields, **{name: F(name) + step for name, step in increments.items()}
        ):
            raise LostOwnership()
        self._mirror(fields, increments)

    def _since_beat(self, now: datetime) -> float:
        """Seconds of work since this worker's last heartbeat (the mirror holds what it wrote)."""
        beat = self.run_obj.last_heartbeat_at
        return max(0.0, (now - beat).total_seconds()) if beat else 0.0

    def _worked(self) -> dict[str, Any]:
        """The fields that add the work since the last heartbeat to a transition that ends the slice."""
        now = timezone.now()
        return {"running_seconds": F("running_seconds") + self._since_beat(now), "last_heartbeat_at": now}

    @staticmethod
    def _stamped(fields: dict[str, Any]) -> dict[str, Any]:
        now = timezone.now()
        return {**fields, "last_heartbeat_at": now, "updated_at": now}

    def _mirror(self, fields: dict[str, Any], increments: dict[str, float]) -> None:
        """Copy what was written onto ``run_obj``, without reading the row back."""
        run = self.run_obj
        for name, value in fields.items():
            setattr(run, name, value)
        for name, step in increments.items():
            setattr(run, name, getattr(run, name) + step)

    def _checkpoint(self, *, page_done: bool, **fields: Any) -> None:
        self._update(increments={"pages_scanned": 1 if page_done else 0}, **fields)
        self._log_progress()

    def _log_progress(self) -> None:
        self.last_log = self.clock()
        logger.info("📊 RUN_PROGRESS %s", counters(self.run_obj))

    def _time_up(self) -> bool:
        return self.limit is not None and self.clock() - self.started >= self.limit

    def _should_stop(self) -> SliceResult | None:
        return self._pause() if self._time_up() else None

    def _cancel(self) -> SliceResult | None:
        """Honour a cancel asked while this worker held the run; None when none was asked."""
        if not runs.honour_cancel(run_id=self.run_id):
            return None
        run = self.run_obj
        run.refresh_from_db()
        logger.info("🛑 RUN_CANCELLED %s", counters(run))
        return SliceResult(run.pk, "cancelled", run.status)

    def _beat(self, waiting: float = 0) -> None:
        """Move the heartbeat while this worker owns the run (before a Gmail back-off, so that a
        live worker is not taken for a dead one); stop the slice when it no longer does."""
        now = timezone.now()
        worked = self._since_beat(now)
        if not self._owned().filter(cancel_requested=False).update(
            last_heartbeat_at=now, updated_at=now, running_seconds=F("running_seconds") + worked
        ):
            raise LostOwnership()
        self.run_obj.last_heartbeat_at = now
        self.run_obj.running_seconds += worked

    def _ownership(self) -> dict[str, Any]:
        """What the run's row says while this worker owns it."""
        return {"pk": self.run_id, "status": Status.RUNNING, "worker_id": self.worker_id}

    def _owned(self) -> QuerySet[SyncRun]:
        """The run, as long as this worker still owns it."""
        return SyncRun.objects.filter(**self._ownership())

    def _release(self, *, countdown: float = 0, **fields: Any) -> bool:
        """Set the run down as paused at its checkpoint and chain the next slice after commit
        (``countdown`` seconds later)."""
        chain, run_id = self.chain, self.run_id
        then = None
        if chain is not None:
            then = (lambda: chain(run_id, countdown)) if countdown else (lambda: chain(run_id))
        return runs.pause(run_id=run_id, worker_id=self.worker_id, on_commit=then, **self._worked(), **fields)

    def _pause(self) -> SliceResult:
        run = self.run_obj
        if not self._release():
            raise LostOwnership()
        run.refresh_from_db()
        logger.info("⏸️ Reached MAX_SECONDS_PER_RUN (%ss) %s", self.limit, counters(run))
        return SliceResult(run.pk, "paused", run.status)

    def _complete(self) -> SliceResult:
        run = self.run_obj
        with transaction.atomic():
            if not runs.complete(run_id=self.run_id, worker_id=self.worker_id, pages_scanned=F("pages_scanned") + 1,
                                 **self._worked()):
                raise LostOwnership()
            run.refresh_from_db()
            # Only a run that reached from the account's last synced point up to now moves that
            # point: a back-fill of an old month, or of the last week after a month unsynced, would
            # otherwise make the next incremental sync skip the mail in between.
            account = GmailAccount.objects.select_for_update().get(pk=run.account_id)
            if _covers_up_to_now(run, account):
                account_fields: dict[str, Any] = {"last_synced_at": run.started_at or run.finished_at}
                if run.history_id_at_start:
                    account_fields["last_history_id"] = run.history_id_at_start
                GmailAccount.objects.filter(pk=run.account_id).update(**account_fields)
        rate = run.messages_per_second or 0
        logger.info("🔔 JOB_DONE %s messages_per_second=%s", counters(run), rate)
        return SliceResult(run.pk, "completed", run.status)

    def _database_lost(self, exc: Exception) -> SliceResult:
        """The database connection dropped (a restart, a failover, a killed backend): nothing after
        the last committed chunk was kept, so hand the run on from its checkpoint instead of
        failing it. If the database is still away, the stale-run sweeper takes over later."""
        connection.close()
        failures = self.run_obj.database_errors + 1
        if failures > DATABASE_RETRIES:
            logger.error("run_id=%s: %d slices in a row ended by a database error (%s)", self.run_id, failures,
                         type(exc).__name__)
            return self._fail(f"The database failed {failures} slices in a row ({type(exc).__name__}; the worker's "
                              "log has the details). Check the database, then resume the run to continue from its "
                              "checkpoint.")
        delay = min(2 ** failures, DATABASE_BACKOFF_MAX_SECONDS)
        logger.warning("run_id=%s: database error (%s); the next slice resumes from the checkpoint in %s s",
                       self.run_id, type(exc).__name__, delay)
        if not self._release(countdown=delay, database_errors=failures):
            return SliceResult(self.run_id, "lost", "unknown")
        return SliceResult(self.run_id, "paused", Status.PAUSED)

    def _fail(self, message: str, *, account_error: bool = False) -> SliceResult:
        run = self.run_obj
        failed = runs.fail(run_id=self.run_id, worker_id=self.worker_id, message=message, account_error=account_error,
                           **self._worked())
        run.refresh_from_db()
        if failed:
            logger.error("❌ RUN_FAILED %s error=%s", counters(run), message)
            return SliceResult(run.pk, "failed", run.status)
        return SliceResult(run.pk, "lost", run.status)


def _window_query(start: int, end: int, search: str = "") -> str:
    """messages.list's ``q`` for ``[start, end)`` in epoch seconds (``after:`` a second early: the
    sync drops what lies outside by its internalDate), without drafts, which were never received
    (spam and trash are left out by messages.list itself); ``search`` narrows it to a phase's mail."""
    query = f"after:{start - 1} before:{end} -in:drafts"
    return f"{query} {search}" if search else query


def _parse_window(token: str) -> tuple[int, int | None] | None:
    """``START-END`` (a listed window) or ``START-`` (the next one); None for anything else, such
    as a Gmail page token from before windows: that month is then read again from its start,
    which stores nothing twice (receipts are unique per message)."""
    start, dash, end = token.partition("-")
    if not dash or not start.isdigit() or (end and not end.isdigit()):
        return None
    return int(start), int(end) if end else None


def _covers_up_to_now(run: SyncRun, account: GmailAccount) -> bool:
    """Whether ``run`` examined everything from the account's last synced point to its own start:
    a history scan always does; a range scan when it ends no earlier than the day it started and
    begins no later than the day of the last synced point (any day, when there was none)."""
    if run.start_history_id:
        return True
    if run.from_date is None or run.to_date is None:
        return False
    started = timezone.localdate(run.started_at or timezone.now(), timezone=dates.zone())
    if run.to_date < started:
        return False
    if account.last_synced_at is None:
        return True
    return run.from_date <= timezone.localdate(account.last_synced_at, timezone=dates.zone())


def run_slice(run_id: int, **kwargs: Any) -> SliceResult:
    """One slice of the run: a Gmail scan, or an import of an mbox file."""
    kwargs.setdefault("worker_id", default_worker_id())
    mode = SyncRun.objects.filter(pk=run_id).values_list("mode", flat=True).first()
    if mode == SyncRun.Mode.TAKEOUT_IMPORT:
        from .importer import ImportRunner

        return ImportRunner(run_id, **kwargs).run()
    return SliceRunner(run_id, **kwargs).run()
