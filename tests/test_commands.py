from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from rest_framework.request import Request

from gmail_sync.authentication import BearerTokenAuthentication
from gmail_sync.models import Business, GmailAccount

pytestmark = pytest.mark.django_db


def _run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_api_user_prints_a_working_bearer_token_last() -> None:
    lines = _run("create_api_user", "dana", "--business", "Dana's Bakery")
    token = lines[-1]
    request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))
    user, _ = BearerTokenAuthentication().authenticate(request)
    assert user.username == "dana"
    assert list(user.businesses.values_list("name", flat=True)) == ["Dana's Bakery"]


def test_create_api_user_again_issues_a_fresh_token_and_keeps_one_membership() -> None:
    first = _run("create_api_user", "dana", "--business", "Bakery")[-1]
    second = _run("create_api_user", "dana", "--business", "Bakery", "--password", "s3cret-Pass")[-1]
    assert first != second
    business = Business.objects.get(name="Bakery")
    assert business.members.count() == 1
    assert business.members.get().check_password("s3cret-Pass")
    request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {first}"))
    with pytest.raises(Exception, match="Invalid token"):
        BearerTokenAuthentication().authenticate(request)


def test_add_gmail_account_prints_the_id_last_and_encrypts_the_token() -> None:
    lines = _run("add_gmail_account", "Owner@Example.com", "--refresh-token", "1//tok", "--business", "Acme")
    account = GmailAccount.objects.get(pk=int(lines[-1]))
    assert account.email == "owner@example.com"
    assert account.business.name == "Acme"
    assert "1//tok" not in account.refresh_token_encrypted
    assert account.refresh_token == "1//tok"
    assert account.status == GmailAccount.Status.CONNECTED


def test_add_gmail_account_again_replaces_the_token_of_the_same_account() -> None:
    first = _run("add_gmail_account", "a@example.com", "--refresh-token", "old", "--business", "Acme")[-1]
    second = _run("add_gmail_account", "a@example.com", "--refresh-token", "new", "--business", "Acme")[-1]
    assert first == second
    assert GmailAccount.objects.get(pk=int(first)).refresh_token == "new"


def test_add_gmail_account_rejects_a_bad_address() -> None:
    with pytest.raises(CommandError, match="Not an email address"):
        _run("add_gmail_account", "not-an-address", "--refresh-token", "t", "--business", "Acme")
