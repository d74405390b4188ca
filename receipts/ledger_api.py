"""The examined-messages endpoints: every message a run examined, with its verdict and why, and
"this is a receipt" for one the recogniser passed over."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import AUTH_ERROR, ERRORS, FAILURE, Pagination
from gmail_sync.client import AccessRevoked, GmailError, MessageNotFound
from gmail_sync.models import GmailAccount
from gmail_sync.services import AccountNotConnected, NotFetchable, mark_as_receipt

from .api import ReceiptSerializer
from .models import ExaminedMessage
from .selectors import FilterError


class ExaminedMessageSerializer(serializers.ModelSerializer[ExaminedMessage]):
    account = serializers.IntegerField(source="account_id", read_only=True)
    sync_run = serializers.IntegerField(source="sync_run_id", read_only=True)

    class Meta:
        model = ExaminedMessage
        fields = ["id", "gmail_message_id", "account", "sync_run", "received_at", "sender_email", "subject", "verdict",
                  "score", "reasons", "error"]


def ledger_of_accounts(accounts: QuerySet[GmailAccount]) -> QuerySet[ExaminedMessage]:
    """The ledger rows of these accounts, newest first, undated ones (errors) last on every database.

    The accounts' ids are read first and given as values: joined to the accounts, the planner
    cannot tell how many rows one business has and sorts them all instead of reading the index
    in order (70 ms instead of 10 at 100,000 rows)."""
    ids = list(accounts.values_list("pk", flat=True))
    return ExaminedMessage.objects.filter(account_id__in=ids).order_by(F("received_at").desc(nulls_last=True), "-id")


def filter_ledger(queryset: QuerySet[ExaminedMessage], params: Mapping[str, str]) -> QuerySet[ExaminedMessage]:
    """Apply the filters of a query string (the API's and the page's); ``FilterError`` names each bad one."""
    filters = ExaminedMessageFilter({k: v for k, v in params.items() if v != "" and k not in {"page", "page_size"}},
                                    queryset=queryset)
    if not filters.is_valid():
        raise FilterError({field: [str(e) for e in problems] for field, problems in filters.errors.items()})
    result: QuerySet[ExaminedMessage] = filters.qs
    return result


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ExaminedMessageFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter has no types
    verdict = django_filters.ChoiceFilter(choices=ExaminedMessage.Verdict.choices)
    sender = django_filters.CharFilter(method="filter_sender", max_length=320,
                                       help_text="The sender's address, exactly (any case).")
    q = django_filters.CharFilter(method="filter_text", max_length=300, help_text="Text in the sender or subject.")
    from_date = django_filters.DateFilter(method="filter_from", help_text="Received on or after this day.")
    to_date = django_filters.DateFilter(method="filter_to", help_text="Received on or before this day.")
    run_id = django_filters.NumberFilter(field_name="sync_run_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = ExaminedMessage
        fields: list[str] = []

    def filter_sender(self, queryset: QuerySet[ExaminedMessage], name: str, value: str) -> QuerySet[ExaminedMessage]:
        return queryset.filter(sender_email=value.strip().lower())  # stored in lower case: the index serves it

    # Days in TIME_ZONE as ranges of instants (not the column cast to a date, which no index serves).
    def filter_from(self, queryset: QuerySet[ExaminedMessage], name: str, value: date) -> QuerySet[ExaminedMessage]:
        return queryset.filter(received_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[ExaminedMessage], name: str, value: date) -> QuerySet[ExaminedMessage]:
        if value >= date.max - timedelta(days=1):
            return queryset
        return queryset.filter(received_at__lt=_day_start(value + timedelta(days=1)))

    def filter_text(self, queryset: QuerySet[ExaminedMessage], name: str, value: str) -> QuerySet[ExaminedMessage]:
        return queryset.filter(Q(sender_email__icontains=value) | Q(subject__icontains=value))


class ExaminedMessageViewSet(viewsets.GenericViewSet[ExaminedMessage]):
    serializer_class = ExaminedMessageSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]  # read by drf-spectacular; the view applies the filters itself
    filterset_class = ExaminedMessageFilter

    def get_queryset(self) -> QuerySet[ExaminedMessage]:
        if getattr(self, "swagger_fake_view", False):
            return ExaminedMessage.objects.none()
        return ledger_of_accounts(GmailAccount.objects.filter(business__members=self.request.user.pk or 0))

    @extend_schema(parameters=[OpenApiParameter("page_size", OpenApiTypes.INT)],
                   responses={200: ExaminedMessageSerializer(many=True), 400: ERRORS, 401: AUTH_ERROR, 404: AUTH_ERROR},
                   summary="Every message the runs examined, with its verdict, score and reasons")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            queryset = filter_ledger(self.get_queryset(), request.query_params)
        except FilterError as exc:
            return Response({"success": False, "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=None, responses={200: ReceiptSerializer, 201: ReceiptSerializer, 401: AUTH_ERROR,
                                            404: FAILURE, 409: FAILURE, 503: FAILURE},
                   summary="This is a receipt: fetch the message once more and store it as an approved receipt")
    def mark_receipt(self, request: Request, pk: str) -> Response:
        entry = self.get_queryset().select_related("account").filter(pk=pk).first()
        if entry is None:
            return Response({"success": False, "error": "No such examined message."}, status=status.HTTP_404_NOT_FOUND)
        try:
            receipt, created = mark_as_receipt(entry=entry)
        except (NotFetchable, AccountNotConnected) as exc:
            return Response({"success": False, "error": str(exc)}, status=status.HTTP_409_CONFLICT)
        except AccessRevoked:
            return Response({"success": False, "error": "Gmail access was revoked or has expired: reconnect the "
                                                        "account, then try again."}, status=status.HTTP_409_CONFLICT)
        except MessageNotFound:
            return Response({"success": False, "error": "The message is no longer in Gmail."},
                            status=status.HTTP_404_NOT_FOUND)
        except GmailError as exc:
            return Response({"success": False, "error": f"Gmail error: {exc}. Try again later."},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(ReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
