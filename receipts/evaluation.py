"""Measuring recognition and extraction against labelled mail."""
from __future__ import annotations

import json
import mailbox as std_mailbox
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .extraction import HEBREW_RE, clean_vendor_name
from .parsing import parse_email
from .recognition import Model, Recognition, recognise

HARD_CASES = Path(__file__).resolve().parent / "evaluation_set"


@dataclass
class Expected:
    is_receipt: bool
    vendor: str = ""
    amount: str = ""
    currency: str = ""
    date: str = ""


@dataclass
class Report:
    total: int = 0
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    amount_ok: int = 0
    currency_ok: int = 0
    vendor_ok: int = 0
    date_ok: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0

    def share(self, hits: int) -> float:
        return hits / self.true_positive if self.true_positive else 1.0

    def figures(self) -> dict[str, Any]:
        return {
            "messages": self.total,
            "receipts": self.true_positive + self.false_negative,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "amount": round(self.share(self.amount_ok), 4),
            "currency": round(self.share(self.currency_ok), 4),
            "vendor": round(self.share(self.vendor_ok), 4),
            "date": round(self.share(self.date_ok), 4),
        }


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s.,&'\"-]+", _norm(clean_vendor_name(name))) if w]


def _same_vendor(got: str, want: str) -> bool:
    """The same business as a bookkeeper would see it: equal names, or one name's words
    running whole inside the other's ("EL AL Israel Airlines" is "El Al"; "Tesco.com" is
    "Tesco"), never a name without a word of the other."""
    a, b = _words(got), _words(want)
    if not a or not b:
        return a == b
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return any(long[i:i + len(short)] == short for i in range(len(long) - len(short) + 1))


def score(report: Report, name: str, result: Recognition, expected: Expected,
          reasons_if_missed: Callable[[], Recognition] | None = None) -> None:
    """Count one verdict against its label; a miss is listed with its reasons."""
    report.total += 1
    if result.is_receipt and not expected.is_receipt:
        report.false_positive += 1
        report.misses.append(f"{name}: false positive ({result.confidence}): {'; '.join(result.reasons[:5])}")
        return
    if not result.is_receipt:
        if expected.is_receipt:
            report.false_negative += 1
            weighed = reasons_if_missed() if reasons_if_missed else result  # every reason, for the reviewer
            report.misses.append(f"{name}: missed receipt ({weighed.confidence}): {'; '.join(weighed.reasons[:7])}")
        return
    report.true_positive += 1
    checks = {
        "amount": result.amount is not None and expected.amount != "" and result.amount == Decimal(expected.amount),
        "currency": result.currency == expected.currency,
        "vendor": _same_vendor(result.vendor, expected.vendor),
        "date": (result.receipt_date.isoformat() if result.receipt_date else "") == expected.date,
    }
    report.amount_ok += checks["amount"]
    report.currency_ok += checks["currency"]
    report.vendor_ok += checks["vendor"]
    report.date_ok += checks["date"]
    wrong = [k for k, ok in checks.items() if not ok]
    if wrong:
        got = {"amount": str(result.amount), "currency": result.currency, "vendor": result.vendor,
               "date": str(result.receipt_date)}
        want = {"amount": expected.amount, "currency": expected.currency, "vendor": expected.vendor, "date": expected.date}
        report.misses.append(f"{name}: wrong " + ", ".join(f"{k} (got {got[k]!r}, want {want[k]!r})" for k in wrong))


def evaluate(items: Iterable[tuple[str, bytes, Expected]], *, model: Model | None = None) -> Report:
    """Recognise each labelled message with ``model`` (the committed one by default)."""
    report = Report()
    for name, raw, expected in items:
        parsed = parse_email(raw)
        score(report, name, recognise(parsed, model=model), expected,
              lambda parsed=parsed: recognise(parsed, exhaustive=True, model=model))  # type: ignore[misc]
    return report


def language_of(raw: bytes, name: str) -> str:
    if name.startswith("he_"):
        return "he"
    if name.startswith("en_"):
        return "en"
    parsed = parse_email(raw)
    return "he" if HEBREW_RE.search(parsed.subject + parsed.body) else "en"


def evaluation_items() -> Iterator[tuple[str, str, str, bytes, Expected]]:
    """The whole labelled set for training and leave-one-family-out: every template family's
    renderings, and the hand-made hard cases as a family of their own."""
    from .evalset import render_set

    for item in render_set():
        yield item.name, item.family, item.lang, item.raw, Expected(
            item.is_receipt, item.vendor, item.amount, item.currency, item.date)
    for name, raw, expected in labelled_folder(HARD_CASES):
        yield name, "hand_made", language_of(raw, name), raw, expected


def corpus_items(root: Path) -> Iterator[tuple[str, bytes, Expected]]:
    """Real mail of ``../shared/corpus`` with the labels in ``evaluation_set/corpus_labels.json``."""
    labels = json.loads((HARD_CASES / "corpus_labels.json").read_text("utf-8"))
    for relative, item in sorted(labels.items()):
        path = root / relative
        if path.is_file():
            yield relative, path.read_bytes(), Expected(**item)


def labelled_mailbox(path: Path) -> Iterator[tuple[str, bytes, Expected]]:
    """Messages of a sample mbox with its ``.labels.json``; spam and trash are left out, as a sync leaves them."""
    labels = {item["message_id"]: item for item in json.loads(Path(str(path) + ".labels.json").read_text("utf-8"))}
    for message in std_mailbox.mbox(str(path), create=False):
        label = labels.get(str(message.get("Message-ID", "")).strip())
        if label is None or label.get("folder", "INBOX") != "INBOX":
            continue
        yield label["message_id"], message.as_bytes(), Expected(
            is_receipt=label["is_receipt"], vendor=label.get("vendor", ""), amount=label.get("amount", ""),
            currency=label.get("currency", ""), date=label.get("date", ""))


def labelled_folder(folder: Path = HARD_CASES) -> Iterator[tuple[str, bytes, Expected]]:
    """``.eml`` files with a ``labels.json`` beside them: {file name: expected values}."""
    labels = json.loads((folder / "labels.json").read_text("utf-8"))
    for name, item in sorted(labels.items()):
        yield name, (folder / name).read_bytes(), Expected(**item)



TAX_FIELDS = ("document_type", "supplier_tax_id", "allocation_number", "amount_before_vat", "vat_amount", "vat_rate",
              "total", "is_copy")


@dataclass
class TaxReport:
    """Each Israeli field's accuracy over the tax documents (``allocation_number`` over those that
    print one), with the misses."""

    documents: int = 0
    recognised: int = 0
    right: dict[str, int] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    invalid_tax_ids: int = 0

    def accuracy(self, name: str) -> float:
        return self.right.get(name, 0) / self.counted[name] if self.counted.get(name) else 1.0

    def figures(self) -> dict[str, Any]:
        return {"documents": self.documents, "recognised": self.recognised,
                **{name: round(self.accuracy(name), 3) for name in TAX_FIELDS}}


def evaluate_tax_documents(documents: Iterable[Any]) -> tuple[TaxReport, dict[str, TaxReport]]:
    """Recognise each Israeli tax document (``receipts.evalset.tax_documents``) and compare every
    field with its label: overall and per family."""
    from .israeli import valid_tax_id

    overall: TaxReport = TaxReport()
    families: dict[str, TaxReport] = {}
    for document in documents:
        result = recognise(parse_email(document.raw))
        labels = document.labels
        got = {"document_type": result.document_type, "supplier_tax_id": result.supplier_tax_id,
               "allocation_number": result.allocation_number, "amount_before_vat": result.amount_before_vat,
               "vat_amount": result.vat_amount, "vat_rate": result.vat_rate, "total": result.amount,
               "is_copy": result.is_copy}
        want = {name: getattr(labels, name) for name in TAX_FIELDS}
        for report in (overall, families.setdefault(document.family, TaxReport())):
            report.documents += 1
            report.recognised += result.is_receipt
            if result.supplier_tax_id and not valid_tax_id(result.supplier_tax_id):
                report.invalid_tax_ids += 1
            for name in TAX_FIELDS:
                if name == "allocation_number" and not want[name]:
                    continue  # found on the documents that print one
                report.counted[name] = report.counted.get(name, 0) + 1
                if got[name] == want[name]:
                    report.right[name] = report.right.get(name, 0) + 1
                elif report is overall:
                    report.misses.append(f"{document.name}: {name} {got[name]!r}, expected {want[name]!r}")
    return overall, families
