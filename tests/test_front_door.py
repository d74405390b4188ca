"""The front door made safe: no file without a tenancy check, bounded input, JSON errors, keys."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.test import Client
from django.urls import clear_url_caches
from rest_framework.test import APIClient

from gmail_sync import crypto
from gmail_sync.accounts import api_user_create
from gmail_sync.models import Business, GmailAccount, SyncRun
from receipts.models import ReceiptAttachment
from tests.factories import GmailAccountFactory, ReceiptFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def api() -> tuple[APIClient, Business]:
    _, token = api_user_create(username="owner", business_name="Bakery")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, Business.objects.get(name="Bakery")


@pytest.fixture
def urls_as_configured(settings) -> Iterator[None]:
    """config.urls built again under the test's settings (it reads DEBUG and EMAIL_HOST when imported)."""
    import config.urls

    def rebuild() -> None:
        importlib.reload(config.urls)
        clear_url_caches()

    yield rebuild
    settings.DEBUG, settings.EMAIL_HOST = False, ""
    rebuild()


def test_no_url_serves_the_media_folder_even_in_debug(settings, urls_as_configured, api) -> None:
    """GIVEN DEBUG and a stored attachment WHEN its file path, or a file beside the media folder,
    is asked for without the API THEN 404: files go out only through the API, after its tenancy check."""
    client, business = api
    settings.DEBUG = True
    urls_as_configured()
    receipt = ReceiptFactory(account=GmailAccountFactory(business=business))
    attachment = ReceiptAttachment(receipt=receipt, filename="i.pdf", content_type="application/pdf", size=8,
                                   sha256="ab" * 32)
    attachment.file.save("ignored", ContentFile(b"%PDF-1.4"), save=True)
    Path(settings.MEDIA_ROOT, ".env").write_text("SECRET_KEY=s")
    for path in (f"/media/{attachment.file.name}", "/media/.env", f"/{attachment.file.name}"):
        assert Client().get(path).status_code == 404, path
        assert client.get(path).status_code == 404, path
    assert client.get(f"/api/receipts/{receipt.pk}/attachments/{attachment.pk}").status_code == 200


def test_every_text_cell_of_the_csv_is_formula_safe(api) -> None:
    """A sender chooses its own address: =cmd|... in sender_email goes out as text, not a formula."""
    client, business = api
    ReceiptFactory(account=GmailAccountFactory(business=business), sender_email="=cmd|'/ccalc'!a0@csv.example",
                   vendor="+SUM(A1)", subject="@x", invoice_number="-1", sender_name="\tname")
    body = b"".join(client.get("/api/receipts/export?format=csv").streaming_content).decode("utf-8-sig")
    row = body.splitlines()[1]
    assert "'=cmd|" in row and "'+SUM(A1)" in row and "'@x" in row and "'-1" in row and "'\tname" in row
    assert ",=" not in row and ",+" not in row and ",@" not in row


@pytest.mark.parametrize("url", ["/api/receipts/?min_amount=1e999999", "/api/receipts/?max_amount=NaN",
                                 "/api/receipts/export?format=csv&min_amount=1e999999"])
def test_a_number_no_receipt_can_hold_is_a_400_naming_the_field(api, url: str) -> None:
    client, _ = api
    response = client.get(url)
    assert response.status_code == 400
    field = "min_amount" if "min_amount" in url else "max_amount"
    assert response.json()["success"] is False and field in response.json()["errors"]


def test_the_receipts_page_says_what_is_wrong_with_a_number(api) -> None:
    user, _ = api_user_create(username="dana", business_name="Bakery", password="pw-Strong-123")
    page = Client()
    page.force_login(user)
    response = page.get("/receipts/?min_amount=1e999999")
    assert response.status_code == 400 and "min_amount" in response.content.decode()


@pytest.mark.parametrize("body", [b"{not json", b"[" * 100_000 + b"]" * 100_000])
def test_a_malformed_or_too_deep_body_is_a_400_in_the_documented_shape(api, body: bytes) -> None:
    client, _ = api
    response = client.post("/api/receipts/sync", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["success"] is False and "body" in response.json()["errors"]


def test_a_sync_before_gmail_existed_is_a_400(api) -> None:
    client, business = api
    GmailAccountFactory(business=business, refresh_token="demo-refresh-token")
    response = client.post("/api/receipts/sync", {"from_date": "0001-01-01", "to_date": "2001-01-01",
                                                  "mode": "full_backfill"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"from_date", "to_date"}
    with pytest.raises(CommandError, match="before 2004-01-01"):
        call_command("sync_receipts", "--from-date", "0001-01-01", stdout=StringIO())


def test_an_unexpected_error_in_the_api_is_a_json_500_that_quotes_nothing(api) -> None:
    client, business = api
    client.raise_request_exception = False
    with mock.patch("gmail_sync.api.run_status", side_effect=RuntimeError("secret row contents")):
        SyncRun.objects.create(account=GmailAccountFactory(business=business), mode="full_backfill")
        response = client.get("/api/receipts/sync/status")
    assert response.status_code == 500
    assert response.json() == {"success": False, "error": "Internal error; the server's log has the details."}


def test_a_start_that_collides_with_a_run_that_ended_meanwhile_starts(api) -> None:
    """GIVEN a start whose insert collides with an active run that has ended by the time the
    collision is looked at WHEN the API starts a sync THEN it tries again and answers 202, not 500."""
    client, business = api
    GmailAccountFactory(business=business, refresh_token="demo-refresh-token")
    real = SyncRun.objects.create
    calls = {"n": 0}

    def create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("uniq_active_sync_run_per_account")
        return real(**kwargs)

    with mock.patch.object(SyncRun.objects, "create", side_effect=create), \
            mock.patch("gmail_sync.tasks.enqueue_slice"):
        response = client.post("/api/receipts/sync", {"months_back": 1, "mode": "full_backfill"}, format="json")
    assert response.status_code == 202 and calls["n"] == 2


def test_password_reset_is_offered_only_where_mail_can_be_sent(settings, urls_as_configured) -> None:
    settings.EMAIL_HOST = ""
    urls_as_configured()
    assert Client().get("/accounts/password_reset/").status_code == 404
    assert Client().get("/accounts/login/").status_code == 200
    settings.EMAIL_HOST = "smtp.example.com"
    urls_as_configured()
    assert Client().get("/accounts/password_reset/").status_code == 200


def test_a_blank_secret_key_is_refused_outside_debug() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "   ", "DEBUG": "false",
                "ENCRYPTION_KEY": Fernet.generate_key().decode()})
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_rotate_encryption_key_re_encrypts_every_token_under_the_first_key(settings) -> None:
    """GIVEN tokens written under the old key WHEN the new key is put first and the command runs
    THEN every token reads with the new key alone; a token no key reads is named and left alone."""
    old, new, lost = (Fernet.generate_key().decode() for _ in range(3))
    settings.ENCRYPTION_KEYS = [old]
    accounts = [GmailAccountFactory(refresh_token=f"token-{n}") for n in range(3)]
    settings.ENCRYPTION_KEYS = [lost]
    orphan = GmailAccountFactory(email="orphan@example.com", refresh_token="token-lost")
    settings.ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    with pytest.raises(CommandError, match="orphan@example.com"):
        call_command("rotate_encryption_key", stdout=out)
    assert "Re-encrypted 3 token(s)" in out.getvalue()
    settings.ENCRYPTION_KEYS = [new]
    assert [GmailAccount.objects.get(pk=a.pk).refresh_token for a in accounts] == ["token-0", "token-1", "token-2"]
    with pytest.raises(crypto.DecryptionError):
        _ = GmailAccount.objects.get(pk=orphan.pk).refresh_token


def test_disconnecting_an_account_whose_token_cannot_be_read_says_so(settings) -> None:
    user, _ = api_user_create(username="dana", business_name="Bakery", password="pw-Strong-123")
    page = Client()
    page.force_login(user)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    account = GmailAccountFactory(business=Business.objects.get(name="Bakery"), refresh_token="t")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the key it was written with is gone
    text = page.post(f"/oauth/{account.pk}/disconnect", follow=True).content.decode()
    assert "could not be decrypted" in text and "Google revoked" not in text
    account.refresh_from_db()
    assert account.status == GmailAccount.Status.DISCONNECTED and account.refresh_token_encrypted == ""


def test_api_tokens_are_stored_hashed_shown_once_and_expire(settings) -> None:
    """GIVEN a token from create_api_user WHEN the database is read THEN only a digest of it is
    there; the token works until its expiry, then answers 401; a fresh token revokes the old one."""
    from datetime import timedelta

    from django.utils import timezone
    from knox.models import AuthToken

    out = StringIO()
    call_command("create_api_user", "erin", "--business", "Bakery", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    stored = AuthToken.objects.get(user__username="erin")
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    assert stored.expiry > timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS - 1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/receipts/").status_code == 200
    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/receipts/").status_code == 401
    call_command("create_api_user", "erin", "--business", "Bakery", stdout=StringIO())
    assert AuthToken.objects.filter(user__username="erin").count() == 1


def test_sync_starts_and_requests_are_throttled_with_429_in_the_documented_shape(api, settings, monkeypatch) -> None:
    from django.core.cache.backends.locmem import LocMemCache

    from config.api import SyncStartThrottle, UserThrottle

    for throttle in (SyncStartThrottle, UserThrottle):
        monkeypatch.setattr(throttle, "cache", LocMemCache("throttle-test", {}))
    settings.SYNC_START_THROTTLE_RATE, settings.API_THROTTLE_RATE = "2/hour", "5/min"
    client, business = api
    GmailAccountFactory(business=business, refresh_token="demo-refresh-token")
    with mock.patch("gmail_sync.tasks.enqueue_slice"):
        answers = [client.post("/api/receipts/sync", {"months_back": 1, "mode": "full_backfill"}, format="json")
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 409, 429]
    assert answers[2].json()["success"] is False and "Too many requests" in answers[2].json()["error"]
    assert int(answers[2]["Retry-After"]) > 0
    codes = [client.get("/api/receipts/").status_code for _ in range(3)]  # 3 starts + 2 lists = 5, then 429
    assert codes == [200, 200, 429]


def test_sign_in_is_locked_after_repeated_wrong_passwords(settings) -> None:
    """GIVEN AXES_FAILURE_LIMIT wrong passwords for a user from one address WHEN the right one
    comes next THEN it is refused (429) until the cool-off; another user is not affected."""
    settings.AXES_FAILURE_LIMIT = 3
    api_user_create(username="dana", business_name="Bakery", password="pw-Strong-123")
    api_user_create(username="eli", business_name="Bakery", password="pw-Strong-456")
    page = Client()
    codes = [page.post("/accounts/login/", {"username": "dana", "password": "wrong"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the form again, then locked at the limit
    locked = page.post("/accounts/login/", {"username": "dana", "password": "pw-Strong-123"})
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in page.session
    other = page.post("/accounts/login/", {"username": "eli", "password": "pw-Strong-456"})
    assert other.status_code == 302 and "_auth_user_id" in page.session


def test_a_run_no_worker_has_taken_says_so(api) -> None:
    """GIVEN REDIS_URL and no worker WHEN a started run has not been claimed for a while THEN the
    status (and so the dashboard) says it waits for a worker; a run a worker holds does not."""
    from datetime import timedelta

    from django.utils import timezone

    client, business = api
    long_ago = timezone.now() - timedelta(seconds=60)
    waiting = SyncRun.objects.create(account=GmailAccountFactory(business=business), mode="full_backfill")
    held = SyncRun.objects.create(account=GmailAccountFactory(business=business), mode="full_backfill",
                                  worker_id="w1", last_heartbeat_at=long_ago)
    SyncRun.objects.filter(pk__in=[waiting.pk, held.pk]).update(created_at=long_ago, updated_at=long_ago)
    fresh = SyncRun.objects.create(account=GmailAccountFactory(business=business), mode="full_backfill")

    def flag(run: SyncRun) -> bool:
        return client.get(f"/api/receipts/sync/status?run_id={run.pk}").json()["sync_run"]["waiting_for_worker"]

    assert (flag(waiting), flag(held), flag(fresh)) == (True, False, False)


def test_the_rate_is_over_working_time_and_a_paused_run_has_no_eta(api) -> None:
    """GIVEN a run that worked 100 s for 500 messages, then sat paused for an hour WHEN its status
    is read THEN its rate is 5 messages a second (not 500 over the hour), and it has no ETA."""
    from datetime import timedelta

    from django.utils import timezone

    client, business = api
    an_hour_ago = timezone.now() - timedelta(hours=1)
    run = SyncRun.objects.create(account=GmailAccountFactory(business=business), mode="full_backfill",
                                 status="paused", messages_scanned=500, skipped_count=500, estimated_total=1000,
                                 running_seconds=100.0, started_at=an_hour_ago - timedelta(seconds=100),
                                 last_heartbeat_at=an_hour_ago)
    status = client.get(f"/api/receipts/sync/status?run_id={run.pk}").json()["sync_run"]
    assert status["messages_per_second"] == 5.0 and status["eta_seconds"] is None
    SyncRun.objects.filter(pk=run.pk).update(status="running", worker_id="w1", last_heartbeat_at=timezone.now())
    status = client.get(f"/api/receipts/sync/status?run_id={run.pk}").json()["sync_run"]
    assert 4.9 <= status["messages_per_second"] <= 5.0 and 95 <= status["eta_seconds"] <= 101


def test_a_run_closed_by_an_operator_does_not_show_as_read_to_the_end(api) -> None:
    from gmail_sync import runs

    client, business = api
    run = SyncRun.objects.create(account=GmailAccountFactory(business=business), mode="full_backfill",
                                 status="paused", messages_scanned=218, skipped_count=218, estimated_total=944)
    runs.mark_completed(run=run)
    status = client.get(f"/api/receipts/sync/status?run_id={run.pk}").json()["sync_run"]
    assert status["status"] == "completed" and status["progress_percentage"] == 23.1
    assert "Closed by an operator at 218 messages" in status["error_message"]
