"""Services for businesses, their members and their Gmail accounts."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from knox.models import AuthToken

from .models import Business, GmailAccount


def business_for_user(user: AbstractUser) -> Business | None:
    """The business a user acts for (its first, for a user in several)."""
    return Business.objects.filter(members__pk=user.pk).order_by("id").first()


@transaction.atomic
def api_user_create(*, username: str, business_name: str, password: str | None = None) -> tuple[AbstractUser, str]:
    """Create the user if new, add it to the business (created if new), issue a fresh API token
    (returned here only: it is stored hashed)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    elif created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    business, _ = Business.objects.get_or_create(name=business_name)
    business.members.add(user)
    # Only the token's SHA-512 digest is stored (knox): the token itself is shown this once. A
    # fresh token revokes the user's earlier ones; each expires after API_TOKEN_TTL_DAYS.
    AuthToken.objects.filter(user=user).delete()
    _, token = AuthToken.objects.create(user=user)
    return user, token


@transaction.atomic
def gmail_account_connect(*, business: Business, email: str, refresh_token: str) -> GmailAccount:
    """Store (or replace) an account's refresh token, encrypted, and mark it connected."""
    email = email.strip().lower()
    account = GmailAccount.objects.select_for_update().filter(business=business, email=email).first()
    if account is None:
        account = GmailAccount(business=business, email=email)
    account.refresh_token = refresh_token
    account.status = GmailAccount.Status.CONNECTED
    account.status_message = ""
    account.save()
    return account
