"""Celery tasks: thin wrappers that load by id and call one service.

Without ``REDIS_URL`` Celery runs eagerly; ``enqueue_slice`` then runs chained slices one
after another in the calling process instead of nesting them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import engine
from .models import GmailAccount, SyncRun

logger = logging.getLogger(__name__)
_inline = threading.local()


# A task that runs past the soft limit hands its run on to the next task from the checkpoint (a
# run to completion goes on in tasks of at most this long); one stuck past the hard limit is
# killed, and its run is taken over once its heartbeat is stale. (prefork pool only)
@shared_task(  # type: ignore[untyped-decorator]  # Celery has no types
    name="gmail_sync.run_sync_slice", acks_late=True, reject_on_worker_lost=True, ignore_result=False,
             soft_time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT, time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT + 120)
def run_sync_slice(run_id: int) -> dict[str, Any]:
    return engine.run_slice(run_id, chain=enqueue_slice).as_dict()


def enqueue_slice(run_id: int, countdown: float = 0) -> None:
    """Send the run's next slice once the current transaction commits, ``countdown`` seconds later."""
    transaction.on_commit(lambda: _send(run_id, countdown))


def _send(run_id: int, countdown: float = 0) -> None:
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        if countdown:
            run_sync_slice.apply_async(args=[run_id], countdown=countdown)
        else:
            run_sync_slice.delay(run_id)
        return
    queue: deque[tuple[int, float]] | None = getattr(_inline, "queue", None)
    if queue is not None:
        queue.append((run_id, countdown))
        return
    if settings.RUN_SYNCS_IN_THREAD:
        threading.Thread(target=_drain, args=(run_id, countdown, True), name=f"sync-run-{run_id}", daemon=True).start()
    else:
        _drain(run_id, countdown, False)


def _drain(run_id: int, countdown: float, own_thread: bool) -> None:
    """Run a slice and every slice it chains, one after another, in this thread."""
    _inline.queue = deque([(run_id, countdown)])
    try:
        while _inline.queue:
            next_id, wait = _inline.queue.popleft()
            if wait:
                time.sleep(wait)
            run_sync_slice.apply(args=[next_id])
    finally:
        _inline.queue = None
        if own_thread:
            connection.close()


@shared_task(  # type: ignore[untyped-decorator]  # Celery has no types
    name="gmail_sync.sweep_stale_runs")
def sweep_stale_runs() -> dict[str, Any]:
    """Re-enqueue runs orphaned by a dead worker or a lost broker message.

    A running run whose heartbeat is older than SYNC_STALE_AFTER_SECONDS, or a paused run
    that nobody picked up in that time, gets a new slice; the slice's claim decides.
    """
    stale = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    orphaned = SyncRun.objects.filter(
        Q(status=SyncRun.Status.RUNNING, last_heartbeat_at__lt=stale)
        | Q(status=SyncRun.Status.RUNNING, last_heartbeat_at__isnull=True, created_at__lt=stale)
        | Q(status=SyncRun.Status.PAUSED, held=False, updated_at__lt=stale)
    ).values_list("pk", flat=True)
    ids = list(orphaned)
    # Stamp them, so a slice that is merely waiting in a long queue is not sent again every sweep.
    SyncRun.objects.filter(pk__in=ids, status=SyncRun.Status.PAUSED).update(updated_at=timezone.now())
    for run_id in ids:
        logger.warning("run_id=%s looks orphaned; re-enqueueing a slice", run_id)
        _send(run_id)
    return {"requeued": ids}


@shared_task(  # type: ignore[untyped-decorator]  # Celery has no types
    name="gmail_sync.incremental_sync_all")
def incremental_sync_all() -> dict[str, Any]:
    """Start an incremental sync for every connected account with no active run."""
    from .services import ActiveRunExists, sync_start

    started = []
    for account in GmailAccount.objects.filter(status=GmailAccount.Status.CONNECTED).exclude(refresh_token_encrypted=""):
        try:
            started.append(sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL).pk)
        except ActiveRunExists:
            continue
    return {"started": started}
