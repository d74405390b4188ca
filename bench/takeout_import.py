"""Takeout import: messages a second on one core, and peak memory from a small file to a large one.

    python bench/takeout_import.py [--count 3000] [--copies 5] [--sizes-mb 100 2000]

Speed: the sample mailbox written as a Takeout mbox (``--copies`` times over, each copy with fresh
Gmail ids), imported by ``manage.py import_takeout`` pinned to one core (``taskset -c 0``: the
command and the sandbox that reads each message share it), with the recogniser, the sandbox and
the database writes all on. Memory: files of each ``--sizes-mb`` size made of copies of the sample
and, between them, messages with a 2 MB attachment (so that a large file does not take hours),
imported the same way; the peak RSS of the command and of its sandbox is read from the kernel.
Each import goes into a fresh SQLite database.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import subprocess
import tempfile
from pathlib import Path

from common import PYTHON, ROOT, mailbox, peak_rss_mb, table, write

ENVELOPE = re.compile(rb"(?m)^From (\d+)@xxx ")
MESSAGE_ID = re.compile(rb"(?im)^(Message-ID: *)<")


def _takeout_sample(count: int) -> bytes:
    import sys

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from gmail_sync.emulator import Mailbox
    from gmail_sync.emulator.takeout import takeout_bytes

    box = Mailbox.from_path(mailbox(count))
    return b"".join(takeout_bytes(message) for message in box.all())


def _copy(sample: bytes, number: int) -> bytes:
    """The sample with every Gmail id and Message-ID changed, so that each copy is new mail."""
    moved = ENVELOPE.sub(lambda m: b"From %d@xxx " % (int(m.group(1)) ^ (number << 40)), sample)
    return MESSAGE_ID.sub(b"\\1<copy%d." % number, moved)


def _padding(number: int, rng: random.Random) -> bytes:
    data = base64.encodebytes(rng.randbytes(2 << 20))
    return (b"From %d@xxx Mon Mar 04 10:00:00 +0000 2024\nX-Gmail-Labels: Inbox\nFrom: Backup <backup@example.com>\n"
            b"Subject: nightly backup %d\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: text/plain\n\nThe backup is attached.\n--b\nContent-Type: application/octet-stream\n"
            b"Content-Disposition: attachment; filename=backup.bin\nContent-Transfer-Encoding: base64\n\n%s--b--\n\n"
            % ((1 << 62) + number, number, data))


def build(path: Path, sample: bytes, *, copies: int = 0, size_mb: int = 0) -> int:
    """Write the file: ``copies`` copies of the sample, or copies and padding up to ``size_mb``."""
    rng = random.Random(5)
    written = number = 0
    with path.open("wb") as handle:
        while (copies and number < copies) or (size_mb and written < size_mb << 20):
            block = _copy(sample, number)
            if size_mb:
                block += b"".join(_padding(number * 100 + i, rng) for i in range(48))
            handle.write(block)
            written += len(block)
            number += 1
    return written


def run_import(path: Path, *, one_core: bool) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false", "SECRET_KEY": "bench",
           "ENCRYPTION_KEY": "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8=", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "MEDIA_ROOT": f"{tmp}/media"}
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    command = [PYTHON, "manage.py", "import_takeout", str(path), "--account", "bench@example.com", "--business",
               "Bench", "--run-to-completion", "--json", "--verbosity", "0"]
    if one_core:
        command = ["taskset", "-c", "0", *command]
    out = tmp / "out.txt"
    parent, sandbox, seconds = peak_rss_mb(command, env, stdout=out)
    status = json.loads(out.read_text().strip().splitlines()[-1])["sync_run"]
    return {"messages": status["progress"]["messages_scanned"], "saved": status["progress"]["saved_receipts"],
            "errors": status["progress"]["errors_count"], "seconds": seconds,
            "messages_per_second": status["messages_per_second"], "peak_rss_mb": parent, "sandbox_peak_rss_mb": sandbox,
            "file_mb": path.stat().st_size / (1 << 20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--sizes-mb", type=int, nargs="*", default=[100, 2000])
    args = parser.parse_args()
    sample = _takeout_sample(args.count)
    folder = Path(tempfile.mkdtemp(prefix="bench-takeout-"))
    results = {}
    try:
        speed_file = folder / "speed.mbox"
        build(speed_file, sample, copies=args.copies)
        print(f"speed: {speed_file.stat().st_size >> 20} MB ...", flush=True)
        results["speed"] = run_import(speed_file, one_core=True)
        for size in args.sizes_mb:
            path = folder / f"{size}mb.mbox"
            build(path, sample, size_mb=size)
            print(f"memory: {size} MB ...", flush=True)
            results[f"{size} MB"] = run_import(path, one_core=True)
            path.unlink()
    finally:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()
    table(["file", "MB", "messages", "saved", "errors", "seconds", "msg/s", "peak RSS MB", "sandbox MB"],
          [[name, round(r["file_mb"]), r["messages"], r["saved"], r["errors"], round(r["seconds"], 1),
            r["messages_per_second"], round(r["peak_rss_mb"]), round(r["sandbox_peak_rss_mb"])]
           for name, r in results.items()])
    write("takeout_import", {"count": args.count, "copies": args.copies, "one_core": True, "results": results})


if __name__ == "__main__":
    main()
