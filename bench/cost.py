"""Worker CPU per message, end to end, against the bare cost of the same Gmail fetches.

    python bench/cost.py [--count 3000 | --eml-folder ../shared/corpus] [--database-url URL]

The emulator runs with no latency and no quota in a process of its own. In this process, first
the bare fetch: list every id and batch-fetch every message through the Gmail client, doing
nothing with them. Then the full sync of the same messages (list, batch fetch, parse, recognise,
persist). Both are measured as this process's CPU time.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import EmulatorProcess, eml_mailbox, mailbox, setup_django, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--eml-folder", default=None,
                        help="real mail instead of the sample: every .eml under this folder (../shared/corpus, say), "
                             "copied --copies times with fresh dates")
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    path = eml_mailbox(Path(args.eml_folder), copies=args.copies) if args.eml_folder else mailbox(args.count)
    tmp = tempfile.mkdtemp()
    emulator = EmulatorProcess(path)
    try:
        setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", GMAIL_API_ROOT_URL=emulator.url,
                     GOOGLE_TOKEN_URI=emulator.token_uri, GMAIL_QUOTA_UNITS_PER_SECOND="1000000",
                     MEDIA_ROOT=f"{tmp}/media")
        from gmail_sync import dates, engine
        from gmail_sync.accounts import gmail_account_connect
        from gmail_sync.client import GmailClient
        from gmail_sync.models import Business
        from gmail_sync.services import sync_start

        start, end = dates.months_back_range(36)
        client = GmailClient(refresh_token="demo-refresh-token", account_key="bare")
        client.get_profile()  # the token exchange, outside the measurement
        cpu = time.process_time()
        ids, token = [], None
        for month in dates.months_between(start, end):
            low, high = dates.month_bounds(month, start, end)
            token = None
            while True:
                page = client.list_messages(q=dates.gmail_query(low, high), page_token=token)
                ids += page.ids
                token = page.next_page_token
                if not token:
                    break
        fetched = 0
        for i in range(0, len(ids), client.batch_size):
            fetched += len(client.get_messages(ids[i:i + client.batch_size]))
        bare = (time.process_time() - cpu) / max(fetched, 1) * 1000

        business, _ = Business.objects.get_or_create(name="Bench")
        account = gmail_account_connect(business=business, email="demo@example.com", refresh_token="demo-refresh-token")
        run = sync_start(account=account, mode="full_backfill", from_date=start, to_date=end, run_to_completion=True,
                         enqueue=False)
        cpu = time.process_time()
        engine.run_slice(run.pk)
        spent = time.process_time() - cpu
        run.refresh_from_db()
        full = spent / max(run.messages_scanned, 1) * 1000
    finally:
        emulator.stop()
    table(["messages", "bare ms/msg", "full ms/msg", "ratio"],
          [[run.messages_scanned, round(bare, 3), round(full, 3), round(full / bare, 2)]])
    write("cost", {"mailbox": str(path), "messages": run.messages_scanned, "bare_cpu_ms_per_message": bare,
                   "full_cpu_ms_per_message": full, "ratio": full / bare, "status": run.status})


if __name__ == "__main__":
    main()
