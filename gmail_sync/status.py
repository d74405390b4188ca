"""The status JSON of a run, in the seed's exact shape (plus a few live figures)."""
from __future__ import annotations

from typing import Any

from django.utils import timezone

from .models import SyncRun


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


WAITING_AFTER_SECONDS = 15


def waiting_for_worker(run: SyncRun) -> bool:
    """A run that no worker has taken for a while: started or paused between slices, and not
    claimed since (no worker is running, or every one is busy)."""
    unclaimed = (run.status == SyncRun.Status.RUNNING and not run.worker_id) or (
        run.status == SyncRun.Status.PAUSED and not run.held and not run.cancel_requested)
    since = run.updated_at or run.created_at
    return bool(unclaimed and since and (timezone.now() - since).total_seconds() > WAITING_AFTER_SECONDS)


def run_status(run: SyncRun) -> dict[str, Any]:
    rate = run.messages_per_second
    estimate = run.estimated_total
    if run.status == SyncRun.Status.COMPLETED and not run.error_message:  # read to its end (not closed by hand)
        percentage: float | None = 100.0
    elif estimate:
        percentage = round(min(99.9, 100.0 * run.messages_scanned / estimate), 1)
    else:
        percentage = None
    eta = None
    if estimate and rate and run.status == SyncRun.Status.RUNNING:  # a paused run has no ETA: it may wait long
        eta = max(0, round((estimate - run.messages_scanned) / rate))
    run_to_completion = run.run_to_completion
    return {
        "id": run.pk,
        "account": run.account_id,
        "mode": run.mode,
        "status": run.status,
        "progress": {
            "messages_scanned": run.messages_scanned,
            "saved_receipts": run.saved_receipts,
            "skipped_count": run.skipped_count,
            "errors_count": run.errors_count,
        },
        "config": {
            "from_date": _iso(run.from_date),
            "to_date": _iso(run.to_date),
            "months_back": run.months_back,
            "run_to_completion": run_to_completion,
            "max_seconds_per_run": run.max_seconds_per_run,
        },
        "checkpoint": {
            "has_next": run.has_next,
            "last_page_token": run.last_page_token or None,
            "current_month": run.current_month or None,
        },
        "pages_scanned": run.pages_scanned,
        "slices": run.slices_count,
        "estimated_total": estimate,
        "progress_percentage": percentage,
        "messages_per_second": rate,
        "eta_seconds": eta,
        "seconds_since_heartbeat": run.seconds_since_heartbeat,
        "cancel_requested": run.cancel_requested,
        "waiting_for_worker": waiting_for_worker(run),
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "error_message": run.error_message or None,
    }
