"""The status JSON of a run, in the seed's exact shape (plus a few live figures).

One serializer both writes it and, read by drf-spectacular, documents it in the OpenAPI schema.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import SyncRun

WAITING_AFTER_SECONDS = 15


def waiting_for_worker(run: SyncRun) -> bool:
    """A run that no worker has taken for a while: started or paused between slices, and not
    claimed since (no worker is running, or every one is busy)."""
    unclaimed = (run.status == SyncRun.Status.RUNNING and not run.worker_id) or (
        run.status == SyncRun.Status.PAUSED and not run.held and not run.cancel_requested)
    since = run.updated_at or run.created_at
    return bool(unclaimed and since and (timezone.now() - since).total_seconds() > WAITING_AFTER_SECONDS)


def progress_percentage(run: SyncRun) -> float | None:
    if run.status == SyncRun.Status.COMPLETED and not run.error_message:  # read to its end (not closed by hand)
        return 100.0
    if run.mode == SyncRun.Mode.TAKEOUT_IMPORT and run.source_size:
        return round(min(99.9, 100.0 * run.source_offset / run.source_size), 1)
    if run.estimated_total:
        return round(min(99.9, 100.0 * run.messages_scanned / run.estimated_total), 1)
    return None


def eta_seconds(run: SyncRun) -> int | None:
    """Seconds left at the run's rate; none for a run that is not running (a paused one may wait long)."""
    if run.status != SyncRun.Status.RUNNING:
        return None
    if run.mode == SyncRun.Mode.TAKEOUT_IMPORT:  # at the rate the file has been read so far
        seconds = run.active_seconds
        if run.source_size and run.source_offset and seconds > 0:
            return max(0, round((run.source_size - run.source_offset) * seconds / run.source_offset))
        return None
    rate = run.messages_per_second
    if run.estimated_total and rate:
        return max(0, round((run.estimated_total - run.messages_scanned) / rate))
    return None


@extend_schema_field(OpenApiTypes.DATETIME)
class _Instant(serializers.Field):  # type: ignore[type-arg]
    """An ISO 8601 time as stored (UTC, ``+00:00``), or null."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: datetime | None) -> str | None:
        return value.isoformat() if value else None


@extend_schema_field({"type": "string", "nullable": True})
class _TextOrNull(serializers.Field):  # type: ignore[type-arg]
    """Text, with an empty value as null."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: str) -> str | None:
        return value or None


class _Progress(serializers.Serializer[SyncRun]):
    messages_scanned = serializers.IntegerField()
    saved_receipts = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    errors_count = serializers.IntegerField()
    already_stored = serializers.IntegerField(help_text="Receipts met that were stored before this run.")
    receipts_found = serializers.SerializerMethodField(help_text="Receipts found so far: saved and already stored.")

    @extend_schema_field({"type": "integer"})
    def get_receipts_found(self, run: SyncRun) -> int:
        return run.saved_receipts + run.already_stored


class _Config(serializers.Serializer[SyncRun]):
    from_date = serializers.DateField(allow_null=True)
    to_date = serializers.DateField(allow_null=True)
    months_back = serializers.IntegerField(allow_null=True)
    run_to_completion = serializers.BooleanField()
    max_seconds_per_run = serializers.IntegerField(allow_null=True)


class _Checkpoint(serializers.Serializer[SyncRun]):
    has_next = serializers.BooleanField()
    last_page_token = _TextOrNull()
    current_month = _TextOrNull()
    phase = _TextOrNull(help_text="A receipts-first scan's part: likely (read first), then rest; null in date order.")
    byte_offset = serializers.SerializerMethodField(help_text="An import's position in its mbox file, in bytes.")
    file_size = serializers.SerializerMethodField(help_text="The size of an import's mbox file, in bytes.")

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_byte_offset(self, run: SyncRun) -> int | None:
        return run.source_offset if run.mode == SyncRun.Mode.TAKEOUT_IMPORT else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_file_size(self, run: SyncRun) -> int | None:
        return run.source_size if run.mode == SyncRun.Mode.TAKEOUT_IMPORT else None


class SyncRunStatusSerializer(serializers.Serializer[SyncRun]):
    """A run's status JSON."""

    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    mode = serializers.ChoiceField(choices=SyncRun.Mode.choices)
    status = serializers.ChoiceField(choices=SyncRun.Status.choices)
    progress = _Progress(source="*")
    config = _Config(source="*")
    checkpoint = _Checkpoint(source="*")
    pages_scanned = serializers.IntegerField()
    slices = serializers.IntegerField(source="slices_count")
    estimated_total = serializers.IntegerField(allow_null=True)
    progress_percentage = serializers.SerializerMethodField()
    messages_per_second = serializers.FloatField(allow_null=True,
                                                 help_text="Messages per second of work (paused time left out).")
    eta_seconds = serializers.SerializerMethodField()
    seconds_since_heartbeat = serializers.FloatField(allow_null=True)
    cancel_requested = serializers.BooleanField()
    waiting_for_worker = serializers.SerializerMethodField()
    created_at = _Instant()
    started_at = _Instant()
    finished_at = _Instant()
    error_message = _TextOrNull()

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_progress_percentage(self, run: SyncRun) -> float | None:
        return progress_percentage(run)

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_eta_seconds(self, run: SyncRun) -> int | None:
        return eta_seconds(run)

    @extend_schema_field({"type": "boolean", "description": "Started or paused and taken by no worker for 15 s."})
    def get_waiting_for_worker(self, run: SyncRun) -> bool:
        return waiting_for_worker(run)


def run_status(run: SyncRun) -> dict[str, Any]:
    return dict(SyncRunStatusSerializer(run).data)
