"""Recognition and extraction throughput, per core.

    python bench/recognition.py [--count 3000] [--with-pdfs]
    python bench/recognition.py --eml-folder ../shared/corpus
    python bench/recognition.py --evaluation-set

Parses and recognises every message in one process (one core) and prints messages per second
(the best of --rounds passes, by process CPU time); writes bench/results/. The mail is a
freshly generated sample mailbox by default, or every .eml under --eml-folder (real mail: the
shared corpus), or the rendered evaluation set (varied templates, HTML, PDFs).
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--with-pdfs", action="store_true", help="keep the sample's messages with PDF attachments")
    parser.add_argument("--eml-folder", default=None, help="every .eml under this folder instead of the sample")
    parser.add_argument("--evaluation-set", action="store_true", help="the rendered evaluation set instead of the sample")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from gmail_sync.emulator.sample import generate_sample_mailbox
    from receipts.parsing import MessageRefused, parse_email
    from receipts.recognition import recognise

    if args.eml_folder:
        raws = [p.read_bytes() for p in sorted(Path(args.eml_folder).rglob("*.eml"))]
        source, name = f"eml:{args.eml_folder}", "recognition_eml.json"
    elif args.evaluation_set:
        from receipts.evalset import render_set

        raws = [item.raw for item in render_set()]
        source, name = "evaluation set", "recognition_evaluation_set.json"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path, _ = generate_sample_mailbox(Path(tmp) / "sample.mbox", count=args.count)
            raws = [m.as_bytes() for m in mailbox.mbox(str(path))]
        if not args.with_pdfs:
            raws = [raw for raw in raws if b"application/pdf" not in raw]
        source = "sample" + (" with PDFs" if args.with_pdfs else "")
        name = "recognition_with_pdfs.json" if args.with_pdfs else "recognition.json"
    if not raws:
        raise SystemExit("no messages to read")
    def examine(raw: bytes) -> str:
        try:
            return "receipt" if recognise(parse_email(raw)).is_receipt else "skipped"
        except MessageRefused:  # counted as an error by a run, after the same bounded check
            return "refused"

    best = 0.0
    verdicts: list[str] = []
    for _ in range(args.rounds):
        started = time.process_time()
        verdicts = [examine(raw) for raw in raws]
        elapsed = time.process_time() - started
        best = max(best, len(raws) / elapsed)
    receipts, refused = verdicts.count("receipt"), verdicts.count("refused")
    megabytes = sum(map(len, raws)) / 1e6
    result = {"source": source, "messages": len(raws), "megabytes": round(megabytes, 1), "receipts": receipts,
              "refused": refused, "messages_per_second_per_core": round(best, 1)}
    print(f"{'source':>24} {'messages':>9} {'MB':>6} {'receipts':>9} {'refused':>8} {'msg/s/core':>11}")
    print(f"{source[-24:]:>24} {len(raws):>9} {megabytes:>6.1f} {receipts:>9} {refused:>8} {best:>11.1f}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
