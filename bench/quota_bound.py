"""Quota-bound throughput: one account against the emulator at Gmail's older per-user quota.

    python bench/quota_bound.py [--count 10000] [--quota 250] [--latency 30 90]

The emulator serves a sample mailbox with 30-90 ms latency and enforces the quota; the whole
pipeline runs (list, batch fetch, parse, recognise, persist). The ceiling is
quota / (5 x (1 + attachments fetched per message)); messages are fetched raw, so no attachment
costs a call of its own and the ceiling is quota / 5.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from common import EmulatorProcess, mailbox, setup_django, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--quota", type=float, default=250.0)
    parser.add_argument("--latency", type=float, nargs=2, default=(30.0, 90.0))
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    path = mailbox(args.count)
    tmp = tempfile.mkdtemp()
    emulator = EmulatorProcess(path, quota=args.quota, latency_ms=tuple(args.latency))
    try:
        setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", GMAIL_API_ROOT_URL=emulator.url,
                     GOOGLE_TOKEN_URI=emulator.token_uri, GMAIL_QUOTA_UNITS_PER_SECOND=str(args.quota),
                     MEDIA_ROOT=f"{tmp}/media")
        from gmail_sync import engine
        from gmail_sync.accounts import gmail_account_connect
        from gmail_sync.models import Business
        from gmail_sync.services import sync_start

        business, _ = Business.objects.get_or_create(name="Bench")
        account = gmail_account_connect(business=business, email="demo@example.com", refresh_token="demo-refresh-token")
        run = sync_start(account=account, mode="full_backfill", months_back=36, run_to_completion=True,
                         enqueue=False)
        started = time.monotonic()
        engine.run_slice(run.pk)
        elapsed = time.monotonic() - started
        run.refresh_from_db()
    finally:
        emulator.stop()
    rate = run.messages_scanned / elapsed
    ceiling = args.quota / 5
    table(["messages", "seconds", "msg/s", "ceiling", "% of ceiling", "saved", "errors"],
          [[run.messages_scanned, round(elapsed, 1), round(rate, 2), ceiling, f"{100 * rate / ceiling:.1f}",
            run.saved_receipts, run.errors_count]])
    write("quota_bound", {"messages": run.messages_scanned, "seconds": elapsed, "messages_per_second": rate,
                          "ceiling": ceiling, "share_of_ceiling": rate / ceiling, "quota": args.quota,
                          "latency_ms": args.latency, "status": run.status})


if __name__ == "__main__":
    main()
