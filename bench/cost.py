"""Worker CPU per message, end to end, against the bare cost of the same Gmail fetches.

    python bench/cost.py [--count 3000 | --eml-folder ../shared/corpus] [--database-url URL] [--rounds 3]

The emulator runs with no latency and no quota in a process of its own. In this process, each
round is first the bare fetch: list every id and batch-fetch every message through the Gmail
client, page by page in the batches the sync sends, doing nothing with them; then the full
sync of the same messages (list, batch fetch, parse, recognise, persist) into an account of
its own, with its own attachment folder and with the worker's caches emptied, so that every
round stores everything anew. Both are measured as this process's CPU time. Rounds alternate
so that a machine whose speed drifts (a shared VM) weighs on both sides alike; the figures are
each round's and their medians.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from common import EmulatorProcess, eml_mailbox, mailbox, setup_django, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--eml-folder", default=None,
                        help="real mail instead of the sample: every .eml under this folder (../shared/corpus, say), "
                             "copied --copies times with fresh dates")
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = eml_mailbox(Path(args.eml_folder), copies=args.copies) if args.eml_folder else mailbox(args.count)
    tmp = tempfile.mkdtemp()
    emulator = EmulatorProcess(path)
    rounds: list[dict[str, float]] = []
    try:
        setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", GMAIL_API_ROOT_URL=emulator.url,
                     GOOGLE_TOKEN_URI=emulator.token_uri, GMAIL_QUOTA_UNITS_PER_SECOND="1000000",
                     MEDIA_ROOT=f"{tmp}/media")
        from django.test import override_settings

        from gmail_sync import dates
        from gmail_sync.client import GmailClient
        from receipts.money import parse_number

        start, end = dates.months_back_range(36)
        client = GmailClient(refresh_token="demo-refresh-token", account_key="bare")
        client.get_profile()  # the token exchange, outside the measurement
        for number in range(args.rounds):
            bare = bare_fetch(client, start, end)
            parse_number.cache_clear()
            with override_settings(MEDIA_ROOT=f"{tmp}/media-{number}"):
                messages, full, status = full_sync(f"Bench {number}", start, end)
            rounds.append({"bare_cpu_ms_per_message": bare, "full_cpu_ms_per_message": full, "ratio": full / bare,
                           "messages": messages, "status": status})
            print(f"round {number + 1}: bare {bare:.3f}  full {full:.3f}  ratio {full / bare:.2f}", flush=True)
    finally:
        emulator.stop()
    median = {key: statistics.median(r[key] for r in rounds)
              for key in ("bare_cpu_ms_per_message", "full_cpu_ms_per_message", "ratio")}
    rows = [[i + 1, r["messages"], round(r["bare_cpu_ms_per_message"], 3), round(r["full_cpu_ms_per_message"], 3),
             round(r["ratio"], 2)] for i, r in enumerate(rounds)]
    rows.append(["median", rounds[0]["messages"], round(median["bare_cpu_ms_per_message"], 3),
                 round(median["full_cpu_ms_per_message"], 3), round(median["ratio"], 2)])
    table(["round", "messages", "bare ms/msg", "full ms/msg", "ratio"], rows)
    write("cost", {"mailbox": str(path), "messages": rounds[0]["messages"], **median, "rounds": rounds})


def bare_fetch(client: Any, start: date, end: date) -> float:
    """CPU ms per message to list every id and batch-fetch every message, doing nothing with them.

    The batches are the sync's own: each page of ids (a month's, at most 500) is fetched in
    batches of the client's size, so a month of 80 messages is a batch of 50 and one of 30,
    as the page loop sends them."""
    from gmail_sync import dates
    from gmail_sync.engine import PAGE_SIZE

    cpu = time.process_time()
    fetched = 0
    for month in dates.months_between(start, end):
        low, high = dates.month_bounds(month, start, end)
        token = None
        while True:
            page = client.list_messages(q=dates.gmail_query(low, high), page_token=token, max_results=PAGE_SIZE)
            for i in range(0, len(page.ids), client.batch_size):
                fetched += len(client.get_messages(page.ids[i:i + client.batch_size]))
            token = page.next_page_token
            if not token:
                break
    return (time.process_time() - cpu) / max(fetched, 1) * 1000


def full_sync(business_name: str, start: date, end: date) -> tuple[int, float, str]:
    """(messages, CPU ms per message, final status) of a whole sync run into a new account."""
    from gmail_sync import engine
    from gmail_sync.accounts import gmail_account_connect
    from gmail_sync.models import Business
    from gmail_sync.services import sync_start

    business, _ = Business.objects.get_or_create(name=business_name)
    account = gmail_account_connect(business=business, email="demo@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode="full_backfill", from_date=start, to_date=end, run_to_completion=True,
                     enqueue=False)
    cpu = time.process_time()
    engine.run_slice(run.pk)
    spent = time.process_time() - cpu
    run.refresh_from_db()
    return run.messages_scanned, spent / max(run.messages_scanned, 1) * 1000, run.status


if __name__ == "__main__":
    main()
