"""Render the documents of receipts that are only an email (what the worker's periodic task does)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from receipts.receipt_documents import render_pending


class Command(BaseCommand):
    help = "Render to PDF the emails of receipts that have no document yet, with their thumbnails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000, help="At most this many (default 1000).")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit < 1:
            self.stderr.write("--limit must be at least 1.")
            raise SystemExit(2)
        done = render_pending(limit)
        self.stdout.write(f"Rendered {done} document(s).")
