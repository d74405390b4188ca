from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from receipts.evaluation import evaluation_items
from receipts.recognition import MODEL_PATH
from receipts.training import examples, fit, save


class Command(BaseCommand):
    help = ("Train the recogniser's weights on the whole evaluation set (every template family and the "
            "hand-made cases) and write them to receipts/model.json. Needs scikit-learn (requirements/dev.txt).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=str(MODEL_PATH), help="where to write the weights")

    def handle(self, *args: Any, **options: Any) -> None:
        from pathlib import Path

        data = examples(evaluation_items())
        model = fit(data)
        counts = Counter("receipts" if ex.expected.is_receipt else "not_receipts" for ex in data)
        save(model, Path(options["output"]), trained_on={"messages": len(data), **counts,
                                                          "families": len({ex.family for ex in data})})
        self.stdout.write(f"trained on {len(data)} messages ({counts['receipts']} receipts) -> {options['output']}")
        for name, weight in sorted(model.weights.items(), key=lambda kv: -abs(kv[1])):
            self.stdout.write(f"  {weight:+7.3f}  {name}")
        self.stdout.write(f"  {model.bias:+7.3f}  (bias)")
