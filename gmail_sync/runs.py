"""A sync run's status: every transition, each a conditional UPDATE so that no two callers both win.

These are the only writers of ``SyncRun.status`` after a run is created. The page loop, the API,
the admin, the commands and the sweeper all go through them; ``TRANSITIONS`` is the whole state
machine (``SyncRun``'s docstring tells it in words). A transition made for a worker (``owner``)
happens only while that worker still owns the run, so an operator's change or a reclaim stops a
slice at its next write.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import GmailAccount, SyncRun

Status = SyncRun.Status

# name: (the statuses it leaves from, the status it reaches)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": ((Status.PAUSED, Status.RUNNING), Status.RUNNING),  # a slice takes a paused or orphaned run
    "pause": ((Status.RUNNING,), Status.PAUSED),  # a slice's time is up; the next slice is chained
    "hold": ((Status.RUNNING,), Status.PAUSED),  # an operator's Ctrl-C: paused until an operator resumes
    "complete": ((Status.RUNNING,), Status.COMPLETED),  # the range (or the history) was read to its end
    "fail": ((Status.RUNNING, Status.PAUSED), Status.FAILED),  # a slice's error, or an operator's decision
    "cancel": ((Status.RUNNING, Status.PAUSED), Status.CANCELLED),  # at once when paused, at a write when running
    "resume": ((Status.PAUSED, Status.FAILED, Status.CANCELLED), Status.RUNNING),  # from the checkpoint
    "close": ((Status.PAUSED,), Status.COMPLETED),  # an operator closes a run stuck in paused
}


class TransitionRefused(Exception):
    """The run was not in a status from which the requested transition is allowed."""

    def __init__(self, run: SyncRun, action: str) -> None:
        self.run = run
        super().__init__(f"Sync run {run.pk} is {run.status}; it cannot be {action}.")


def _move(name: str, *, run_id: int, owner: str | None = None, where: Q | None = None,
          on_commit: Callable[[], None] | None = None, **fields: Any) -> bool:
    """Make transition ``name`` if the run is in one of its statuses (and, given ``owner``, owned
    by that worker; given ``where``, matching it too). True if this call made it. ``on_commit``
    runs once the transition is committed."""
    sources, target = TRANSITIONS[name]
    now = timezone.now()
    if target in SyncRun.FINAL_STATUSES:
        fields.setdefault("finished_at", now)
    if target != Status.RUNNING:
        fields.setdefault("worker_id", "")
    condition = Q(pk=run_id, status__in=sources)
    if owner is not None:
        condition &= Q(worker_id=owner)
    if where is not None:
        condition &= where
    with transaction.atomic():
        moved = SyncRun.objects.filter(condition).update(status=target, updated_at=now, **fields) == 1
        if moved and on_commit is not None:
            transaction.on_commit(on_commit)
    return moved


# -- a worker's transitions ---------------------------------------------------------------------
def claim(*, run_id: int, worker_id: str) -> bool:
    """Take ownership of a run for a slice: a paused one (unless an operator holds it), a running
    one no worker owns yet, or a running one whose worker stopped beating. Only one caller wins."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    unowned = Q(worker_id="") | Q(last_heartbeat_at__lt=stale) | Q(last_heartbeat_at__isnull=True)
    return _move(
        "claim", run_id=run_id, where=Q(status=Status.PAUSED, held=False) | Q(status=Status.RUNNING) & unowned,
        worker_id=worker_id, last_heartbeat_at=now, slices_count=F("slices_count") + 1,
        started_at=Coalesce(F("started_at"), Value(now)),
    )


def pause(*, run_id: int, worker_id: str, on_commit: Callable[[], None] | None = None, **fields: Any) -> bool:
    """Set a run down at its checkpoint (the slice's time is up, or it hands the run on); the
    next slice is chained by ``on_commit``. A cancel asked meanwhile wins: then nothing moves."""
    return _move("pause", run_id=run_id, owner=worker_id, where=Q(cancel_requested=False), on_commit=on_commit,
                 **fields)


def hold(*, run_id: int, worker_id: str | None = None, **fields: Any) -> bool:
    """Pause a run until an operator resumes it (the command's Ctrl-C); slices, the sweeper and a
    Celery redelivery leave it paused."""
    return _move("hold", run_id=run_id, owner=worker_id, held=True, **fields)


def complete(*, run_id: int, worker_id: str, **fields: Any) -> bool:
    """The run read its range or its history to the end."""
    return _move("complete", run_id=run_id, owner=worker_id, has_next=False, last_page_token="", page_cursor="",
                 page_ids=[], next_page_token="", boundary_ids=[], **fields)


def fail(*, run_id: int, worker_id: str, message: str, account_error: bool = False, **fields: Any) -> bool:
    """Fail a run of this worker's, keeping its checkpoint for a resume. With ``account_error``
    (Gmail access revoked) its account is marked errored, by the run's owner only."""
    with transaction.atomic():
        failed = _move("fail", run_id=run_id, owner=worker_id, where=Q(status=Status.RUNNING), error_message=message,
                       **fields)
        if failed and account_error:
            GmailAccount.objects.filter(sync_runs__pk=run_id).update(status=GmailAccount.Status.ERROR,
                                                                    status_message=message)
    return failed


def honour_cancel(*, run_id: int) -> bool:
    """A running run asked to cancel, cancelled by the slice that saw the request."""
    return _move("cancel", run_id=run_id, where=Q(status=Status.RUNNING, cancel_requested=True))


# -- a user's or an operator's transitions -----------------------------------------------------
def request_cancel(*, run: SyncRun) -> SyncRun:
    """Cancel a run: a paused run at once, a running one at its next write. A cancel always wins
    over a slice pausing (or a paused run being claimed) at the same moment: it tries again on
    the status it lost to."""
    for _ in range(5):
        if _move("cancel", run_id=run.pk, where=Q(status=Status.PAUSED)):
            break
        # Not a transition: the running slice honours it (``honour_cancel``) at its next write.
        if SyncRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
            cancel_requested=True, updated_at=timezone.now()
        ):
            break
        if not SyncRun.objects.filter(pk=run.pk, status__in=SyncRun.ACTIVE_STATUSES).exists():
            break  # finished meanwhile (or never active): nothing left to cancel
    run.refresh_from_db()
    if run.status not in {Status.CANCELLED, Status.RUNNING}:
        raise TransitionRefused(run, "cancelled")
    return run


def is_orphaned(run: SyncRun) -> bool:
    """A running run whose worker stopped beating: a slice's claim may take it over."""
    stale = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    beat = run.last_heartbeat_at or run.created_at
    return run.status == Status.RUNNING and (beat is None or beat < stale)


def lift_hold(*, run: SyncRun) -> SyncRun:
    """Let the next slice claim a paused run that an operator held."""
    SyncRun.objects.filter(pk=run.pk, status=Status.PAUSED).update(held=False, updated_at=timezone.now())
    run.refresh_from_db()
    return run


def reopen_for_resume(*, run: SyncRun) -> SyncRun:
    """Make a paused, failed or cancelled run runnable again from its checkpoint.

    The caller enqueues the next slice (after commit). Raises ``IntegrityError`` if another
    run of the account is already active: the database allows only one.
    """
    ok = _move("resume", run_id=run.pk, finished_at=None, error_message="", cancel_requested=False, held=False,
               worker_id="")
    run.refresh_from_db()
    if not ok:
        raise TransitionRefused(run, "resumed")
    return run


def mark_failed(*, run: SyncRun, message: str) -> SyncRun:
    """Fail a run by hand (an operator's decision), keeping its checkpoint for a resume."""
    ok = _move("fail", run_id=run.pk, error_message=message)
    run.refresh_from_db()
    if not ok:
        raise TransitionRefused(run, "marked failed")
    return run


def mark_completed(*, run: SyncRun) -> SyncRun:
    """Close a run stuck in ``paused`` as completed (an operator's decision)."""
    ok = _move("close", run_id=run.pk, has_next=False,
               error_message=f"Closed by an operator at {run.messages_scanned} messages, before its range was read to "
                             "the end.")
    run.refresh_from_db()
    if not ok:
        raise TransitionRefused(run, "marked completed")
    return run
