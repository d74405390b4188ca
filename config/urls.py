from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gmail_sync.api import SyncRunViewSet
from receipts.api import ReceiptViewSet

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
    path("receipts/sync/<int:pk>/cancel", sync_cancel, name="sync-cancel"),
    path("receipts/sync/<int:pk>/resume", sync_resume, name="sync-resume"),
    path("receipts/export", receipt_export, name="receipt-export"),
    path("receipts/", receipt_list, name="receipt-list"),
    path("receipts/<int:pk>", receipt_detail, name="receipt-detail"),
    path("receipts/<int:pk>/attachments/<int:attachment_id>", receipt_attachment, name="receipt-attachment"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include(api)),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
