"""Receipts first against date order: how soon a backfill has saved its receipts.

    python bench/receipts_first.py [--count 3000] [--speedup 1] [--latency 30 90]

The emulator serves a sample mailbox (about 15% receipts) at Gmail's 2026 per-user limit: 6,000
quota units in any rolling minute, 20 a message, so 5 messages a second (``--speedup N`` raises
both the emulator's limit and the worker's budget N times, for a quicker look: the shares below do
not depend on the rate). The same 36 months are backfilled twice, into two accounts: in date order,
then receipts first. For each, it prints the share of the run's receipts saved by the time 10%, 20%
and 50% of its messages were examined, and the minutes until 90% were saved; and checks that both
runs end with the same receipts and counters.

The sample's receipts are written by one generator, whose subjects the likely search knows; on
mail it was not written for, the likely search finds fewer (docs/performance.md gives both).
"""
from __future__ import annotations

import argparse
import tempfile
import time

from common import EmulatorProcess, mailbox, setup_django, table, write

COUNTERS = ("messages_scanned", "saved_receipts", "skipped_count", "errors_count", "already_stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--speedup", type=float, default=1.0)
    parser.add_argument("--latency", type=float, nargs=2, default=(30.0, 90.0))
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    path = mailbox(args.count)
    tmp = tempfile.mkdtemp()
    emulator = EmulatorProcess(path, quota_per_minute=6000.0 * args.speedup, quota_model="2026",
                               latency_ms=tuple(args.latency))
    try:
        setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", GMAIL_API_ROOT_URL=emulator.url,
                     GOOGLE_TOKEN_URI=emulator.token_uri, GMAIL_QUOTA_MODEL="2026",
                     GMAIL_QUOTA_UNITS_PER_SECOND=str(100 * args.speedup), MEDIA_ROOT=f"{tmp}/media")
        from gmail_sync import engine
        from gmail_sync.accounts import gmail_account_connect
        from gmail_sync.models import Business, SyncRun
        from gmail_sync.services import sync_start
        from receipts.models import Receipt

        results = {}
        for name, first in (("date order", False), ("receipts first", True)):
            business, _ = Business.objects.get_or_create(name=f"Bench {name}")  # each its business's first backfill
            account = gmail_account_connect(business=business, email=f"{name.replace(' ', '-')}@example.com",
                                            refresh_token="demo-refresh-token")
            run = sync_start(account=account, mode="full_backfill", months_back=36, run_to_completion=True,
                             enqueue=False, receipts_first=first)
            timeline: list[tuple[float, int, int]] = []
            started = time.monotonic()

            def seen(current: SyncRun, started: float = started, timeline: list[tuple[float, int, int]] = timeline) -> None:
                timeline.append((time.monotonic() - started, current.messages_scanned, current.saved_receipts))

            print(f"{name}: running ...", flush=True)
            engine.run_slice(run.pk, on_progress=seen)
            run.refresh_from_db()
            receipts = set(Receipt.objects.filter(account=account).values_list(
                "gmail_message_id", "amount", "currency", "vendor", "receipt_date"))
            results[name] = (run, timeline, receipts, time.monotonic() - started)
    finally:
        emulator.stop()

    rows, report = [], {}
    for name, (run, timeline, _, seconds) in results.items():
        total, saved = run.messages_scanned, run.saved_receipts

        def share_at(fraction: float, timeline: list[tuple[float, int, int]] = timeline, total: int = total,
                     saved: int = saved) -> float:
            got = max((s for _, n, s in timeline if n <= fraction * total), default=0)
            return got / saved if saved else 1.0

        to_90 = next((t for t, _, s in timeline if s >= 0.9 * saved), seconds)
        shares = {f"{int(f * 100)}%": round(share_at(f), 3) for f in (0.1, 0.2, 0.5)}
        rows.append([name, total, saved, *(f"{100 * v:.1f}%" for v in shares.values()), round(to_90 / 60, 1),
                     round(seconds / 60, 1)])
        report[name] = {"messages": total, "receipts": saved, "saved_by_share_examined": shares,
                        "minutes_to_90_percent": to_90 / 60, "minutes": seconds / 60, "status": run.status}
    table(["order", "messages", "receipts", "saved by 10%", "by 20%", "by 50%", "min to 90%", "minutes"], rows)
    (a_run, _, a_receipts, _), (b_run, _, b_receipts, _) = results["date order"], results["receipts first"]
    same = a_receipts == b_receipts and all(getattr(a_run, c) == getattr(b_run, c) for c in COUNTERS)
    print("same receipts and counters:", same)
    write("receipts_first", {"count": args.count, "speedup": args.speedup, "latency_ms": args.latency,
                             "runs": report, "same_receipts_and_counters": same})
    if not same:
        raise SystemExit("the two orders ended differently")


if __name__ == "__main__":
    main()
