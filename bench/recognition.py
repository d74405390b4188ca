"""Recognition and extraction throughput on the sample mailbox, per core.

    python bench/recognition.py [--count 3000] [--with-pdfs]

Parses and recognises every message of a freshly generated sample mailbox in one process
(one core) and prints messages per second; writes bench/results/recognition.json.
"""
from __future__ import annotations

import argparse
import json
import mailbox
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--with-pdfs", action="store_true", help="include messages with PDF attachments")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from gmail_sync.emulator.sample import generate_sample_mailbox
    from receipts.parsing import parse_email
    from receipts.recognition import recognise

    with tempfile.TemporaryDirectory() as tmp:
        path, _ = generate_sample_mailbox(Path(tmp) / "sample.mbox", count=args.count)
        raws = [m.as_bytes() for m in mailbox.mbox(str(path))]
    if not args.with_pdfs:
        raws = [raw for raw in raws if b"application/pdf" not in raw]
    best = 0.0
    receipts = 0
    for _ in range(args.rounds):
        started = time.process_time()
        receipts = sum(recognise(parse_email(raw)).is_receipt for raw in raws)
        elapsed = time.process_time() - started
        best = max(best, len(raws) / elapsed)
    result = {"messages": len(raws), "receipts": receipts, "with_pdfs": args.with_pdfs,
              "messages_per_second_per_core": round(best, 1)}
    print(f"{'messages':>10} {'receipts':>9} {'pdfs':>5} {'msg/s/core':>11}")
    print(f"{len(raws):>10} {receipts:>9} {str(args.with_pdfs):>5} {best:>11.1f}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = "recognition_with_pdfs.json" if args.with_pdfs else "recognition.json"
    (out / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
