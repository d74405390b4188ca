from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gmail_sync import web
from gmail_sync.api import SyncRunViewSet
from receipts.api import ReceiptViewSet


class IdConverter:
    """A database id: digits that fit a 64-bit key; anything longer is simply not found."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

sync_start = SyncRunViewSet.as_view({"post": "start"})
sync_status = SyncRunViewSet.as_view({"get": "status"})
sync_cancel = SyncRunViewSet.as_view({"post": "cancel"})
sync_resume = SyncRunViewSet.as_view({"post": "resume"})
sync_runs = SyncRunViewSet.as_view({"get": "list_runs"})
receipt_list = ReceiptViewSet.as_view({"get": "list"})
receipt_detail = ReceiptViewSet.as_view({"get": "retrieve"})
receipt_attachment = ReceiptViewSet.as_view({"get": "attachment"})
receipt_export = ReceiptViewSet.as_view({"get": "export"})

api = [
    path("receipts/sync", sync_start, name="sync-start"),
    path("receipts/sync/status", sync_status, name="sync-status"),
    path("receipts/sync/runs", sync_runs, name="sync-runs"),
    path("receipts/sync/<id:pk>/cancel", sync_cancel, name="sync-cancel"),
    path("receipts/sync/<id:pk>/resume", sync_resume, name="sync-resume"),
    path("receipts/export", receipt_export, name="receipt-export"),
    path("receipts/", receipt_list, name="receipt-list"),
    path("receipts/<id:pk>", receipt_detail, name="receipt-detail"),
    path("receipts/<id:pk>/attachments/<id:attachment_id>", receipt_attachment, name="receipt-attachment"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", web.dashboard, name="dashboard"),
    path("receipts/", web.receipts_page, name="receipts"),
    path("oauth/connect", web.oauth_connect, name="oauth-connect"),
    path("oauth/callback", web.oauth_callback, name="oauth-callback"),
    path("oauth/<id:pk>/disconnect", web.oauth_disconnect, name="oauth-disconnect"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include(api)),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
handler404 = "config.views.not_found"
