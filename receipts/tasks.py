"""Receipts' background work: rendering the documents of receipts that are only an email."""
from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="receipts.render_documents")  # type: ignore[untyped-decorator]  # Celery has no types
def render_documents(limit: int = 100) -> dict[str, Any]:
    """Render up to ``limit`` waiting documents (and their thumbnails), newest receipts first."""
    from .receipt_documents import render_pending

    return {"rendered": render_pending(limit)}
