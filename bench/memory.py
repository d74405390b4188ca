"""Peak RSS of a worker syncing mailboxes of growing size, and of the process that reads its mail.

    python bench/memory.py [--sizes 2000 10000 50000]

For each size: the emulator (no latency, no quota) serves a sample mailbox from a process of
its own, and `manage.py sync_receipts` runs the whole 36-month backfill in a fresh process on a
fresh SQLite database; its peak RSS is read from the kernel when it exits.
"""
from __future__ import annotations

import argparse

from common import PYTHON, EmulatorProcess, connected_worker, mailbox, peak_rss_mb, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 50000])
    args = parser.parse_args()
    rows, results = [], []
    for size in args.sizes:
        path = mailbox(size)
        emulator = EmulatorProcess(path)
        try:
            env, _ = connected_worker(emulator)
            rss, children_rss, seconds = peak_rss_mb([PYTHON, "manage.py", "sync_receipts", "--months-back", "36", "--mode",
                                           "full_backfill", "--run-to-completion", "-v", "0"], env)
        finally:
            emulator.stop()
        rows.append([size, round(seconds, 1), round(rss, 1), round(children_rss, 1)])
        results.append({"messages": size, "seconds": seconds, "peak_rss_mb": rss, "children_peak_rss_mb": children_rss})
    table(["messages", "seconds", "peak RSS MB", "reader process MB"], rows)
    growth = results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
    print(f"growth from {results[0]['messages']} to {results[-1]['messages']} messages: {growth:.1f} MB")
    write("memory", {"runs": results, "growth_mb": growth})


if __name__ == "__main__":
    main()
