"""The examined-messages ledger: how fast its lists answer at 100,000 rows, and what writing it
costs a sync's database time.

    python bench/ledger.py [--rows 100000] [--count 3000] [--database-url postgres://...]

Lists: ``--rows`` ledger rows for one account (85% skipped, from 2,000 senders of which a few
send most, over 36 months) are inserted, then each list is asked for 200 times through the API
(token auth, filters, the page's count and its 50 rows, serialisation), and p50 and p95 are
printed: every skipped message; those from one frequent sender; those from that sender in one
month; and a text search of subjects (a scan: no index serves a substring).

Database time: the sample mailbox (``--count`` messages) is backfilled from the emulator with no
quota wait, once with the ledger and once with its writes turned off; every query's time is
summed (``connection.execute_wrapper``), and the ledger's whole cost (the wall-clock time of its
writes, building the rows included) is printed as a share of the rest. Default database: a fresh PostgreSQL database ``bench_ledger`` on 127.0.0.1 (the one
production uses); ``--database-url sqlite:///...`` for SQLite.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from common import EmulatorProcess, mailbox, setup_django, table, write

PG = "postgres://postgres@127.0.0.1:5432/bench_ledger"


def _fresh_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _fill(rows: int) -> tuple[Any, str, str]:
    """The ledger rows; returns the API client, a frequent sender and a month it sent in."""
    from rest_framework.test import APIClient

    from gmail_sync.accounts import api_user_create, gmail_account_connect
    from gmail_sync.models import Business, SyncRun
    from receipts.models import ExaminedMessage

    _, token = api_user_create(username="bench", business_name="Bench ledger")
    account = gmail_account_connect(business=Business.objects.get(name="Bench ledger"), email="bench@example.com",
                                    refresh_token="x")
    now = datetime.now(UTC)
    run = SyncRun.objects.create(account=account, mode="full_backfill", status="completed", started_at=now,
                                 finished_at=now)
    rng = random.Random(5)
    senders = [f"sender{i}@vendor{i % 700}.example" for i in range(2000)]
    weights = [1 / (i + 1) for i in range(len(senders))]  # a few send most
    start = datetime(2023, 12, 1, tzinfo=UTC)
    batch = []
    for i in range(rows):
        verdict = "skipped" if rng.random() < 0.85 else ("receipt" if rng.random() < 0.97 else "error")
        batch.append(ExaminedMessage(
            account=account, sync_run=run, gmail_message_id=f"{i:016x}", verdict=verdict,
            received_at=start + timedelta(seconds=rng.randrange(36 * 30 * 86400)),
            sender_email=rng.choices(senders, weights)[0], subject=f"Message {i} about order {rng.randrange(10**6)}",
            score=rng.randrange(100), reasons=["score 0.12 below the threshold", "no amount"]))
        if len(batch) == 5000:
            ExaminedMessage.objects.bulk_create(batch)
            batch = []
    ExaminedMessage.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql":  # what autovacuum does after this many inserts (PostgreSQL 13+)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE examined_messages")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, senders[3], "2025-03"


def _latencies(client: Any, url: str, times: int = 200) -> tuple[float, float, int]:
    client.get(url)  # warm
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(url)
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    count = response.json()["count"]
    return statistics.median(spent), statistics.quantiles(spent, n=20)[18], count


@contextmanager
def _query_time(totals: dict[str, float], flag: dict[str, bool]):  # type: ignore[no-untyped-def]
    from django.db import connection

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            totals["all"] += spent
            if flag["ledger"]:
                totals["ledger"] += spent

    with connection.execute_wrapper(wrapper):
        yield


def _sync_db_time(count: int, *, ledger: bool) -> dict[str, float]:
    from gmail_sync import engine
    from gmail_sync.accounts import gmail_account_connect
    from gmail_sync.models import Business
    from gmail_sync.services import sync_start
    from receipts.services import ledger_store

    totals = {"all": 0.0, "ledger": 0.0, "ledger_wall": 0.0}
    flag = {"ledger": False}

    def measured(**kwargs: Any) -> None:
        flag["ledger"] = True
        started = time.perf_counter()
        try:
            if ledger:
                ledger_store(**kwargs)
        finally:
            flag["ledger"] = False
            totals["ledger_wall"] += time.perf_counter() - started

    engine.ledger_store = measured  # type: ignore[assignment]
    business, _ = Business.objects.get_or_create(name=f"Bench sync ledger={ledger}")
    account = gmail_account_connect(business=business, email=f"sync-{ledger}@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode="full_backfill", months_back=36, run_to_completion=True, enqueue=False,
                     receipts_first=False)
    started = time.perf_counter()
    with _query_time(totals, flag):
        engine.run_slice(run.pk)
    totals["wall"] = time.perf_counter() - started
    run.refresh_from_db()
    totals["scanned"] = run.messages_scanned
    engine.ledger_store = ledger_store
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--database-url", default=PG)
    args = parser.parse_args()
    if args.database_url.startswith("postgres"):
        _fresh_postgres(args.database_url)
    path = mailbox(args.count)
    tmp = tempfile.mkdtemp()
    emulator = EmulatorProcess(path, quota_per_minute=10**9, quota_model="2026")
    try:
        setup_django(args.database_url, GMAIL_API_ROOT_URL=emulator.url, GOOGLE_TOKEN_URI=emulator.token_uri,
                     GMAIL_QUOTA_UNITS_PER_SECOND="1000000", MEDIA_ROOT=f"{tmp}/media", ALLOWED_HOSTS="testserver",
                     HTTPS_ONLY="false", API_THROTTLE_RATE="")
        print(f"inserting {args.rows} ledger rows ...", flush=True)
        client, sender, month = _fill(args.rows)
        lists = {
            "every skipped message": "/api/messages/?verdict=skipped",
            "skipped, one sender": f"/api/messages/?verdict=skipped&sender={sender}",
            "skipped, one sender, one month": f"/api/messages/?verdict=skipped&sender={sender}&from_date={month}-01"
                                              f"&to_date={month}-31",
            "text search (a scan)": "/api/messages/?verdict=skipped&q=order%20123",
        }
        rows, report = [], {}
        for name, url in lists.items():
            p50, p95, count = _latencies(client, url)
            rows.append([name, count, f"{p50:.1f}", f"{p95:.1f}"])
            report[name] = {"rows": count, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
        print(f"\nlists at {args.rows} ledger rows ({args.database_url.split(':')[0]}):")
        table(["list", "matching rows", "p50 ms", "p95 ms"], rows)

        print(f"\nbackfilling {args.count} messages twice (with and without the ledger) ...", flush=True)
        with_ledger = _sync_db_time(args.count, ledger=True)
        without = _sync_db_time(args.count, ledger=False)
    finally:
        emulator.stop()
    # The ledger's whole cost (building its rows too, and a COPY the query timer does not see)
    # against the rest of the sync's database time.
    rest = with_ledger["all"] - with_ledger["ledger"]
    share = with_ledger["ledger_wall"] / max(rest, 1e-9)
    table(["sync", "messages", "database s (ledger aside)", "ledger s (all of it)", "wall s"], [
        ["with the ledger", int(with_ledger["scanned"]), f"{rest:.2f}", f"{with_ledger['ledger_wall']:.3f}",
         f"{with_ledger['wall']:.1f}"],
        ["without", int(without["scanned"]), f"{without['all']:.2f}", "-", f"{without['wall']:.1f}"]])
    print(f"the ledger adds {share:.1%} to the rest of the sync's database time")
    report["sync"] = {"with_ledger": with_ledger, "without": without, "ledger_share": round(share, 4)}
    write("ledger", report)


if __name__ == "__main__":
    main()
