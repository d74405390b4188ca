"""Runs through real Celery worker processes on Redis and PostgreSQL, as in production.

These need a broker and a database that another process can share, so they run where
DATABASE_URL is PostgreSQL and REDIS_URL is set (CI sets both); elsewhere they are reported
as skipped with that reason.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from gmail_sync import engine
from gmail_sync.models import GmailAccount, SyncRun
from gmail_sync.services import sync_start
from receipts.models import ExaminedMessage, Receipt
from tests.factories import GmailAccountFactory
from tests.test_sync_engine import FROM, TO

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); .ci/run sets both",
    ),
]


def _database_url() -> str:
    params = connection.settings_dict
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def start_worker(emulator, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *, beat: bool = False, **extra_env: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": _database_url(),
            "GMAIL_API_ROOT_URL": emulator.url,
            "GOOGLE_TOKEN_URI": emulator.token_uri,
            "GMAIL_QUOTA_UNITS_PER_SECOND": "1600",
            "SYNC_STALE_AFTER_SECONDS": "3",
            "SYNC_SWEEP_EVERY_SECONDS": "1",
            "MEDIA_ROOT": str(tmp_path / "media"),
            **extra_env,
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
                   "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
        if beat:
            command += ["-B", "--scheduler", "celery.beat:PersistentScheduler", "-s", str(tmp_path / f"{name}-beat")]
        log = open(tmp_path / f"{name}.log", "wb")
        # A session of its own: the worker and the beat it embeds (a process of its own) are one
        # group, to be killed together, as a machine or container going down takes both.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        _signal_group(process, signal.SIGTERM)  # a warm shutdown, which stops the embedded beat too
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)  # whatever is left, an orphaned beat included


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # the whole group is gone already
        pass


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker started by ``start_worker`` and what it started: killing the worker
    alone would leave its embedded beat running as an orphan, scheduling sweeps long after the test."""
    _signal_group(process, signal.SIGKILL)
    process.wait(timeout=10)


def _wait(predicate: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _clean_receipts(emulator) -> set[tuple[object, ...]]:
    """The receipts of a plain in-process run to completion over the same mailbox."""
    clean = GmailAccountFactory(email="clean@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=clean, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                     run_to_completion=True, enqueue=False)
    assert engine.run_slice(run.pk).outcome == "completed"
    return _receipts(clean)


def _receipts(account: GmailAccount) -> set[tuple[object, ...]]:
    return set(Receipt.objects.filter(account=account).values_list(
        "gmail_message_id", "amount", "currency", "vendor", "receipt_date"))


def _run(pk: int) -> SyncRun:
    return SyncRun.objects.get(pk=pk)


def test_time_sliced_run_chains_through_a_worker(emulator, start_worker) -> None:
    expected = _clean_receipts(emulator)
    emulator.options.latency_ms = (30, 50)
    start_worker("sliced")
    # docs/operations.md's check that a worker is alive answers from it (once it is up).
    for _ in range(6):
        ping = subprocess.run([sys.executable, "-m", "celery", "-A", "config", "inspect", "ping", "--timeout", "5"],
                              cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
                              capture_output=True, text=True, timeout=120)
        if "pong" in ping.stdout:
            break
    assert "sliced@" in ping.stdout and "pong" in ping.stdout, ping.stdout + ping.stderr
    account = GmailAccountFactory(email="sliced@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                     run_to_completion=False, max_seconds_per_run=1)
    _wait(lambda: _run(run.pk).status in SyncRun.FINAL_STATUSES)
    run = _run(run.pk)
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert run.slices_count >= 3
    assert run.saved_receipts + run.skipped_count + run.errors_count + run.already_stored == run.messages_scanned
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger"
    assert _receipts(account) == expected


def test_sigkilled_worker_mid_page_is_recovered_by_another(emulator, start_worker) -> None:
    expected = _clean_receipts(emulator)
    emulator.options.latency_ms = (60, 90)
    victim = start_worker("victim")
    account = GmailAccountFactory(email="killed@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                     run_to_completion=True)
    _wait(lambda: _run(run.pk).messages_scanned >= 60)
    kill_worker(victim)
    killed_at = _run(run.pk)
    assert killed_at.status == SyncRun.Status.RUNNING
    assert killed_at.messages_scanned < SyncRun.objects.get(account__email="clean@example.com").messages_scanned
    emulator.options.latency_ms = (0, 0)
    start_worker("rescuer", beat=True)
    _wait(lambda: _run(run.pk).status in SyncRun.FINAL_STATUSES)
    run = _run(run.pk)
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert run.slices_count >= 2
    assert run.saved_receipts + run.skipped_count + run.errors_count + run.already_stored == run.messages_scanned
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger"
    clean_run = SyncRun.objects.get(account__email="clean@example.com")
    assert run.messages_scanned == clean_run.messages_scanned
    assert _receipts(account) == expected
    assert Receipt.objects.filter(account=account).count() == len(expected)


def test_accounts_on_two_workers_share_the_projects_quota_without_exceeding_it(emulator, start_worker,
                                                                               sample_mailbox) -> None:
    """GIVEN three accounts, each allowed 1,600 units a second, on two worker processes, and a
    project limit (in the emulator, 6,000 units in any 2 seconds) below what they would spend
    together WHEN all three sync at once, budgeted at 1,800 units a second for the project
    THEN Gmail never refuses the project, every run completes with exact counters, and together
    they spend close to the project's budget (it is shared: neither process keeps one of its own)."""
    import redis

    from gmail_sync.emulator import Mailbox

    emulator.options.quota_window_seconds = 2
    emulator.options.quota_project_units_per_minute = 6000  # per window: 1,800 x (2 + 1) = 5,400 fits
    emulator.options.latency_ms = (10, 30)
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("receipts-sync:gmail-project-quota:1800")
    accounts = [GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")]
    for number in (1, 2):
        address = f"second{number}@example.com"
        emulator.add_user(Mailbox.from_path(sample_mailbox, address=address), f"token-{number}")
        accounts.append(GmailAccountFactory(email=address, refresh_token=f"token-{number}"))
    for name in ("share-a", "share-b"):
        start_worker(name, GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND="1800", GMAIL_QUOTA_MODEL="2026")
    time.sleep(2)  # both workers up before the first run is sent
    emulator.reset_counts()
    started = time.monotonic()
    runs = [sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=TO,
                       run_to_completion=True) for account in accounts]
    _wait(lambda: all(_run(r.pk).status in SyncRun.FINAL_STATUSES for r in runs))
    elapsed = time.monotonic() - started
    finished = [_run(r.pk) for r in runs]
    assert [r.status for r in finished] == [SyncRun.Status.COMPLETED] * 3, [r.error_message for r in finished]
    assert all(r.saved_receipts + r.skipped_count + r.errors_count + r.already_stored == r.messages_scanned for r in finished)
    assert len({r.messages_scanned for r in finished}) == 1 and finished[0].messages_scanned > 300
    assert emulator.project_rate_limited == 0
    costs = {"messages.list": 5, "messages.get": 20, "getProfile": 1, "history.list": 2}
    spent = sum(costs.get(method, 0) * count for method, count in emulator.calls.items())
    assert 0.6 * 1800 * elapsed <= spent <= 1800 * (elapsed + 1), f"{spent / elapsed:.0f} units a second"
