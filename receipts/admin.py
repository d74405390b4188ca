from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import ExaminedMessage, Receipt, ReceiptAttachment, SenderRule


class ReceiptAttachmentInline(admin.TabularInline[ReceiptAttachment, Receipt]):
    model = ReceiptAttachment
    extra = 0
    can_delete = False
    fields = ["link", "content_type", "size", "sha256", "skipped_reason"]
    readonly_fields = ["link", "content_type", "size", "sha256", "skipped_reason"]

    def has_add_permission(self, request: HttpRequest, obj: Receipt | None = None) -> bool:
        return False

    @admin.display(description="file")
    def link(self, obj: ReceiptAttachment) -> str:
        if not obj.file:
            return obj.filename
        url = reverse("receipt-attachment", kwargs={"pk": obj.receipt_id, "attachment_id": obj.pk})
        return format_html('<a href="{}">{}</a>', url, obj.filename)


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin[Receipt]):
    list_display = ["vendor", "amount", "currency", "receipt_date", "account", "confidence", "review_status"]
    list_filter = ["review_status", "document_type", "is_copy", "currency"]
    search_fields = ["vendor", "subject", "sender_email", "invoice_number"]
    list_select_related = ["account"]
    date_hierarchy = "received_at"
    inlines = [ReceiptAttachmentInline]
    readonly_fields = ["account", "sync_run", "gmail_message_id", "gmail_thread_id", "reasons", "duplicate_of", "checks",
                       "check_reasons",
                       "document", "body_file", "rendered_file", "render_error", "edited_fields", "original_values",
                       "created_at"]
    raw_id_fields = ["duplicate_of"]

    @admin.display(description="document")
    def document(self, obj: Receipt) -> str:
        if not obj.has_document:
            return "-"
        return format_html('<a href="{}">the document</a>', reverse("receipt-document", kwargs={"pk": obj.pk}))


@admin.register(SenderRule)
class SenderRuleAdmin(admin.ModelAdmin[SenderRule]):
    """A business's sender rules (always a receipt, never one, the vendor's name)."""

    list_display = ["sender", "decision", "vendor", "business", "updated_at"]
    list_filter = ["decision"]
    search_fields = ["sender", "vendor"]
    list_select_related = ["business"]


@admin.register(ExaminedMessage)
class ExaminedMessageAdmin(admin.ModelAdmin[ExaminedMessage]):
    """The ledger, read-only: what each run examined and what it decided."""

    list_display = ["received_at", "sender_email", "subject", "verdict", "score", "error", "sync_run"]
    list_filter = ["verdict"]
    search_fields = ["sender_email", "subject", "gmail_message_id"]
    list_select_related = ["sync_run"]
    readonly_fields = [f.name for f in ExaminedMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExaminedMessage | None = None) -> bool:
        return False
