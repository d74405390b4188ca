"""A sync over hostile mail: the worker's and its reader's peak memory, the time, the counters.

    python bench/hostile.py [--big-pdfs 16] [--big-pdf-mb 20]

The mailbox: every message of gmail_sync/emulator/hostile.py, each between two good receipts,
then ``--big-pdfs`` receipts with a ``--big-pdf-mb`` MB PDF each, one after another so that they
come in one batch. The emulator (no latency, no quota) serves it from a process of its own;
`manage.py sync_receipts` runs the backfill in a fresh process on a fresh SQLite database, and
the peaks (the kernel's VmHWM) of it and of the process that reads its mail are read until it
exits. Writes bench/results/hostile.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import PYTHON, ROOT, EmulatorProcess, connected_worker, peak_rss_mb, table, write


def build(folder: Path, *, big_pdfs: int, big_pdf_mb: int) -> dict[str, int]:
    import sys

    sys.path.insert(0, str(ROOT))
    from gmail_sync.emulator.hostile import big_pdf_receipt, good_receipt, hostile_messages

    now = datetime.now(UTC)
    number = 0

    def put(raw: bytes) -> None:
        nonlocal number
        (folder / f"{number:04d}.eml").write_bytes(raw)
        number += 1

    hostile = hostile_messages(now)
    for index, raw in enumerate(hostile.values()):
        put(good_receipt(100 + index, now))
        put(raw)
    put(good_receipt(100 + len(hostile), now))
    for index in range(big_pdfs):
        put(big_pdf_receipt(500 + index, now, big_pdf_mb << 20))
    return {"hostile": len(hostile), "good": len(hostile) + 1, "big_pdfs": big_pdfs, "messages": number}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big-pdfs", type=int, default=16)
    parser.add_argument("--big-pdf-mb", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    print("writing the mailbox ...", flush=True)
    made = build(folder, big_pdfs=args.big_pdfs, big_pdf_mb=args.big_pdf_mb)
    emulator = EmulatorProcess(folder)
    try:
        env, tmp = connected_worker(emulator)
        status_file = tmp / "status.json"
        worker, reader, seconds = peak_rss_mb(
            [PYTHON, "manage.py", "sync_receipts", "--months-back", "1", "--mode", "full_backfill", "--run-to-completion",
             "--json", "-v", "0"], env, stdout=status_file)
    finally:
        emulator.stop()
    progress = json.loads(status_file.read_text().strip().splitlines()[-1])["sync_run"]["progress"]
    rows = [[made["messages"], made["hostile"], made["big_pdfs"], round(seconds, 1), round(worker, 1), round(reader, 1),
             progress["messages_scanned"], progress["saved_receipts"], progress["skipped_count"], progress["errors_count"]]]
    table(["messages", "hostile", "big PDFs", "seconds", "worker MB", "reader MB", "scanned", "saved", "skipped", "errors"],
          rows)
    write("hostile", {**made, "seconds": seconds, "worker_peak_rss_mb": worker, "reader_peak_rss_mb": reader,
                      "progress": progress})


if __name__ == "__main__":
    main()
