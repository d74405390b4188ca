"""The web pages and the OAuth flow, without a browser."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from gmail_sync.accounts import api_user_create
from gmail_sync.models import Business, GmailAccount
from tests.factories import GmailAccountFactory, ReceiptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in() -> tuple[Client, Business]:
    api_user_create(username="dana", business_name="Bakery", password="pw-Strong-123")
    client = Client()
    assert client.login(username="dana", password="pw-Strong-123")
    return client, Business.objects.get(name="Bakery")


@pytest.mark.parametrize("url", ["/", "/receipts/", "/oauth/connect", "/oauth/callback"])
def test_pages_need_sign_in(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_receipts_page_filters_totals_and_right_to_left_names(signed_in) -> None:
    client, business = signed_in
    account = GmailAccountFactory(business=business)
    ReceiptFactory(account=account, vendor="בזק", amount=Decimal("99.90"), currency="ILS")
    ReceiptFactory(account=account, vendor="Zoom", amount=Decimal("15.99"), currency="USD")
    ReceiptFactory(vendor="Someone else's", amount=Decimal("1.00"), currency="EUR")
    body = client.get("/receipts/").content.decode()
    assert "בזק" in body and "Zoom" in body and "Someone else" not in body
    assert 'dir="auto">בזק' in body
    assert "ILS 99.90 (1)" in body and "USD 15.99 (1)" in body
    filtered = client.get("/receipts/?currency=USD").content.decode()
    assert "Zoom" in filtered and "בזק" not in filtered
    bad = client.get("/receipts/?min_amount=lots").content.decode()
    assert "min_amount" in bad


def test_oauth_connect_needs_a_configured_client(signed_in, settings) -> None:
    client, _ = signed_in
    settings.GOOGLE_CLIENT_ID = ""
    response = client.get("/oauth/connect", follow=True)
    assert "GOOGLE_CLIENT_ID" in response.content.decode()


def test_oauth_callback_refuses_a_state_not_from_this_session(signed_in, settings, emulator) -> None:
    client, business = signed_in
    settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET = "id", "secret"
    settings.GOOGLE_AUTH_URI = emulator.url + "o/oauth2/auth"
    start = client.get("/oauth/connect")
    assert start.status_code == 302 and start["Location"].startswith(emulator.url + "o/oauth2/auth")
    assert "access_type=offline" in start["Location"] and "prompt=consent" in start["Location"]
    response = client.get("/oauth/callback?code=4/emu-x&state=forged", follow=True)
    assert "connect again" in response.content.decode()
    assert not GmailAccount.objects.filter(business=business).exists()


def test_disconnect_revokes_and_deletes_the_token(signed_in, settings, emulator) -> None:
    client, business = signed_in
    settings.GOOGLE_REVOKE_URI = emulator.url + "revoke"
    token = emulator.issue_refresh_token()
    account = GmailAccountFactory(business=business, refresh_token=token)
    response = client.post(f"/oauth/{account.pk}/disconnect", follow=True)
    assert "Google revoked the access" in response.content.decode()
    account.refresh_from_db()
    assert account.status == GmailAccount.Status.DISCONNECTED and account.refresh_token_encrypted == ""
    assert emulator.revoked == [token]
    other = GmailAccountFactory()
    assert client.post(f"/oauth/{other.pk}/disconnect").status_code == 404
