from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.contrib import admin, messages
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest

from . import runs
from .models import Business, GmailAccount, QuarantinedMessage, SyncRun


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin[Business]):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(GmailAccount)
class GmailAccountAdmin(admin.ModelAdmin[GmailAccount]):
    """The refresh token is never shown, not even encrypted; only whether one is stored."""

    list_display = ["email", "business", "status", "has_token", "last_synced_at"]
    list_filter = ["status"]
    search_fields = ["email", "business__name"]
    exclude = ["refresh_token_encrypted"]
    readonly_fields = ["has_token", "last_history_id", "last_synced_at", "created_at", "updated_at"]

    @admin.display(boolean=True, description="token stored")
    def has_token(self, obj: GmailAccount) -> bool:
        return obj.has_token


def _apply(request: HttpRequest, queryset: QuerySet[SyncRun], action: Callable[[SyncRun], SyncRun],
           label: str | Callable[[SyncRun], str]) -> None:
    """Run ``action`` on each run and say what it did: ``label``, or ``label(run)`` of the run as
    the action left it."""
    done: Counter[str] = Counter()
    for run in queryset:
        try:
            after = action(run)
        except runs.TransitionRefused as exc:
            messages.warning(request, str(exc))
        except IntegrityError:
            messages.error(request, f"Sync run {run.pk}: another run of {run.account} is already active.")
        else:
            done[label(after) if callable(label) else label] += 1
    for text, count in done.items():
        messages.success(request, f"{text}: {count} run(s).")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin[SyncRun]):
    list_display = [
        "id",
        "account",
        "mode",
        "status",
        "messages_scanned",
        "saved_receipts",
        "skipped_count",
        "errors_count",
        "already_stored",
        "phase",
        "heartbeat_age",
        "duration",
        "rate",
        "created_at",
    ]
    list_filter = ["status", "mode"]
    search_fields = ["account__email", "error_message"]
    list_select_related = ["account"]
    actions = ["cancel_runs", "resume_runs", "mark_runs_failed", "mark_runs_completed"]
    readonly_fields = [f.name for f in SyncRun._meta.fields] + ["heartbeat_age", "duration", "rate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="heartbeat age (s)")
    def heartbeat_age(self, obj: SyncRun) -> float | None:
        return obj.seconds_since_heartbeat

    @admin.display(description="duration (s)")
    def duration(self, obj: SyncRun) -> float | None:
        value = obj.duration_seconds
        return round(value, 1) if value is not None else None

    @admin.display(description="messages/s")
    def rate(self, obj: SyncRun) -> float | None:
        return obj.messages_per_second

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        _apply(request, queryset, lambda run: runs.request_cancel(run=run),
               lambda run: "Cancelled" if run.status == SyncRun.Status.CANCELLED
               else "Cancel requested (the worker stops the run at its next commit)")

    @admin.action(description="Resume selected runs from their checkpoint")
    def resume_runs(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        from .services import resume_run

        _apply(request, queryset, lambda run: resume_run(run=run), "Resumed")

    @admin.action(description="Mark selected runs failed")
    def mark_runs_failed(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        _apply(
            request,
            queryset,
            lambda run: runs.mark_failed(run=run, message=f"Marked failed by {request.user}."),
            "Marked failed",
        )

    @admin.action(description="Mark selected paused runs completed")
    def mark_runs_completed(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        _apply(request, queryset, lambda run: runs.mark_completed(run=run), "Marked completed")


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(admin.ModelAdmin[QuarantinedMessage]):
    """Messages that failed to be read or stored; delete a row to let the next run try it again."""

    list_display = ["gmail_message_id", "account", "failures", "reason", "last_run", "updated_at"]
    search_fields = ["gmail_message_id", "account__email"]
    readonly_fields = ["account", "gmail_message_id", "failures", "reason", "last_run", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
