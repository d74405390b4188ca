"""Transitions of a sync run, each a conditional UPDATE so that no two callers both win.

These are the only writers of ``SyncRun.status``; the page loop, the API, the admin and the
commands all go through them. See ``SyncRun``'s docstring for the state machine.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import SyncRun

Status = SyncRun.Status


class TransitionRefused(Exception):
    """The run was not in a status from which the requested transition is allowed."""

    def __init__(self, run: SyncRun, action: str) -> None:
        self.run = run
        super().__init__(f"Sync run {run.pk} is {run.status}; it cannot be {action}.")


def transition(
    *, run_id: int, from_statuses: Iterable[str], to_status: str, **fields: Any
) -> bool:
    """Move a run from one of ``from_statuses`` to ``to_status``; True if this call did it."""
    now = timezone.now()
    if to_status in SyncRun.FINAL_STATUSES:
        fields.setdefault("finished_at", now)
        fields.setdefault("worker_id", "")
    updated = SyncRun.objects.filter(pk=run_id, status__in=list(from_statuses)).update(
        status=to_status, updated_at=now, **fields
    )
    return updated == 1


def request_cancel(*, run: SyncRun) -> SyncRun:
    """Cancel a run: a paused run at once, a running one at its next commit. A cancel always
    wins over a slice pausing (or a paused run being claimed) at the same moment: it tries again
    on the status it lost to."""
    for _ in range(5):
        if transition(run_id=run.pk, from_statuses=[Status.PAUSED], to_status=Status.CANCELLED):
            break
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


def reopen_for_resume(*, run: SyncRun) -> SyncRun:
    """Make a paused, failed or cancelled run runnable again from its checkpoint.

    The caller enqueues the next slice (after commit). Raises ``IntegrityError`` if another
    run of the account is already active: the database allows only one.
    """
    with transaction.atomic():
        ok = transition(
            run_id=run.pk,
            from_statuses=SyncRun.RESUMABLE_STATUSES,
            to_status=Status.RUNNING,
            finished_at=None,
            error_message="",
            cancel_requested=False,
            worker_id="",
        )
    run.refresh_from_db()
    if not ok:
        raise TransitionRefused(run, "resumed")
    return run


def mark_failed(*, run: SyncRun, message: str) -> SyncRun:
    """Fail a run by hand (an operator's decision), keeping its checkpoint for a resume."""
    if not transition(
        run_id=run.pk,
        from_statuses=SyncRun.ACTIVE_STATUSES,
        to_status=Status.FAILED,
        error_message=message,
    ):
        run.refresh_from_db()
        raise TransitionRefused(run, "marked failed")
    run.refresh_from_db()
    return run


def mark_completed(*, run: SyncRun) -> SyncRun:
    """Close a run stuck in ``paused`` as completed (an operator's decision)."""
    if not transition(
        run_id=run.pk, from_statuses=[Status.PAUSED], to_status=Status.COMPLETED, has_next=False
    ):
        run.refresh_from_db()
        raise TransitionRefused(run, "marked completed")
    run.refresh_from_db()
    return run
