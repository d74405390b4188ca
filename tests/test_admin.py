from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from gmail_sync.models import SyncRun
from tests.factories import GmailAccountFactory, SyncRunFactory

pytestmark = pytest.mark.django_db




def test_run_list_shows_counters_and_filters(admin_client) -> None:
    SyncRunFactory(status=SyncRun.Status.PAUSED)
    response = admin_client.get(reverse("admin:gmail_sync_syncrun_changelist") + "?status__exact=paused")
    assert response.status_code == 200
    body = response.content.decode().lower()
    assert "heartbeat age" in body and "messages/s" in body
    assert "paused" in body


def test_account_page_never_shows_the_token(admin_client) -> None:
    account = GmailAccountFactory(refresh_token="1//ADMIN-SECRET")
    response = admin_client.get(reverse("admin:gmail_sync_gmailaccount_change", args=[account.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "ADMIN-SECRET" not in body
    assert account.refresh_token_encrypted not in body


def test_mark_completed_closes_a_run_stuck_in_paused(admin_client) -> None:
    stuck = SyncRunFactory(status=SyncRun.Status.PAUSED)
    finished = SyncRunFactory(status=SyncRun.Status.FAILED, finished_at=timezone.now())
    admin_client.post(
        reverse("admin:gmail_sync_syncrun_changelist"),
        {"action": "mark_runs_completed", "_selected_action": [stuck.pk, finished.pk]},
    )
    stuck.refresh_from_db()
    finished.refresh_from_db()
    assert stuck.status == SyncRun.Status.COMPLETED and stuck.finished_at is not None
    assert finished.status == SyncRun.Status.FAILED


def test_cancel_action_cancels_a_paused_run_and_flags_a_running_one(admin_client) -> None:
    paused = SyncRunFactory(status=SyncRun.Status.PAUSED)
    running = SyncRunFactory(status=SyncRun.Status.RUNNING)
    response = admin_client.post(
        reverse("admin:gmail_sync_syncrun_changelist"),
        {"action": "cancel_runs", "_selected_action": [paused.pk, running.pk]}, follow=True,
    )
    paused.refresh_from_db()
    running.refresh_from_db()
    assert paused.status == SyncRun.Status.CANCELLED
    assert running.status == SyncRun.Status.RUNNING and running.cancel_requested
    said = [str(message) for message in response.context["messages"]]
    assert "Cancelled: 1 run(s)." in said  # the paused one; the running one is not said to be cancelled
    assert "Cancel requested (the worker stops the run at its next commit): 1 run(s)." in said


def test_mark_failed_keeps_the_checkpoint(admin_client) -> None:
    run = SyncRunFactory(status=SyncRun.Status.PAUSED, last_page_token="tok-7", current_month="2024-03")
    admin_client.post(
        reverse("admin:gmail_sync_syncrun_changelist"),
        {"action": "mark_runs_failed", "_selected_action": [run.pk]},
    )
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert (run.last_page_token, run.current_month) == ("tok-7", "2024-03")
    assert "Marked failed by" in run.error_message


def test_counters_are_read_only(admin_client) -> None:
    run = SyncRunFactory()
    response = admin_client.get(reverse("admin:gmail_sync_syncrun_change", args=[run.pk]))
    assert response.status_code == 200
    assert 'name="messages_scanned"' not in response.content.decode()


def test_resume_action_reopens_a_failed_run_and_enqueues_it(admin_client) -> None:
    from unittest import mock

    run = SyncRunFactory(status=SyncRun.Status.FAILED, finished_at=timezone.now(), error_message="boom",
                         last_page_token="tok-3")
    with mock.patch("gmail_sync.tasks.enqueue_slice") as enqueue:
        admin_client.post(
            reverse("admin:gmail_sync_syncrun_changelist"),
            {"action": "resume_runs", "_selected_action": [run.pk]},
        )
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and run.error_message == "" and run.finished_at is None
    assert run.last_page_token == "tok-3"
    enqueue.assert_called_once_with(run.pk)


def test_receipt_page_links_attachments_through_the_api(admin_client) -> None:
    from receipts.models import ReceiptAttachment
    from tests.factories import ReceiptFactory

    receipt = ReceiptFactory()
    attachment = ReceiptAttachment.objects.create(receipt=receipt, filename="r.pdf", content_type="application/pdf",
                                                  size=3, sha256="c" * 64, file="attachments/cc/x")
    body = admin_client.get(reverse("admin:receipts_receipt_change", args=[receipt.pk])).content.decode()
    assert f"/api/receipts/{receipt.pk}/attachments/{attachment.pk}" in body


def test_quarantined_messages_are_listed_with_their_failures_and_reason(admin_client) -> None:
    from gmail_sync import quarantine

    account = GmailAccountFactory()
    for _ in range(2):
        quarantine.record_failure(account=account, run=None, message_id="18c0ffee", reason="could not be read: timeout")
    assert quarantine.quarantined(account=account, ids=["18c0ffee", "other"]) == {"18c0ffee"}
    response = admin_client.get(reverse("admin:gmail_sync_quarantinedmessage_changelist"))
    body = response.content.decode()
    assert response.status_code == 200 and "18c0ffee" in body and "timeout" in body
