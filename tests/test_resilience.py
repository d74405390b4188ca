"""The resilience suite: faults that real networks, workers and databases produce. Each scenario
ends with exactly the receipts and counters of a clean run over the same mailbox."""
from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection

from gmail_sync.models import SyncRun
from gmail_sync.services import sync_start
from receipts.models import ExaminedMessage, Receipt
from tests.factories import GmailAccountFactory
from tests.test_celery_worker import _clean_receipts, _receipts, _run, _wait, kill_worker, start_worker  # noqa: F401
from tests.test_celery_worker import pytestmark as needs_postgres_and_redis
from tests.test_sync_engine import FROM, TO

pytestmark = pytest.mark.django_db(transaction=True)


def _assert_same_as_clean(run: SyncRun, expected: set[tuple[Any, ...]]) -> None:
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert run.saved_receipts + run.skipped_count + run.errors_count + run.already_stored == run.messages_scanned
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger"
    clean = SyncRun.objects.get(account__email="clean@example.com")
    assert (run.messages_scanned, run.saved_receipts, run.skipped_count, run.errors_count) == (
        clean.messages_scanned, clean.saved_receipts, clean.skipped_count, clean.errors_count)
    assert _receipts(run.account) == expected
    assert Receipt.objects.filter(account=run.account).count() == len(expected)


def test_faults_low_quota_and_short_tokens(emulator, settings) -> None:
    """10% of requests and batch parts fail (5xx or a dropped connection), the quota is below the
    client's budget so Gmail answers 429s, and access tokens last 30 seconds."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    expected = _clean_receipts(emulator)
    emulator.reset_counts()
    emulator.options.fault_rate = 0.10
    emulator.options.quota_units_per_second = 1600
    emulator.options.access_token_lifetime = 30
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = 2000
    account = GmailAccountFactory(email="faulty@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                     run_to_completion=True)
    run.refresh_from_db()
    _assert_same_as_clean(run, expected)
    # Every message was served once: failed parts were never counted as done, nor fetched twice.
    assert max(emulator.fetches.values()) == 1
    assert set(emulator.fetches) >= {gmail_id for gmail_id, *_ in expected}


@needs_postgres_and_redis[1]
def test_worker_sigkilled_at_three_random_points(emulator, start_worker) -> None:  # noqa: F811
    expected = _clean_receipts(emulator)
    total = SyncRun.objects.get(account__email="clean@example.com").messages_scanned
    emulator.options.latency_ms = (40, 70)
    account = GmailAccountFactory(email="killed@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                     run_to_completion=True)
    # One random point in each of the first three quarters of the mailbox.
    quarter = total // 4
    points = [random.randint(i * quarter + 10, (i + 1) * quarter) for i in range(3)]
    for index, point in enumerate(points):
        worker = start_worker(f"victim{index}", beat=True)
        # Killed only once this worker owns the run (its own slice) and is past the point.
        def owned_and_past(index: int = index, point: int = point) -> bool:
            current = _run(run.pk)
            return current.slices_count == index + 1 and current.messages_scanned >= point

        _wait(owned_and_past)
        kill_worker(worker)
        assert _run(run.pk).status == SyncRun.Status.RUNNING
    emulator.options.latency_ms = (0, 0)
    start_worker("rescuer", beat=True)
    _wait(lambda: _run(run.pk).status in SyncRun.FINAL_STATUSES)
    run = _run(run.pk)
    assert run.slices_count >= 4
    _assert_same_as_clean(run, expected)


@needs_postgres_and_redis[1]
def test_database_backend_terminated_mid_page(emulator, start_worker) -> None:  # noqa: F811
    expected = _clean_receipts(emulator)
    emulator.options.latency_ms = (40, 70)
    start_worker("steady", beat=True)
    account = GmailAccountFactory(email="dbkill@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                     run_to_completion=True)
    _wait(lambda: _run(run.pk).messages_scanned >= 60)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        terminated = sum(1 for (ok,) in cursor.fetchall() if ok)
    assert terminated >= 1
    emulator.options.latency_ms = (0, 0)
    _wait(lambda: _run(run.pk).status in SyncRun.FINAL_STATUSES)
    run = _run(run.pk)
    assert run.slices_count >= 2, "the slice whose connection died handed the run on"
    _assert_same_as_clean(run, expected)
