from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from receipts.documents import DocumentFacts, read_pdf, read_text
from receipts.parsing import MessageRefused, parse_email
from receipts.recognition import recognise

MAIL_SUFFIXES = {".eml", ".msg", ".txt", ""}


def _expected_values(path: Path, root: Path, summaries: dict[Path, dict[str, Any]]) -> dict[str, str] | None:
    """Expected total/currency/date for a document: a JSON beside it (invoice2data) or a folder summary (ZUGFeRD)."""
    beside = path.with_suffix(".json")
    if beside.exists():
        try:
            data = json.loads(beside.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        item = data[0] if isinstance(data, list) and data else data
        if isinstance(item, dict) and "amount" in item:
            return {"total": str(item.get("amount", "")), "currency": str(item.get("currency", "")),
                    "date": str(item.get("date", ""))}
    for folder, summary in summaries.items():
        try:
            key = str(path.relative_to(folder))
        except ValueError:
            continue
        item = summary.get(key)
        if item and item.get("grand_total") is not None:
            raw = str(item.get("issue_date") or "")
            iso = f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}" if len(raw) == 8 and raw.isdigit() else raw
            return {"total": str(item["grand_total"]), "currency": str(item.get("currency") or ""), "date": iso}
    return None


def _same_amount(got: Decimal | None, want: str) -> bool:
    try:
        return got is not None and Decimal(want) == got
    except InvalidOperation:
        return False


class Command(BaseCommand):
    help = ("Feed every message and PDF under a folder through the recogniser: no crash, each counted; where "
            "expected values stand beside a PDF (invoice2data JSON, a ZUGFeRD summary), compare total, currency "
            "and date.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--verbose-misses", action="store_true", help="list every wrong document value")
        parser.add_argument("--min-document-accuracy", type=float, default=None,
                            help="exit non-zero when fewer documents than this share (0-1) are fully right")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["path"])
        if not root.is_dir():
            raise CommandError(f"No folder at {root}")
        summaries = {}
        for summary_path in root.rglob("_derived_embedded_xml_summary.json"):
            summaries[summary_path.parent] = json.loads(summary_path.read_text("utf-8"))
        mail = {"receipt": 0, "not_receipt": 0, "refused": 0, "error": 0}
        documents = {"read": 0, "error": 0, "checked": 0, "right": 0, "total": 0, "currency": 0, "date": 0}
        misses: list[str] = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            suffix = path.suffix.lower()
            if path.name in {"MANIFEST.sha256"} or path.name.startswith("LICENSE") or suffix in {".json", ".md", ".png", ".jpg"}:
                continue
            if suffix == ".pdf" or (suffix == ".txt" and path.with_suffix(".json").exists()):
                try:
                    facts = read_pdf(path.read_bytes()) if suffix == ".pdf" else read_text(path.read_text("utf-8", "replace"))
                    documents["read"] += 1
                except Exception as exc:  # the check's point: report, never stop
                    documents["error"] += 1
                    misses.append(f"{path.relative_to(root)}: crashed: {type(exc).__name__}: {exc}")
                    continue
                expected = _expected_values(path, root, summaries)
                if expected:
                    self._compare(path.relative_to(root), facts, expected, documents, misses)
                continue
            if suffix not in MAIL_SUFFIXES:
                continue
            try:
                result = recognise(parse_email(path.read_bytes()))
                mail["receipt" if result.is_receipt else "not_receipt"] += 1
            except MessageRefused as exc:  # refused by design, in bounded time: counted, not a crash
                mail["refused"] += 1
                misses.append(f"{path.relative_to(root)}: refused: {exc}")
            except Exception as exc:
                mail["error"] += 1
                misses.append(f"{path.relative_to(root)}: crashed: {type(exc).__name__}: {exc}")
        messages = sum(mail.values())
        checked = documents["checked"]
        share = documents["right"] / checked if checked else 1.0
        self.stdout.write(f"messages: {messages} examined, {mail['receipt']} receipts, {mail['not_receipt']} not "
                          f"receipts, {mail['refused']} refused, {mail['error']} errors")
        self.stdout.write(f"documents: {documents['read']} read, {documents['error']} errors; {checked} with "
                          f"expected values: total {documents['total']}/{checked}, currency "
                          f"{documents['currency']}/{checked}, date {documents['date']}/{checked}, all three "
                          f"{documents['right']}/{checked} ({share:.1%})")
        for miss in misses if options["verbose_misses"] else [m for m in misses if "crashed" in m or "refused" in m]:
            self.stdout.write(f"  - {miss}")
        if mail["error"] or documents["error"]:
            raise CommandError("Some files crashed the recogniser.")
        if options["min_document_accuracy"] is not None and share < options["min_document_accuracy"]:
            raise CommandError(f"Document accuracy {share:.1%} is below {options['min_document_accuracy']:.0%}.")

    def _compare(self, name: Path, facts: DocumentFacts, expected: dict[str, str], documents: dict[str, int],
                 misses: list[str]) -> None:
        documents["checked"] += 1
        ok_total = _same_amount(facts.total, expected["total"])
        ok_currency = facts.currency == expected["currency"]
        ok_date = (facts.issue_date.isoformat() if facts.issue_date else "") == expected["date"]
        documents["total"] += ok_total
        documents["currency"] += ok_currency
        documents["date"] += ok_date
        if ok_total and ok_currency and ok_date:
            documents["right"] += 1
        else:
            misses.append(f"{name}: got total={facts.total} currency={facts.currency or '-'} date={facts.issue_date} "
                          f"({facts.source}); want {expected}")
