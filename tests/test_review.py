"""A bookkeeper's review: corrections, approval and rejection, kept through every later sync."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gmail_sync import engine
from gmail_sync.models import SyncRun
from gmail_sync.services import cancel_run, resume_run, sync_start
from receipts.models import ExaminedMessage, Receipt
from receipts.parsing import parse_email
from receipts.services import message_key
from tests.conftest import SAMPLE_END
from tests.factories import GmailAccountFactory, ReceiptFactory
from tests.helpers import api_client, backfill


@pytest.mark.django_db
def test_a_correction_keeps_the_extracted_value_beside_it_and_bad_input_is_named() -> None:
    client, business = api_client()
    receipt = ReceiptFactory(account=GmailAccountFactory(business=business), amount=Decimal("12.00"), vendor="Acm")
    response = client.patch(f"/api/receipts/{receipt.pk}", {"amount": "120.00", "vendor": "Acme Ltd",
                                                            "currency": "ils"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["amount"], body["vendor"], body["currency"]) == ("120.00", "Acme Ltd", "ILS")
    assert set(body["edited_fields"]) == {"amount", "vendor", "currency"}
    assert body["original_values"] == {"amount": "12.00", "vendor": "Acm", "currency": "USD"}
    again = client.patch(f"/api/receipts/{receipt.pk}", {"amount": "121.00"}, format="json").json()
    assert again["original_values"]["amount"] == "12.00", "the extraction's value, not the first correction"

    for payload, field in (({"currency": "shekel"}, "currency"), ({"amount": "1e999"}, "amount"),
                           ({"receipt_date": "1900-01-01"}, "receipt_date"), ({"subject": "x"}, "subject"),
                           ({}, "non_field_errors")):
        bad = client.patch(f"/api/receipts/{receipt.pk}", payload, format="json")
        assert bad.status_code == 400 and field in bad.json()["errors"], (payload, bad.json())
    other, _ = api_client("stranger", "Elsewhere")
    assert other.patch(f"/api/receipts/{receipt.pk}", {"amount": "1.00"}, format="json").status_code == 404
    assert other.post(f"/api/receipts/{receipt.pk}/reject").status_code == 404
    receipt.refresh_from_db()
    assert receipt.amount == Decimal("121.00") and receipt.review_status == "pending"


@pytest.mark.django_db
def test_approved_and_rejected_receipts_and_what_the_list_totals_and_exports_leave_out() -> None:
    client, business = api_client()
    account = GmailAccountFactory(business=business)
    keep, drop = ReceiptFactory(account=account, amount=Decimal("10.00")), ReceiptFactory(account=account, amount=Decimal("99.00"))
    assert client.post(f"/api/receipts/{keep.pk}/approve").json()["review_status"] == "approved"
    assert client.post(f"/api/receipts/{drop.pk}/reject").json()["review_status"] == "rejected"
    listed = {r["id"] for r in client.get("/api/receipts/").json()["results"]}
    assert listed == {keep.pk}, "a rejected receipt is not a receipt"
    assert {r["id"] for r in client.get("/api/receipts/?review_status=rejected").json()["results"]} == {drop.pk}
    assert len(client.get("/api/receipts/?review_status=all").json()["results"]) == 2
    assert "review_status" in client.get("/api/receipts/?review_status=maybe").json()["errors"]
    csv = b"".join(client.get("/api/receipts/export?format=csv").streaming_content).decode()
    assert "99.00" not in csv and "10.00" in csv


@pytest.mark.django_db(transaction=True)
def test_edits_and_rejections_survive_a_resync_and_a_resume(emulator, settings) -> None:
    """GIVEN a synced mailbox, one receipt corrected and one rejected
    WHEN the range is synced again (sliced, with a resume midway)
    THEN the correction stands, the rejected receipt stays rejected and is not created again."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    account = GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")

    def sync() -> SyncRun:
        """Sliced, the first slice's clock running fast; cancelled when paused, then resumed."""
        run = sync_start(account=account, mode="full_backfill", from_date=SAMPLE_END - timedelta(days=400),
                         to_date=timezone.localdate(), run_to_completion=False, max_seconds_per_run=10, enqueue=False)
        ticks = iter(range(0, 10**6, 3))
        assert engine.run_slice(run.pk, clock=lambda: next(ticks)).outcome == "paused"
        run.refresh_from_db()
        assert cancel_run(run=run).status == SyncRun.Status.CANCELLED
        resume_run(run=run, enqueue=False)
        while engine.run_slice(run.pk).outcome == "paused":
            pass
        run.refresh_from_db()
        assert run.status == SyncRun.Status.COMPLETED
        return run

    first = sync()
    corrected, rejected = Receipt.objects.filter(account=account).order_by("id")[:2]
    client, _ = api_client(business=account.business.name)
    assert client.patch(f"/api/receipts/{corrected.pk}", {"amount": "4321.00"}, format="json").status_code == 200
    assert client.post(f"/api/receipts/{rejected.pk}/reject").status_code == 200
    second = sync()
    assert second.saved_receipts == 0 and second.already_stored == first.saved_receipts
    corrected.refresh_from_db()
    rejected.refresh_from_db()
    assert corrected.amount == Decimal("4321.00") and corrected.edited_fields == ["amount"]
    assert rejected.review_status == "rejected"
    assert Receipt.objects.filter(account=account, gmail_message_id=rejected.gmail_message_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_ledger_lists_every_examined_message_with_its_verdict_filtered_and_per_business(emulator, settings) -> None:
    """GIVEN a synced mailbox WHEN the examined messages are asked for THEN every one is there with
    its verdict (as many as the run scanned), skipped ones with their sender, subject, score and
    reasons; filters narrow them, bad ones are named, and another business sees none."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com", refresh_token="demo-refresh-token")
    run = backfill(account)
    everything = client.get("/api/messages/?page_size=500").json()
    assert everything["count"] == run.messages_scanned
    skipped = client.get("/api/messages/?verdict=skipped&page_size=500").json()
    assert skipped["count"] == run.skipped_count
    row = skipped["results"][0]
    assert row["sender_email"] and row["subject"] and row["score"] is not None and row["sync_run"] == run.pk
    sender = row["sender_email"]
    narrowed = client.get(f"/api/messages/?verdict=skipped&sender={sender.upper()}&page_size=500").json()
    assert 0 < narrowed["count"] <= skipped["count"]
    assert all(r["sender_email"] == sender and r["verdict"] == "skipped" for r in narrowed["results"])
    receipts = client.get("/api/messages/?verdict=receipt").json()["count"]
    assert receipts == run.saved_receipts + run.already_stored
    assert "verdict" in client.get("/api/messages/?verdict=maybe").json()["errors"]
    assert "from_date" in client.get("/api/messages/?from_date=yesterday").json()["errors"]
    stranger, _ = api_client("stranger", "Elsewhere")
    assert stranger.get("/api/messages/").json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_skipped_message_marked_as_a_receipt_is_stored_after_one_fetch(emulator, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com", refresh_token="demo-refresh-token")
    run = backfill(account)
    entry = ExaminedMessage.objects.filter(sync_run=run, verdict="skipped").first()
    assert entry is not None
    emulator.reset_counts()
    response = client.post(f"/api/messages/{entry.pk}/mark-receipt")
    assert response.status_code == 201, response.json()
    assert emulator.fetches[entry.gmail_message_id] == 1 and sum(emulator.fetches.values()) == 1
    receipt = Receipt.objects.get(account=account, gmail_message_id=entry.gmail_message_id)
    assert receipt.review_status == "approved" and "marked as a receipt by a person" in receipt.reasons
    assert receipt.sender_email == entry.sender_email
    again = client.post(f"/api/messages/{entry.pk}/mark-receipt")
    assert again.status_code == 200 and again.json()["id"] == receipt.pk
    assert sum(emulator.fetches.values()) == 1, "a stored receipt is not fetched again"
    resync = backfill(account)
    assert resync.saved_receipts == 0 and Receipt.objects.get(pk=receipt.pk).review_status == "approved"

    stranger, _ = api_client("stranger", "Elsewhere")
    assert stranger.post(f"/api/messages/{entry.pk}/mark-receipt").status_code == 404
    from_file = ExaminedMessage.objects.create(account=account, sync_run=run, gmail_message_id="mbox-" + "0" * 40,
                                               verdict="skipped")
    refused = client.post(f"/api/messages/{from_file.pk}/mark-receipt")
    assert refused.status_code == 409 and "mbox file" in refused.json()["error"]
    # The same mail stored under another id (a plain mbox import): marking it finds that receipt.
    other = (ExaminedMessage.objects.filter(sync_run=run, verdict="skipped").exclude(pk=entry.pk)
             .exclude(gmail_message_id__startswith="mbox-").first())
    assert other is not None
    raw = emulator.mailbox.get(other.gmail_message_id).raw
    imported = ReceiptFactory(account=account, gmail_message_id="mbox-" + "1" * 40,
                              message_key=message_key(parse_email(raw)))
    same = client.post(f"/api/messages/{other.pk}/mark-receipt")
    assert same.status_code == 200 and same.json()["id"] == imported.pk
    assert not Receipt.objects.filter(account=account, gmail_message_id=other.gmail_message_id).exists()
