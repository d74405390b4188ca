"""Reading receipts: what a user may see, and the filters the API and the pages share."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Count, Q, QuerySet, Sum

from .israeli import CHECK_CODES
from .models import Receipt

# As many digits as a stored amount has, and two more decimals: 1e999999 is a 400, not a 500.
AMOUNT = {"max_digits": 14, "decimal_places": 4}


class FilterError(Exception):
    def __init__(self, errors: Any) -> None:
        super().__init__("invalid filters")
        self.errors = errors


class ReceiptFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter has no types
    """The filters of the receipts list, the export and the receipts page (and, read by
    drf-spectacular, their OpenAPI parameters)."""

    from_date = django_filters.DateFilter(field_name="receipt_date", lookup_expr="gte",
                                          help_text="Receipts dated on or after this day.")
    to_date = django_filters.DateFilter(field_name="receipt_date", lookup_expr="lte",
                                        help_text="Receipts dated on or before this day.")
    vendor = django_filters.CharFilter(field_name="vendor", lookup_expr="icontains", max_length=300)
    currency = django_filters.CharFilter(method="filter_currency", max_length=3, min_length=3,
                                         validators=[RegexValidator(r"^[A-Za-z]{3}$", "A 3-letter ISO 4217 code.")],
                                         help_text="ISO 4217 code")
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", **AMOUNT)
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", **AMOUNT)
    q = django_filters.CharFilter(method="filter_text", max_length=300,
                                  help_text="Text in the vendor, subject, sender or invoice number.")
    review_status = django_filters.ChoiceFilter(
        method="filter_review_status", choices=[*Receipt.ReviewStatus.choices, ("all", "All")],
        help_text="pending, approved, rejected, duplicate or all; without it, rejected receipts and duplicates "
                  "are left out (of the list, the totals and the exports).")
    check = django_filters.ChoiceFilter(
        method="filter_check", choices=[(code, code) for code in CHECK_CODES],
        help_text="Receipts flagged with this check: " + ", ".join(CHECK_CODES) + ".")
    document_type = django_filters.ChoiceFilter(choices=[c for c in Receipt.DocumentType.choices if c[0]])
    ordering = django_filters.OrderingFilter(fields=["received_at", "receipt_date", "amount", "vendor", "confidence"],
                                          help_text="A field to sort by, - first for descending; confidence sorts the "
                                                    "review queue least certain first.")

    class Meta:
        model = Receipt
        fields: list[str] = []

    def filter_currency(self, queryset: QuerySet[Receipt], name: str, value: str) -> QuerySet[Receipt]:
        return queryset.filter(currency=value.upper())

    def filter_review_status(self, queryset: QuerySet[Receipt], name: str, value: str) -> QuerySet[Receipt]:
        return queryset if value == "all" else queryset.filter(review_status=value)

    def filter_check(self, queryset: QuerySet[Receipt], name: str, value: str) -> QuerySet[Receipt]:
        return queryset.filter(check_reasons__has_key=value)

    def filter_text(self, queryset: QuerySet[Receipt], name: str, value: str) -> QuerySet[Receipt]:
        return queryset.filter(Q(vendor__icontains=value) | Q(subject__icontains=value)
                               | Q(sender_email__icontains=value) | Q(invoice_number__icontains=value))

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        data = self.form.cleaned_data
        if data.get("from_date") and data.get("to_date") and data["from_date"] > data["to_date"]:
            self.form.add_error("from_date", "Must not be after to_date.")
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            self.form.add_error("min_amount", "Must not be above max_amount.")
        return not self.form.errors


def receipts_of(user: Any) -> QuerySet[Receipt]:
    """The receipts of the user's businesses, newest first."""
    return (Receipt.objects.filter(account__business__members=user)
            .prefetch_related("attachments").order_by("-received_at", "-id"))


def filter_receipts(queryset: QuerySet[Receipt], params: Mapping[str, str]) -> QuerySet[Receipt]:
    """Apply the filters of a query string; ``FilterError`` names each bad one."""
    filters = ReceiptFilter({k: v for k, v in params.items() if v != ""}, queryset=queryset)
    if not filters.is_valid():
        raise FilterError({field: [str(e) for e in errors] for field, errors in filters.errors.items()})
    ordered = "ordering" in filters.form.cleaned_data and filters.form.cleaned_data["ordering"]
    result: QuerySet[Receipt] = filters.qs
    if not filters.form.cleaned_data.get("review_status"):  # what a bookkeeper counts: not rejected, not twice
        result = result.exclude(review_status__in=[Receipt.ReviewStatus.REJECTED, Receipt.ReviewStatus.DUPLICATE])
    return result.order_by(*result.query.order_by, "-id") if ordered else result


def totals_by_currency(queryset: QuerySet[Receipt]) -> list[dict[str, Any]]:
    """Sum and count of the receipts per currency, largest first."""
    rows = (queryset.order_by().exclude(amount__isnull=True).values("currency")
            .annotate(total=Sum("amount"), count=Count("id")).order_by("-total"))
    return [{"currency": r["currency"] or "?", "total": r["total"] or Decimal("0"), "count": r["count"]} for r in rows]
