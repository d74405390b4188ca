"""The HTTP API: auth, tenant isolation, validation, the seed's shapes, receipts and exports."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from gmail_sync.models import SyncRun
from receipts.models import ReceiptAttachment
from tests.factories import GmailAccountFactory, ReceiptFactory, SyncRunFactory
from tests.helpers import api_client

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/receipts/sync"),
    ("get", "/api/receipts/sync/status"),
    ("post", "/api/receipts/sync/1/cancel"),
    ("post", "/api/receipts/sync/1/resume"),
    ("get", "/api/receipts/sync/runs"),
    ("get", "/api/receipts/"),
    ("get", "/api/receipts/1"),
    ("get", "/api/receipts/1/attachments/1"),
    ("patch", "/api/receipts/1"),
    ("post", "/api/receipts/1/approve"),
    ("post", "/api/receipts/1/reject"),
    ("get", "/api/messages/"),
    ("post", "/api/messages/1/mark-receipt"),
    ("get", "/api/receipts/export?format=csv"),
]
STATUS_KEYS = {"id", "mode", "status", "progress", "config", "checkpoint", "progress_percentage",
               "messages_per_second", "eta_seconds", "seconds_since_heartbeat", "started_at", "finished_at",
               "error_message"}




@pytest.fixture
def owner():
    client, business = api_client("owner", "Bakery")
    account = GmailAccountFactory(business=business, email="owner@example.com", refresh_token="demo-refresh-token")
    return client, business, account


@pytest.fixture
def no_enqueue():
    with mock.patch("gmail_sync.tasks.enqueue_slice") as patched:
        yield patched


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_answers_401_without_credentials(method: str, url: str) -> None:
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/receipts/sync/status").status_code == 401


def test_bodyless_post_starts_an_incremental_run_with_the_defaults(owner, no_enqueue) -> None:
    client, _, account = owner
    response = client.post("/api/receipts/sync")
    assert response.status_code == 202, response.content
    run = response.json()["sync_run"]
    assert response.json()["success"] is True
    assert STATUS_KEYS <= set(run)
    assert run["mode"] == "incremental" and run["status"] == "running"
    assert run["config"]["months_back"] == 36
    assert run["config"]["to_date"] == timezone.localdate().isoformat()
    assert run["config"]["run_to_completion"] is False and run["config"]["max_seconds_per_run"] == 120
    no_enqueue.assert_called_once_with(run["id"])


def test_second_start_is_409_with_the_active_run(owner, no_enqueue) -> None:
    client, _, account = owner
    first = client.post("/api/receipts/sync", {"months_back": 3}, format="json").json()["sync_run"]
    response = client.post("/api/receipts/sync", {"months_back": 3}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and body["sync_run"]["id"] == first["id"] and "already running" in body["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from_date": "2024-13-01"}, "from_date"),
        ({"from_date": "2024-02-01", "to_date": "2024-01-01"}, "from_date"),
        ({"from_date": (date.today() + timedelta(days=3)).isoformat()}, "from_date"),
        ({"from_date": "2024-01-01", "to_date": (date.today() + timedelta(days=3)).isoformat()}, "to_date"),
        ({"months_back": 0}, "months_back"),
        ({"months_back": 121}, "months_back"),
        ({"months_back": 6, "from_date": "2024-01-01"}, "months_back"),
        ({"mode": "everything"}, "mode"),
        ({"max_seconds_per_run": 5}, "max_seconds_per_run"),
        ({"max_seconds_per_run": 3601}, "max_seconds_per_run"),
        ({"monthsback": 3}, "monthsback"),
    ],
)
def test_bad_input_is_400_naming_the_field(owner, no_enqueue, body, field) -> None:
    client, _, _ = owner
    response = client.post("/api/receipts/sync", body, format="json")
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert field in response.json()["errors"]
    assert not SyncRun.objects.exists()


def test_an_account_of_another_business_is_400(owner, no_enqueue) -> None:
    client, _, _ = owner
    stranger = GmailAccountFactory(email="stranger@example.com")
    response = client.post("/api/receipts/sync", {"account_id": stranger.pk}, format="json")
    assert response.status_code == 400 and "account_id" in response.json()["errors"]


def test_other_businesses_runs_and_receipts_are_404(owner, no_enqueue) -> None:
    client, _, _ = owner
    foreign_run = SyncRunFactory(status=SyncRun.Status.PAUSED)
    foreign_receipt = ReceiptFactory()
    attachment = ReceiptAttachment.objects.create(receipt=foreign_receipt, filename="a.pdf", content_type="application/pdf",
                                                  size=4, sha256="0" * 64)
    assert client.get(f"/api/receipts/sync/status?run_id={foreign_run.pk}").status_code == 404
    assert client.post(f"/api/receipts/sync/{foreign_run.pk}/cancel").status_code == 404
    assert client.post(f"/api/receipts/sync/{foreign_run.pk}/resume").status_code == 404
    assert client.get(f"/api/receipts/{foreign_receipt.pk}").status_code == 404
    assert client.get(f"/api/receipts/{foreign_receipt.pk}/attachments/{attachment.pk}").status_code == 404
    assert client.get("/api/receipts/sync/runs").json()["count"] == 0
    assert client.get("/api/receipts/").json()["count"] == 0
    foreign_run.refresh_from_db()
    assert foreign_run.status == SyncRun.Status.PAUSED


def test_seed_example_short_range_sync_completes_with_the_seed_shape(
    owner, emulator, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client, _, _ = owner
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/receipts/sync", {"from_date": "2025-03-01", "to_date": "2025-03-31",
                                                      "mode": "full_backfill", "run_to_completion": True}, format="json")
    assert response.status_code == 202
    status = client.get("/api/receipts/sync/status").json()
    run = status["sync_run"]
    assert status["success"] is True and STATUS_KEYS <= set(run)
    assert run["status"] == "completed"
    # The seed's four keys, and beside them receipts stored before this run and receipts found so far.
    assert set(run["progress"]) == {"messages_scanned", "saved_receipts", "skipped_count", "errors_count",
                                    "already_stored", "receipts_found"}
    assert run["config"] == {"from_date": "2025-03-01", "to_date": "2025-03-31", "months_back": None,
                             "run_to_completion": True, "max_seconds_per_run": None}
    assert set(run["checkpoint"]) == {"has_next", "last_page_token", "current_month", "phase", "byte_offset", "file_size"}
    assert run["checkpoint"]["has_next"] is False and run["checkpoint"]["current_month"] == "2025-03"
    progress = run["progress"]
    assert progress["messages_scanned"] == (progress["saved_receipts"] + progress["skipped_count"] + progress["errors_count"]
                                            + progress["already_stored"]) > 0
    assert progress["receipts_found"] == progress["saved_receipts"] + progress["already_stored"]
    receipts = client.get("/api/receipts/?page_size=500").json()
    assert receipts["count"] == progress["saved_receipts"]


def test_seed_example_36_month_backfill_resolves_its_dates(owner, no_enqueue) -> None:
    client, _, _ = owner
    response = client.post("/api/receipts/sync", {"months_back": 36, "mode": "full_backfill",
                                                  "run_to_completion": True}, format="json")
    config = response.json()["sync_run"]["config"]
    assert response.status_code == 202
    today = timezone.localdate()
    assert config["months_back"] == 36 and config["to_date"] == today.isoformat()
    assert date.fromisoformat(config["from_date"]) == date(today.year - 3, today.month, today.day) + timedelta(days=1)


def test_seed_example_paused_run_status(owner) -> None:
    client, _, account = owner
    run = SyncRunFactory(account=account, status=SyncRun.Status.PAUSED, months_back=36, from_date=date(2023, 12, 1),
                         to_date=date(2026, 11, 30), max_seconds_per_run=120, messages_scanned=1500,
                         saved_receipts=45, skipped_count=1420, errors_count=35, last_page_token="CAIQ123",
                         current_month="2024-06", estimated_total=3000, started_at=timezone.now())
    body = client.get(f"/api/receipts/sync/status?run_id={run.pk}").json()
    assert body["sync_run"]["status"] == "paused"
    assert body["sync_run"]["progress"] == {"messages_scanned": 1500, "saved_receipts": 45, "skipped_count": 1420,
                                            "errors_count": 35, "already_stored": 0, "receipts_found": 45}
    assert body["sync_run"]["checkpoint"] == {"has_next": True, "last_page_token": "CAIQ123", "current_month": "2024-06",
                                              "phase": None, "byte_offset": None, "file_size": None}
    assert body["sync_run"]["progress_percentage"] == 50.0


def test_cancel_and_resume(owner, no_enqueue) -> None:
    client, _, account = owner
    run = SyncRunFactory(account=account, status=SyncRun.Status.PAUSED)
    response = client.post(f"/api/receipts/sync/{run.pk}/cancel")
    assert response.status_code == 200 and response.json()["sync_run"]["status"] == "cancelled"
    response = client.post(f"/api/receipts/sync/{run.pk}/resume")
    assert response.status_code == 202 and response.json()["sync_run"]["status"] == "running"
    done = SyncRunFactory(account=account, status=SyncRun.Status.COMPLETED, finished_at=timezone.now())
    assert client.post(f"/api/receipts/sync/{done.pk}/resume").status_code == 409
    assert client.post(f"/api/receipts/sync/{done.pk}/cancel").status_code == 409


def test_runs_list_is_paginated_newest_first(owner) -> None:
    client, _, account = owner
    older = SyncRunFactory(account=account, status=SyncRun.Status.FAILED, finished_at=timezone.now(),
                           created_at=timezone.now() - timedelta(days=1))
    newer = SyncRunFactory(account=account, status=SyncRun.Status.PAUSED)
    body = client.get("/api/receipts/sync/runs").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [r["id"] for r in body["results"]] == [newer.pk, older.pk]


def test_receipt_filters_and_validation(owner) -> None:
    client, _, account = owner
    ReceiptFactory(account=account, vendor="בזק", amount=Decimal("99.90"), currency="ILS", receipt_date=date(2024, 1, 5))
    ReceiptFactory(account=account, vendor="Zoom", amount=Decimal("14.99"), currency="USD", receipt_date=date(2024, 2, 5))
    assert client.get("/api/receipts/?currency=ils").json()["count"] == 1
    assert client.get("/api/receipts/?min_amount=50").json()["results"][0]["vendor"] == "בזק"
    assert client.get("/api/receipts/?from_date=2024-02-01").json()["results"][0]["vendor"] == "Zoom"
    assert client.get("/api/receipts/?q=zoo").json()["count"] == 1
    assert client.get("/api/receipts/?ordering=amount").json()["results"][0]["amount"] == "14.99"
    bad = client.get("/api/receipts/?min_amount=lots")
    assert bad.status_code == 400 and "min_amount" in bad.json()["errors"]
    assert "page_size" in client.get("/api/receipts/?page_size=1").json()["next"]


def test_csv_export_has_a_bom_and_hebrew(owner) -> None:
    client, _, account = owner
    ReceiptFactory(account=account, vendor="בזק", amount=Decimal("99.90"), currency="ILS", subject="=HYPERLINK(1)")
    response = client.get("/api/receipts/export?format=csv")
    content = b"".join(response.streaming_content).decode("utf-8")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert content.startswith("\ufeffid,receipt_date,vendor")
    assert "בזק" in content and "99.90" in content
    assert "'=HYPERLINK(1)" in content


def test_attachment_download_and_zip_export(owner) -> None:
    client, _, account = owner
    receipt = ReceiptFactory(account=account)
    attachment = ReceiptAttachment(receipt=receipt, filename="חשבונית 7.pdf", content_type="application/pdf",
                                   size=9, sha256="a" * 64)
    attachment.file.save("x", ContentFile(b"%PDF-1.4\n"), save=True)
    response = client.get(f"/api/receipts/{receipt.pk}/attachments/{attachment.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''%D7%97" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n"
    detail = client.get(f"/api/receipts/{receipt.pk}").json()
    assert detail["attachments"] == [{"id": attachment.pk, "filename": "חשבונית 7.pdf", "content_type": "application/pdf",
                                      "size": 9, "sha256": "a" * 64}]
    archive = client.get("/api/receipts/export?format=zip")
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert len(names) == 1 and names[0].endswith("חשבונית 7.pdf")


def test_openapi_schema_and_docs_are_served(owner) -> None:
    client, _, _ = owner
    schema = client.get("/api/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"] if schema["Content-Type"].startswith("application/vnd.oai.openapi+json") else None
    assert paths is not None and "/api/receipts/sync" in paths and "/api/receipts/sync/status" in paths
    assert client.get("/api/docs/").status_code == 200


def test_a_running_run_whose_worker_stopped_beating_can_be_resumed(owner, no_enqueue, settings) -> None:
    """GIVEN a run left `running` by a worker that died (its heartbeat older than
    SYNC_STALE_AFTER_SECONDS) WHEN it is resumed THEN its next slice is sent (the slice's claim
    takes it over); a running run with a live heartbeat still answers 409."""
    client, _, account = owner
    settings.SYNC_STALE_AFTER_SECONDS = 60
    run = SyncRunFactory(account=account, status=SyncRun.Status.RUNNING, worker_id="dead-worker",
                         last_heartbeat_at=timezone.now() - timedelta(seconds=120))
    response = client.post(f"/api/receipts/sync/{run.pk}/resume")
    assert response.status_code == 202, response.json()
    no_enqueue.assert_called_once_with(run.pk)
    SyncRun.objects.filter(pk=run.pk).update(last_heartbeat_at=timezone.now())
    response = client.post(f"/api/receipts/sync/{run.pk}/resume")
    assert response.status_code == 409 and "stopped beating" in response.json()["error"]
