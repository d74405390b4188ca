"""What several test modules do the same way: an API client signed in for a business, and a
backfill of the sample mailbox run to its end in the test's own process."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from gmail_sync import engine
from gmail_sync.accounts import api_user_create
from gmail_sync.models import Business, GmailAccount, SyncRun
from gmail_sync.services import sync_start
from tests.conftest import SAMPLE_END


def api_client(username: str = "keeper", business: str = "Books") -> tuple[APIClient, Business]:
    """A client with a fresh API token of ``username``, a member of ``business`` (both made if new)."""
    _, token = api_user_create(username=username, business_name=business)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, Business.objects.get(name=business)


def backfill(account: GmailAccount) -> SyncRun:
    """The sample mailbox's year backfilled to completion in this process."""
    run = sync_start(account=account, mode="full_backfill", from_date=SAMPLE_END - timedelta(days=400),
                     to_date=timezone.localdate(), run_to_completion=True, enqueue=False)
    while engine.run_slice(run.pk).outcome == "paused":
        pass
    run.refresh_from_db()
    return run
