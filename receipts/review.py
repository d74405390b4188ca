"""A person's review of a receipt: corrections, approval and rejection.

A sync writes a receipt once and never again (the unique constraints skip a message already
stored), so what a person edits or decides stays through every later sync, resume and import:
a rejected receipt keeps its row, marked rejected, and so is never created again. The first edit
of a field keeps the extraction's value beside it (``original_values``).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Receipt
from .tax import TAX_FIELDS, checked

EDITABLE = ("vendor", "amount", "currency", "receipt_date", "invoice_number", "vat_amount", "document_type",
            "supplier_tax_id", "allocation_number", "amount_before_vat", "vat_rate", "is_copy")


def _plain(value: Any) -> Any:
    """A field's value as JSON holds it."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def receipt_edit(*, receipt: Receipt, changes: dict[str, Any]) -> Receipt:
    """Apply a person's corrections (validated values of EDITABLE fields)."""
    with transaction.atomic():
        receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
        edited = list(receipt.edited_fields)
        original = dict(receipt.original_values)
        for name, value in changes.items():
            if name not in EDITABLE:
                raise ValueError(f"{name} is not editable")
            if getattr(receipt, name) == value:
                continue
            if name not in edited:
                edited.append(name)
                original[name] = _plain(getattr(receipt, name))
            setattr(receipt, name, value)
        receipt.edited_fields, receipt.original_values = edited, original
        receipt.checks, receipt.check_reasons = checked({name: getattr(receipt, name) for name in TAX_FIELDS},
                                                        receipt.check_reasons)
        receipt.reviewed_at = timezone.now()
        receipt.save()
    return receipt


def receipt_review(*, receipt: Receipt, status: str) -> Receipt:
    """Approve or reject a receipt (or put it back to pending)."""
    if status not in {Receipt.ReviewStatus.APPROVED, Receipt.ReviewStatus.REJECTED, Receipt.ReviewStatus.PENDING}:
        raise ValueError(f"not a review decision: {status}")
    Receipt.objects.filter(pk=receipt.pk).update(review_status=status, reviewed_at=timezone.now(),
                                                 updated_at=timezone.now())
    receipt.refresh_from_db()
    return receipt
