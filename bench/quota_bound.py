"""Quota-bound throughput: one account against the emulator at one of Gmail's quota models.

    python bench/quota_bound.py [--model legacy|2026] [--count 10000] [--latency 30 90]

The emulator serves a sample mailbox with 30-90 ms latency and enforces the model's per-user
limit: ``legacy`` 250 units in each second (get 5: a ceiling of 50 messages a second), ``2026``
6,000 units in any rolling minute (get 20: a ceiling of 5 messages a second). The worker runs
with its default budget for that model; the whole pipeline runs (list, batch fetch, parse,
recognise, persist). Messages are fetched raw, so no attachment costs a call of its own.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from common import EmulatorProcess, mailbox, setup_django, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--model", choices=["legacy", "2026"], default="legacy")
    parser.add_argument("--latency", type=float, nargs=2, default=(30.0, 90.0))
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    path = mailbox(args.count)
    tmp = tempfile.mkdtemp()
    legacy = args.model == "legacy"
    emulator = EmulatorProcess(path, quota=250.0 if legacy else None, quota_per_minute=None if legacy else 6000.0,
                               quota_model=args.model, latency_ms=tuple(args.latency))
    try:
        setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", GMAIL_API_ROOT_URL=emulator.url,
                     GOOGLE_TOKEN_URI=emulator.token_uri, GMAIL_QUOTA_MODEL=args.model,
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
    ceiling = 250 / 5 if legacy else 6000 / 60 / 20
    table(["messages", "seconds", "msg/s", "ceiling", "% of ceiling", "saved", "errors"],
          [[run.messages_scanned, round(elapsed, 1), round(rate, 2), ceiling, f"{100 * rate / ceiling:.1f}",
            run.saved_receipts, run.errors_count]])
    write("quota_bound", {"messages": run.messages_scanned, "seconds": elapsed, "messages_per_second": rate,
                          "ceiling": ceiling, "share_of_ceiling": rate / ceiling, "model": args.model,
                          "latency_ms": args.latency, "status": run.status})


if __name__ == "__main__":
    main()
