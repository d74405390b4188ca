from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from gmail_sync.accounts import gmail_account_connect
from gmail_sync.models import Business


class Command(BaseCommand):
    help = "Connect a Gmail account with a refresh token, without the browser flow. Prints the account id last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--refresh-token", required=True)
        parser.add_argument("--business", required=True, help="name of the business (created if new)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            validate_email(options["email"])
        except ValidationError as exc:
            raise CommandError(f"Not an email address: {options['email']!r}") from exc
        if not options["refresh_token"].strip():
            raise CommandError("--refresh-token must not be empty.")
        business, _ = Business.objects.get_or_create(name=options["business"])
        account = gmail_account_connect(
            business=business, email=options["email"], refresh_token=options["refresh_token"].strip()
        )
        self.stdout.write(f"Connected {account.email} to {business.name}.")
        self.stdout.write(str(account.pk))
