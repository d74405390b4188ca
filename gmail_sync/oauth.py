"""Connecting a Gmail account with Google's consent screen (google-auth-oauthlib).

The authorization, token and revocation endpoints come from settings, so the bundled emulator
can play Google in tests and demos.
"""
from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from google_auth_oauthlib.flow import Flow

from . import crypto
from .accounts import gmail_account_connect
from .client import GmailClient, revoke_token
from .models import Business, GmailAccount

SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/gmail.readonly"]
SESSION_STATE = "gmail_oauth_state"
SESSION_VERIFIER = "gmail_oauth_code_verifier"  # PKCE: sent with the code, as Google requires


class OAuthError(Exception):
    pass


def _redirect_uri(request: HttpRequest) -> str:
    return settings.GOOGLE_OAUTH_REDIRECT_URI or request.build_absolute_uri(reverse("oauth-callback"))


def _flow(request: HttpRequest, state: str | None = None, code_verifier: str | None = None) -> Flow:
    if not settings.GOOGLE_CLIENT_ID or not settings.GOOGLE_CLIENT_SECRET:
        raise OAuthError("Google sign-in is not configured: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET.")
    if urlsplit(settings.GOOGLE_TOKEN_URI).hostname in {"127.0.0.1", "localhost", "::1"}:
        # A loopback stand-in for Google (the emulator) speaks plain HTTP.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"
    config = {"web": {
        "client_id": settings.GOOGLE_CLIENT_ID,
        "client_secret": settings.GOOGLE_CLIENT_SECRET,
        "auth_uri": settings.GOOGLE_AUTH_URI,
        "token_uri": settings.GOOGLE_TOKEN_URI,
        "redirect_uris": [_redirect_uri(request)],
    }}
    flow = Flow.from_client_config(config, scopes=SCOPES, state=state, code_verifier=code_verifier,
                                   autogenerate_code_verifier=code_verifier is None)
    flow.redirect_uri = _redirect_uri(request)
    return flow


def authorization_url(request: HttpRequest) -> str:
    """Where to send the user; the state is bound to their session against CSRF."""
    state = secrets.token_urlsafe(24)
    request.session[SESSION_STATE] = state
    flow = _flow(request, state)
    url, _ = flow.authorization_url(access_type="offline", prompt="consent", include_granted_scopes="true", state=state)
    # The URL carries the S256 challenge of this verifier; the token exchange must send the verifier.
    request.session[SESSION_VERIFIER] = flow.code_verifier
    return str(url)


def complete(request: HttpRequest, *, business: Business) -> GmailAccount:
    """Handle Google's redirect back: check the state, exchange the code, store the token encrypted."""
    expected = request.session.pop(SESSION_STATE, None)
    verifier = request.session.pop(SESSION_VERIFIER, None)
    if request.GET.get("error"):
        raise OAuthError(f"Google did not grant access: {request.GET['error']}.")
    if not expected or not verifier or request.GET.get("state") != expected:
        raise OAuthError("The sign-in link expired or was not started here; connect again.")
    code = request.GET.get("code")
    if not code:
        raise OAuthError("Google sent no authorization code; connect again.")
    flow = _flow(request, expected, code_verifier=verifier)
    try:
        flow.fetch_token(code=code)
    except Exception as exc:  # oauthlib raises many kinds; none may leak the code or the secret
        raise OAuthError(f"Google refused the authorization code ({type(exc).__name__}); connect again.") from None
    credentials: Any = flow.credentials
    if not credentials.refresh_token:
        raise OAuthError("Google sent no refresh token; remove the app's access in your Google account and connect again.")
    profile = GmailClient(refresh_token=credentials.refresh_token, account_key=f"oauth:{business.pk}").get_profile()
    return gmail_account_connect(business=business, email=profile["emailAddress"], refresh_token=credentials.refresh_token)


def disconnect(account: GmailAccount) -> str:
    """Revoke the token at Google and delete it here. Returns ``"revoked"`` (Google confirmed it,
    or had forgotten the token), ``"unconfirmed"`` (Google did not answer yes) or
    ``"undecryptable"`` (the stored token cannot be read with any ENCRYPTION_KEY, so nothing
    could be sent to Google)."""
    try:
        token = account.refresh_token
    except crypto.DecryptionError:
        outcome = "undecryptable"
    else:
        outcome = "revoked" if not token or revoke_token(token) else "unconfirmed"
    account.refresh_token = ""
    account.status = GmailAccount.Status.DISCONNECTED
    account.status_message = {
        "revoked": "",
        "unconfirmed": "Disconnected here; Google did not confirm the revocation.",
        "undecryptable": "Disconnected here; the stored token could not be decrypted, so Google was not asked to "
                         "revoke it.",
    }[outcome]
    account.save(update_fields=["refresh_token_encrypted", "status", "status_message", "updated_at"])
    return outcome
