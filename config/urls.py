from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from django.urls.converters import get_converters
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gmail_sync import web
from gmail_sync.api import SyncRunViewSet
from receipts.api import ReceiptViewSet
from receipts.ledger_api import ExaminedMessageViewSet
from receipts.rules_api import SenderRuleViewSet


class IdConverter:
    """A database id: digits that fit a 64-bit key; anything longer is simply not found."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


if "id" not in get_converters():  # a reload of this module (the tests) keeps the first
    register_converter(IdConverter, "id")

# Sign-in, sign-out and password change; the password reset only where the server can send mail
# (EMAIL_HOST), since a reset link that never arrives is a dead end.
auth_urls = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
if settings.EMAIL_HOST:
    auth_urls += [
        path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
        path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
        path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    ]

sync_start = SyncRunViewSet.as_view({"post": "start"})
sync_status = SyncRunViewSet.as_view({"get": "status"})
sync_cancel = SyncRunViewSet.as_view({"post": "cancel"})
sync_resume = SyncRunViewSet.as_view({"post": "resume"})
sync_runs = SyncRunViewSet.as_view({"get": "list_runs"})
receipt_list = ReceiptViewSet.as_view({"get": "list"})
receipt_detail = ReceiptViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
receipt_approve = ReceiptViewSet.as_view({"post": "approve"})
receipt_reject = ReceiptViewSet.as_view({"post": "reject"})
receipt_attachment = ReceiptViewSet.as_view({"get": "attachment"})
receipt_document = ReceiptViewSet.as_view({"get": "document"})
receipt_thumbnail = ReceiptViewSet.as_view({"get": "thumbnail"})
receipt_bulk_approve = ReceiptViewSet.as_view({"post": "bulk_approve"})
rule_list = SenderRuleViewSet.as_view({"get": "list", "post": "create"})
rule_detail = SenderRuleViewSet.as_view({"patch": "partial_update", "delete": "destroy"})
rule_apply = SenderRuleViewSet.as_view({"post": "apply"})
receipt_export = ReceiptViewSet.as_view({"get": "export"})
message_list = ExaminedMessageViewSet.as_view({"get": "list"})
message_mark_receipt = ExaminedMessageViewSet.as_view({"post": "mark_receipt"})

api = [
    path("receipts/sync", sync_start, name="sync-start"),
    path("receipts/sync/status", sync_status, name="sync-status"),
    path("receipts/sync/runs", sync_runs, name="sync-runs"),
    path("receipts/sync/<id:pk>/cancel", sync_cancel, name="sync-cancel"),
    path("receipts/sync/<id:pk>/resume", sync_resume, name="sync-resume"),
    path("receipts/export", receipt_export, name="receipt-export"),
    path("receipts/", receipt_list, name="receipt-list"),
    path("receipts/<id:pk>", receipt_detail, name="receipt-detail"),
    path("receipts/<id:pk>/approve", receipt_approve, name="receipt-approve"),
    path("receipts/<id:pk>/reject", receipt_reject, name="receipt-reject"),
    path("receipts/<id:pk>/attachments/<id:attachment_id>", receipt_attachment, name="receipt-attachment"),
    path("receipts/<id:pk>/document", receipt_document, name="receipt-document"),
    path("receipts/<id:pk>/thumbnail", receipt_thumbnail, name="receipt-thumbnail"),
    path("receipts/approve", receipt_bulk_approve, name="receipt-bulk-approve"),
    path("sender-rules/", rule_list, name="sender-rule-list"),
    path("sender-rules/<id:pk>", rule_detail, name="sender-rule-detail"),
    path("sender-rules/<id:pk>/apply", rule_apply, name="sender-rule-apply"),
    path("messages/", message_list, name="message-list"),
    path("messages/<id:pk>/mark-receipt", message_mark_receipt, name="message-mark-receipt"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file of its own: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", web.dashboard, name="dashboard"),
    path("receipts/", web.receipts_page, name="receipts"),
    path("review/", web.review_queue, name="review-queue"),
    path("messages/", web.messages_page, name="examined-messages"),
    path("imports/upload", web.takeout_upload, name="takeout-upload"),
    path("oauth/connect", web.oauth_connect, name="oauth-connect"),
    path("oauth/callback", web.oauth_callback, name="oauth-callback"),
    path("oauth/<id:pk>/disconnect", web.oauth_disconnect, name="oauth-disconnect"),
    path("admin/", admin.site.urls),
    path("accounts/", include(auth_urls)),
    path("api/", include(api)),
]
# No URL serves MEDIA_ROOT, in any mode: an attachment is downloaded only through the API's view,
# after its tenancy check.
handler404 = "config.views.not_found"
handler500 = "config.api.server_error"
