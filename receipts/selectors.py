"""Reading receipts: what a user may see, and the filters the API and the pages share."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from rest_framework import serializers

from .models import Receipt

ORDERINGS = {"received_at", "-received_at", "receipt_date", "-receipt_date", "amount", "-amount", "vendor", "-vendor"}


class FilterError(Exception):
    def __init__(self, errors: Any) -> None:
        super().__init__("invalid filters")
        self.errors = errors


class ReceiptFilterSerializer(serializers.Serializer[dict[str, Any]]):
    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False)
    vendor = serializers.CharField(required=False, max_length=300)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, error_messages={"invalid": "A 3-letter ISO 4217 code."})
    # As many digits as a stored amount has, and two more decimals: 1e999999 is a 400, not a 500.
    min_amount = serializers.DecimalField(required=False, max_digits=14, decimal_places=4)
    max_amount = serializers.DecimalField(required=False, max_digits=14, decimal_places=4)
    q = serializers.CharField(required=False, max_length=300)
    ordering = serializers.ChoiceField(required=False, choices=sorted(ORDERINGS))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from_date") and attrs.get("to_date") and attrs["from_date"] > attrs["to_date"]:
            raise serializers.ValidationError({"from_date": ["Must not be after to_date."]})
        low, high = attrs.get("min_amount"), attrs.get("max_amount")
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            raise serializers.ValidationError({"min_amount": ["Must not be above max_amount."]})
        return attrs


def receipts_of(user: Any) -> QuerySet[Receipt]:
    """The receipts of the user's businesses, newest first."""
    return (Receipt.objects.filter(account__business__members=user)
            .prefetch_related("attachments").order_by("-received_at", "-id"))


def filter_receipts(queryset: QuerySet[Receipt], params: Mapping[str, str]) -> QuerySet[Receipt]:
    """Apply the filters of a query string; ``FilterError`` names each bad one."""
    known = set(ReceiptFilterSerializer().fields)
    serializer = ReceiptFilterSerializer(data={k: v for k, v in params.items() if k in known and v != ""})
    if not serializer.is_valid():
        raise FilterError(serializer.errors)
    data = serializer.validated_data
    if "from_date" in data:
        queryset = queryset.filter(receipt_date__gte=data["from_date"])
    if "to_date" in data:
        queryset = queryset.filter(receipt_date__lte=data["to_date"])
    if "vendor" in data:
        queryset = queryset.filter(vendor__icontains=data["vendor"])
    if "currency" in data:
        queryset = queryset.filter(currency=data["currency"].upper())
    if "min_amount" in data:
        queryset = queryset.filter(amount__gte=data["min_amount"])
    if "max_amount" in data:
        queryset = queryset.filter(amount__lte=data["max_amount"])
    if "q" in data:
        term = data["q"]
        queryset = queryset.filter(Q(vendor__icontains=term) | Q(subject__icontains=term)
                                   | Q(sender_email__icontains=term) | Q(invoice_number__icontains=term))
    if "ordering" in data:
        queryset = queryset.order_by(data["ordering"], "-id")
    return queryset


def totals_by_currency(queryset: QuerySet[Receipt]) -> list[dict[str, Any]]:
    """Sum and count of the receipts per currency, largest first."""
    rows = (queryset.order_by().exclude(amount__isnull=True).values("currency")
            .annotate(total=Sum("amount"), count=Count("id")).order_by("-total"))
    return [{"currency": r["currency"] or "?", "total": r["total"] or Decimal("0"), "count": r["count"]} for r in rows]
