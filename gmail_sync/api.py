"""The sync endpoints: start, status, cancel, resume and the list of runs."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import AUTH_ERROR, ERRORS, FAILURE, Pagination, SyncStartThrottle

from . import dates, runs
from .models import GmailAccount, SyncRun
from .services import AccountNotConnected, ActiveRunExists, cancel_run, resume_run, sync_start
from .status import SyncRunStatusSerializer, run_status


def accounts_of(user: Any) -> QuerySet[GmailAccount]:
    return GmailAccount.objects.filter(business__members=user)


def runs_of(user: Any) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(account__business__members=user).select_related("account")


class SyncRequestSerializer(serializers.Serializer[dict[str, Any]]):
    from_date = serializers.DateField(required=False, allow_null=True)
    to_date = serializers.DateField(required=False, allow_null=True)
    months_back = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=120)
    mode = serializers.ChoiceField(choices=SyncRun.SYNC_MODES, default=SyncRun.Mode.INCREMENTAL)
    run_to_completion = serializers.BooleanField(required=False, allow_null=True, default=None)
    max_seconds_per_run = serializers.IntegerField(required=False, allow_null=True, min_value=10, max_value=3600)
    account_id = serializers.IntegerField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        today = dates.today()
        for name in ("from_date", "to_date"):
            value = attrs.get(name)
            if value and value > today:
                errors.setdefault(name, []).append(f"Must not be in the future (today is {today.isoformat()}).")
            if value and value < dates.EARLIEST:
                errors.setdefault(name, []).append(f"Must not be before {dates.EARLIEST.isoformat()} (Gmail holds "
                                                   "no earlier mail).")
        start, end = attrs.get("from_date"), attrs.get("to_date")
        if start and end and start > end:
            errors.setdefault("from_date", []).append("Must not be after to_date.")
        if end and not start:
            errors.setdefault("from_date", []).append("Required when to_date is given.")
        if attrs.get("months_back") is not None and (start or end):
            errors.setdefault("months_back", []).append("Give either months_back or from_date/to_date, not both.")
        if attrs.get("run_to_completion") and attrs.get("max_seconds_per_run") is not None:
            errors.setdefault("max_seconds_per_run", []).append("Not used when run_to_completion is true.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


RUN_RESPONSE = inline_serializer("SyncRunResponse", {"success": serializers.BooleanField(), "sync_run": SyncRunStatusSerializer()})
CONFLICT = inline_serializer("SyncConflict", {"success": serializers.BooleanField(), "error": serializers.CharField(),
                                              "sync_run": SyncRunStatusSerializer()})


def _run_response(run: SyncRun, code: int = status.HTTP_200_OK) -> Response:
    return Response({"success": True, "sync_run": run_status(run)}, status=code)


def _conflict(message: str, run: SyncRun) -> Response:
    return Response({"success": False, "error": message, "sync_run": run_status(run)}, status=status.HTTP_409_CONFLICT)


def _not_found(message: str) -> Response:
    return Response({"success": False, "error": message}, status=status.HTTP_404_NOT_FOUND)


def _bad_request(errors: dict[str, Any]) -> Response:
    return Response({"success": False, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


class SyncRunViewSet(viewsets.GenericViewSet[SyncRun]):
    serializer_class = SyncRequestSerializer  # type: ignore[assignment]  # the start request's, not a run's
    pagination_class = None

    def get_queryset(self) -> QuerySet[SyncRun]:
        return runs_of(self.request.user)

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        return [*throttles, SyncStartThrottle()] if self.action == "start" else throttles

    def _owned_run(self, pk: Any) -> SyncRun | None:
        try:
            key = int(pk)
        except (ValueError, TypeError):
            return None
        if not 0 < key < 2**63:
            return None
        return self.get_queryset().filter(pk=key).first()

    @extend_schema(request=SyncRequestSerializer, responses={202: RUN_RESPONSE, 400: ERRORS, 401: AUTH_ERROR, 409: CONFLICT},
                   summary="Start a sync run")
    def start(self, request: Request) -> Response:
        serializer = SyncRequestSerializer(data=request.data if request.data is not None else {})
        if not serializer.is_valid():
            return _bad_request(serializer.errors)
        data = serializer.validated_data
        accounts = accounts_of(request.user)
        if data.get("account_id") is not None:
            account = accounts.filter(pk=data["account_id"]).first()
            if account is None:
                return _bad_request({"account_id": ["No such Gmail account in your business."]})
        else:
            connected = list(accounts.filter(status=GmailAccount.Status.CONNECTED)[:2])
            if len(connected) != 1:
                message = "Connect a Gmail account first." if not connected else "Several accounts are connected; give account_id."
                return _bad_request({"account_id": [message]})
            account = connected[0]
        try:
            run = sync_start(
                account=account,
                mode=data["mode"],
                from_date=data.get("from_date"),
                to_date=data.get("to_date"),
                months_back=data.get("months_back"),
                run_to_completion=data.get("run_to_completion"),
                max_seconds_per_run=data.get("max_seconds_per_run"),
                requested_by=request.user,
            )
        except ActiveRunExists as exc:
            return _conflict(f"A sync run of {account.email} is already {exc.run.status}.", exc.run)
        except AccountNotConnected as exc:
            return _bad_request({"account_id": [str(exc)]})
        run.refresh_from_db()
        return _run_response(run, status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[OpenApiParameter("run_id", OpenApiTypes.INT, description="the run; default the latest")],
        responses={200: RUN_RESPONSE, 400: ERRORS, 401: AUTH_ERROR, 404: FAILURE},
        summary="Status of a run",
    )
    def status(self, request: Request) -> Response:
        run_id = request.query_params.get("run_id")
        if run_id not in (None, ""):
            if not str(run_id).isdigit():
                return _bad_request({"run_id": ["A valid integer is required."]})
            run = self._owned_run(run_id)
            if run is None:
                return _not_found(f"No sync run {run_id}.")
        else:
            run = self.get_queryset().first()
            if run is None:
                return _not_found("No sync runs yet.")
        return _run_response(run)

    @extend_schema(request=None, responses={200: RUN_RESPONSE, 401: AUTH_ERROR, 404: FAILURE, 409: CONFLICT},
                   summary="Cancel a run (at its next page boundary if running)")
    def cancel(self, request: Request, pk: str) -> Response:
        run = self._owned_run(pk)
        if run is None:
            return _not_found(f"No sync run {pk}.")
        try:
            run = cancel_run(run=run)
        except runs.TransitionRefused as exc:
            return _conflict(str(exc), exc.run)
        return _run_response(run)

    @extend_schema(request=None, responses={202: RUN_RESPONSE, 401: AUTH_ERROR, 404: FAILURE, 409: CONFLICT},
                   summary="Resume a paused, failed or cancelled run from its checkpoint")
    def resume(self, request: Request, pk: str) -> Response:
        run = self._owned_run(pk)
        if run is None:
            return _not_found(f"No sync run {pk}.")
        if run.status not in SyncRun.RESUMABLE_STATUSES and not runs.is_orphaned(run):
            return _conflict(f"Sync run {run.pk} is {run.status}; only paused, failed or cancelled runs resume "
                             "(or running ones whose worker stopped beating).", run)
        try:
            run = resume_run(run=run)
        except ActiveRunExists as exc:
            return _conflict(f"A sync run of {run.account.email} is already {exc.run.status}.", exc.run)
        except runs.TransitionRefused as exc:
            return _conflict(str(exc), exc.run)
        run.refresh_from_db()
        return _run_response(run, status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={200: inline_serializer("SyncRunPage", {
            "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True), "results": SyncRunStatusSerializer(many=True)}),
            401: AUTH_ERROR, 404: AUTH_ERROR},
        parameters=[OpenApiParameter("page", OpenApiTypes.INT), OpenApiParameter("page_size", OpenApiTypes.INT)],
        summary="Runs, newest first",
    )
    def list_runs(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(self.get_queryset().order_by("-created_at", "-id"), request, view=self)
        return paginator.get_paginated_response([run_status(run) for run in page or []])
