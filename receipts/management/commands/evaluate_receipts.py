from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gmail_sync.emulator.sample import generate_sample_mailbox
from receipts.evaluation import HARD_CASES, evaluate, labelled_folder, labelled_mailbox


class Command(BaseCommand):
    help = ("Measure receipt recognition on labelled mail: the sample mailbox (or --mailbox, an mbox with "
            "PATH.labels.json) plus the hand-made hard cases. Prints precision, recall and field accuracy, "
            "then each miss.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="an mbox with a PATH.labels.json beside it (default: a fresh sample)")
        parser.add_argument("--no-hard-cases", action="store_true", help="leave out the hand-made hard cases")
        parser.add_argument("--max-misses", type=int, default=200, help="how many misses to list")

    def handle(self, *args: Any, **options: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            if options["mailbox"]:
                path = Path(options["mailbox"])
                if not Path(str(path) + ".labels.json").exists():
                    raise CommandError(f"No labels beside the mailbox: {path}.labels.json")
            else:
                path, _ = generate_sample_mailbox(Path(tmp) / "sample.mbox")
            sources = [labelled_mailbox(path)]
            if not options["no_hard_cases"]:
                sources.append(labelled_folder(HARD_CASES))
            report = evaluate(itertools.chain(*sources))
        figures = report.figures()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in figures.items()))
        for miss in report.misses[: options["max_misses"]]:
            self.stdout.write(f"  - {miss}")
        if len(report.misses) > options["max_misses"]:
            self.stdout.write(f"  ... and {len(report.misses) - options['max_misses']} more")
