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
    user, _ = api_user_create(username="dana", business_name="Bakery", password="pw-Strong-123")
    client = Client()
    client.force_login(user)  # the sign-in form itself is tested with its lockout (test_front_door.py)
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


def _consent(start_location: str) -> str:
    """Follow the emulator's consent screen to the redirect it answers with (code and state)."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(start_location)
    except urllib.error.HTTPError as redirect:
        return redirect.headers["Location"]
    raise AssertionError("the consent screen did not redirect")


@pytest.mark.parametrize("verifier_kept", [True, False])
def test_the_token_exchange_sends_the_pkce_verifier_of_the_consent_urls_challenge(signed_in, settings, emulator,
                                                                                  verifier_kept: bool) -> None:
    """GIVEN a consent URL with an S256 code_challenge WHEN Google's redirect comes back THEN the
    code is exchanged with its verifier (the emulator, as Google, refuses a code without it), and
    the account is connected; without the verifier kept in the session, no account is."""
    client, business = signed_in
    settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET = "id", "secret"
    settings.GOOGLE_AUTH_URI = emulator.url + "o/oauth2/auth"
    settings.GOOGLE_OAUTH_REDIRECT_URI = "http://testserver/oauth/callback"
    start = client.get("/oauth/connect")
    assert "code_challenge_method=S256" in start["Location"]
    back = _consent(start["Location"])
    if not verifier_kept:
        session = client.session
        session.pop("gmail_oauth_code_verifier")
        session.save()
    response = client.get(back.replace("http://testserver", ""), follow=True)
    connected = GmailAccount.objects.filter(business=business).exists()
    assert connected is verifier_kept, response.content.decode()[:2000]
    assert ("Connected" in response.content.decode()) is verifier_kept


def test_the_emulator_refuses_a_code_exchanged_without_or_with_a_wrong_verifier(emulator) -> None:
    import base64
    import hashlib
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")

    def code() -> str:
        query = urllib.parse.urlencode({"redirect_uri": "http://x/cb", "code_challenge": challenge,
                                        "code_challenge_method": "S256"})
        return urllib.parse.parse_qs(urllib.parse.urlsplit(_consent(emulator.url + "o/oauth2/auth?" + query)).query)["code"][0]

    def exchange(**extra: str) -> tuple[int, dict]:
        body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code(), **extra}).encode()
        try:
            with urllib.request.urlopen(emulator.token_uri, data=body) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as refused:
            return refused.code, json.load(refused)

    assert exchange() == (400, {"error": "invalid_grant", "error_description": "Missing code verifier."})
    assert exchange(code_verifier="w" * 64)[1]["error"] == "invalid_grant"
    status, granted = exchange(code_verifier=verifier)
    assert status == 200 and granted["refresh_token"]
