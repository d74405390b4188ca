from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gmail_sync.emulator.sample import generate_sample_mailbox
from receipts.evaluation import Report, corpus_items, evaluate, evaluation_items, labelled_mailbox, score
from receipts.recognition import recognise


class Command(BaseCommand):
    help = ("Measure receipt recognition honestly. First, leave-one-family-out on the evaluation set: for each "
            "template family a model is trained on the other families and scores the one left out (per family, "
            "per language, overall, with each miss and its reasons). Then the committed model on mail it was not "
            "trained on: the demo's sample mailbox (or --mailbox) and, with --corpus, labelled real mail. Last, "
            "each Israeli field's accuracy on the Israeli tax documents. "
            "Leave-one-family-out needs scikit-learn (requirements/dev.txt).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="an mbox with a PATH.labels.json beside it (default: a fresh sample)")
        parser.add_argument("--corpus", help="the shared corpus folder (../shared/corpus), scored with its labels")
        parser.add_argument("--no-lofo", action="store_true", help="skip leave-one-family-out (no scikit-learn needed)")
        parser.add_argument("--max-misses", type=int, default=60, help="how many misses to list per section")

    def _print(self, title: str, report: Report) -> None:
        self.stdout.write(f"{title}: " + " ".join(f"{k}={v}" for k, v in report.figures().items()))

    def _misses(self, report: Report, limit: int) -> None:
        for miss in report.misses[:limit]:
            self.stdout.write(f"  - {miss}")
        if len(report.misses) > limit:
            self.stdout.write(f"  ... and {len(report.misses) - limit} more")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["max_misses"]
        if not options["no_lofo"]:
            try:
                from receipts.training import examples, leave_one_family_out
            except ImportError as exc:  # pragma: no cover - depends on the installed extras
                raise CommandError(f"leave-one-family-out needs scikit-learn: {exc}") from exc
            results = leave_one_family_out(examples(evaluation_items()))
            overall = Report()
            by_lang: defaultdict[str, Report] = defaultdict(Report)
            by_family: defaultdict[str, Report] = defaultdict(Report)
            for ex, result in results:
                for report in (overall, by_lang[ex.lang], by_family[ex.family]):
                    score(report, ex.name, result, ex.expected)
            self.stdout.write("Leave-one-family-out (each family scored by a model trained without it)")
            for family in sorted(by_family):
                self._print(f"  family {family}", by_family[family])
            for lang in sorted(by_lang):
                self._print(f"language {lang}", by_lang[lang])
            self._print("overall", overall)
            self._misses(overall, limit)
        with tempfile.TemporaryDirectory() as tmp:
            if options["mailbox"]:
                path = Path(options["mailbox"])
                if not Path(str(path) + ".labels.json").exists():
                    raise CommandError(f"No labels beside the mailbox: {path}.labels.json")
            else:
                path, _ = generate_sample_mailbox(Path(tmp) / "sample.mbox")
            sample = evaluate(labelled_mailbox(path))
        self._print("sample mailbox (committed model; not trained on)", sample)
        self._misses(sample, limit)
        if options["corpus"]:
            root = Path(options["corpus"])
            if not root.is_dir():
                raise CommandError(f"No corpus folder at {root}")
            real = Report()
            for name, raw, expected in corpus_items(root):
                from receipts.parsing import parse_email

                score(real, name, recognise(parse_email(raw)), expected)
            self._print("real mail of the corpus (committed model; not trained on)", real)
            self._misses(real, limit)
        self._tax_documents(limit)

    def _tax_documents(self, limit: int) -> None:
        """Each Israeli field's accuracy on the Israeli tax documents (two batches of families)."""
        from receipts.evalset.tax_documents import second_batch, tax_documents
        from receipts.evaluation import TAX_FIELDS, evaluate_tax_documents

        for title, documents in (("Israeli tax documents, first batch", tax_documents()),
                                 ("Israeli tax documents, second batch", second_batch())):
            overall, families = evaluate_tax_documents(documents)
            self.stdout.write(f"{title} ({overall.documents} documents, {len(families)} families; recognised as "
                              f"receipts {overall.recognised}; business numbers failing their check digit "
                              f"{overall.invalid_tax_ids}):")
            self.stdout.write("  " + " ".join(f"{name}={overall.accuracy(name):.3f}" for name in TAX_FIELDS))
            for family, report in sorted(families.items()):
                weak = [f"{name}={report.accuracy(name):.2f}" for name in TAX_FIELDS if report.accuracy(name) < 1]
                self.stdout.write(f"  family {family}: " + (" ".join(weak) if weak else "every field right"))
            for miss in overall.misses[:limit]:
                self.stdout.write(f"  - {miss}")
