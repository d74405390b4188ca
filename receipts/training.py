"""Training the recogniser's model and measuring it honestly: leave one family out.

The features are fixed rules (``receipts.features``); what is learnt is how much each counts,
a logistic regression over them. Training needs scikit-learn (``requirements/dev.txt``); the
service only reads the weights it wrote (``receipts/model.json``).

Leave-one-family-out: for each family of templates (rides, utilities, carts, ...), a model is
trained on every other family and scores the one left out, so the figure is what the weights
do on a kind of mail they were not fitted to.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .evaluation import Expected
from .features import FEATURE_NAMES
from .parsing import ParsedEmail, parse_email
from .recognition import MODEL_PATH, Model, Recognition, evidence, pdf_evidence, read, recognise

REGULARISATION = 1.0  # scikit-learn's C; fixed, not tuned on the held-out families


@dataclass
class Example:
    name: str
    family: str
    lang: str
    parsed: ParsedEmail
    expected: Expected
    features: frozenset[str]


def examples(items: Iterable[tuple[str, str, str, bytes, Expected]]) -> list[Example]:
    """(name, family, language, raw mail, expected) -> examples with every feature worked out."""
    out = []
    for name, family, lang, raw, expected in items:
        parsed = parse_email(raw)
        reading = read(parsed)
        found = evidence(reading)
        if parsed.pdfs:
            pdf_evidence(reading, found)
        out.append(Example(name, family, lang, parsed, expected, frozenset(found.features)))
    return out


def fit(train: list[Example]) -> Model:
    from sklearn.linear_model import LogisticRegression

    rows = [[1.0 if name in ex.features else 0.0 for name in FEATURE_NAMES] for ex in train]
    labels = [int(ex.expected.is_receipt) for ex in train]
    classifier = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
    classifier.fit(rows, labels)
    weights = {name: round(float(w), 4) for name, w in zip(FEATURE_NAMES, classifier.coef_[0], strict=True)}
    return Model(bias=round(float(classifier.intercept_[0]), 4), weights=weights)


def save(model: Model, path: Path = MODEL_PATH, *, trained_on: dict[str, int] | None = None) -> None:
    data = {"bias": model.bias, "weights": dict(sorted(model.weights.items(), key=lambda kv: -abs(kv[1]))),
            "trained_on": trained_on or {}}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")


def leave_one_family_out(all_examples: list[Example]) -> list[tuple[Example, Recognition]]:
    """Each example recognised by a model trained without its family."""
    results: list[tuple[Example, Recognition]] = []
    for family in sorted({ex.family for ex in all_examples}):
        held_out = [ex for ex in all_examples if ex.family == family]
        model = fit([ex for ex in all_examples if ex.family != family])
        results.extend((ex, recognise(ex.parsed, model=model)) for ex in held_out)
    return results
