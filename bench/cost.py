"""Worker CPU per message, end to end, against the bare cost of the same Gmail fetches.

    python bench/cost.py [--count 3000 | --eml-folder ../shared/corpus] [--database-url URL] [--rounds 5]

The emulator runs with no latency and no quota in a process of its own. Each round is a full
sync (list, batch fetch, parse, recognise, persist) of every message into an account of its
own, with its own attachment folder and with the worker's caches emptied, so that every round
stores everything anew, measured as this process's CPU time.

The bare fetch is measured in the same run, paired with the sync's own calls: each time the
sync lists a page or fetches a batch, the same call is sent again at once through a second
client (the twin), whose results are dropped and whose CPU is counted apart. So the bare
fetch is exactly the sync's batches, and it is measured a few milliseconds from the fetch it
mirrors: on a shared virtual machine whose speed swings by half within seconds, bare and full
measured in separate passes differ by more than the processing does. The sync comes first and
the twin straight after it, so the sync's fetch runs with whatever the processing left in the
caches and the twin, like a bare loop, right after a fetch. The full cost is the run's CPU less
the twin's.

The twin's fetch repeats one just made, so it finds the caches warmer than a bare loop does:
the paired bare figure comes out a little low, and the ratio a little high. Each round also
runs a bare fetch on its own (every page, batch by batch, nothing else) and gives the ratio to
that too, which has no such lean but all of the machine's swings. The figures are each round's
and their medians.
"""
from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    path = eml_mailbox(Path(args.eml_folder), copies=args.copies) if args.eml_folder else mailbox(args.count)
    tmp = tempfile.mkdtemp()
    emulator = EmulatorProcess(path)
    rounds: list[dict[str, Any]] = []
    try:
        setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", GMAIL_API_ROOT_URL=emulator.url,
                     GOOGLE_TOKEN_URI=emulator.token_uri, GMAIL_QUOTA_UNITS_PER_SECOND="1000000",
                     MEDIA_ROOT=f"{tmp}/media")
        from django.test import override_settings

        from gmail_sync import dates
        from gmail_sync.client import GmailClient
        from receipts.money import parse_number

        start, end = dates.months_back_range(36)
        twin = GmailClient(refresh_token="demo-refresh-token", account_key="bare")
        twin.get_profile()  # the token exchange, outside the measurement
        for number in range(args.rounds):
            alone = bare_fetch(twin, start, end)
            parse_number.cache_clear()
            with override_settings(MEDIA_ROOT=f"{tmp}/media-{number}"):
                result = full_sync(f"Bench {number}", start, end, twin)
            result["bare_alone_cpu_ms_per_message"] = alone
            result["ratio_to_bare_alone"] = result["full_cpu_ms_per_message"] / alone
            rounds.append(result)
            print(f"round {number + 1}: bare {result['bare_cpu_ms_per_message']:.3f}  "
                  f"full {result['full_cpu_ms_per_message']:.3f}  ratio {result['ratio']:.2f}  "
                  f"(bare alone {alone:.3f})", flush=True)
    finally:
        emulator.stop()
    keys = ("bare_cpu_ms_per_message", "full_cpu_ms_per_message", "ratio", "bare_alone_cpu_ms_per_message",
            "ratio_to_bare_alone")
    median = {key: statistics.median(r[key] for r in rounds) for key in keys}

    def shown(values: dict[str, Any]) -> list[float]:
        return [round(values[key], 2 if key.startswith("ratio") else 3) for key in keys]

    rows = [[i + 1, r["messages"], *shown(r)] for i, r in enumerate(rounds)]
    rows.append(["median", rounds[0]["messages"], *shown(median)])
    table(["round", "messages", "bare ms/msg", "full ms/msg", "ratio", "bare alone ms/msg", "ratio to alone"], rows)
    write("cost", {"mailbox": str(path), "messages": rounds[0]["messages"], **median, "rounds": rounds})


class PairedClient:
    """The sync's Gmail client, each of whose lists and batch fetches is sent again at once
    through ``twin``: the bare fetch of exactly the sync's calls, its CPU counted apart."""

    def __init__(self, real: Any, twin: Any) -> None:
        self.real = real
        self.twin = twin
        self.bare_cpu = 0.0
        self.bare_messages = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def list_messages(self, **kwargs: Any) -> Any:
        page = self.real.list_messages(**kwargs)
        cpu = time.process_time()
        self.twin.list_messages(**kwargs)
        self.bare_cpu += time.process_time() - cpu
        return page

    def iter_messages(self, ids: list[str], **kwargs: Any) -> Any:
        for batch_ids, fetched in self.real.iter_messages(ids, **kwargs):
            cpu = time.process_time()
            self.bare_messages += len(self.twin.get_messages(batch_ids, **kwargs))
            self.bare_cpu += time.process_time() - cpu
            yield batch_ids, fetched


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


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def full_sync(business_name: str, start: date, end: date, twin: Any) -> dict[str, Any]:
    """A whole sync run into a new account, its Gmail calls paired with ``twin``'s: messages,
    CPU ms per message of the sync (the twin's CPU taken out) and of the twin, and the status."""
    from gmail_sync import engine
    from gmail_sync.accounts import gmail_account_connect
    from gmail_sync.models import Business
    from gmail_sync.services import sync_start

    business, _ = Business.objects.get_or_create(name=business_name)
    account = gmail_account_connect(business=business, email="demo@example.com", refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode="full_backfill", from_date=start, to_date=end, run_to_completion=True,
                     enqueue=False)
    paired: list[PairedClient] = []

    def client_factory(account: Any) -> PairedClient:
        paired.append(PairedClient(engine.default_client(account), twin))
        return paired[-1]

    from receipts.sandbox import shared_sandbox

    shared_sandbox().close()  # messages are read in a child process: its CPU is the sync's too
    children = _children_cpu()
    cpu = time.process_time()
    engine.run_slice(run.pk, client_factory=client_factory)
    spent = time.process_time() - cpu
    shared_sandbox().close()  # waited for, so that its CPU is counted
    spent += _children_cpu() - children
    run.refresh_from_db()
    bare_cpu = sum(p.bare_cpu for p in paired)
    bare_messages = sum(p.bare_messages for p in paired)
    full = (spent - bare_cpu) / max(run.messages_scanned, 1) * 1000
    bare = bare_cpu / max(bare_messages, 1) * 1000
    return {"messages": run.messages_scanned, "status": run.status, "full_cpu_ms_per_message": full,
            "bare_cpu_ms_per_message": bare, "ratio": full / bare}


if __name__ == "__main__":
    main()
