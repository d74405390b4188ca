"""Re-encrypt every stored Gmail token under the first ENCRYPTION_KEY.

Key rotation: put the new key first in ENCRYPTION_KEY and keep the old one after it (``NEW,OLD``),
restart, run this command, then drop the old key.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gmail_sync import crypto
from gmail_sync.models import GmailAccount


class Command(BaseCommand):
    help = "Re-encrypt every stored Gmail refresh token under the first key of ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated, unreadable = 0, []
        with transaction.atomic():
            for account in GmailAccount.objects.select_for_update().exclude(refresh_token_encrypted=""):
                try:
                    account.refresh_token_encrypted = crypto.rotate(account.refresh_token_encrypted)
                except crypto.DecryptionError:
                    unreadable.append(account)
                    continue
                account.save(update_fields=["refresh_token_encrypted"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} token(s) under the first key of ENCRYPTION_KEY.")
        if unreadable:
            names = ", ".join(f"{a.email} (id {a.pk})" for a in unreadable)
            raise CommandError(f"{len(unreadable)} token(s) cannot be decrypted with any ENCRYPTION_KEY and were left "
                               f"as they are: {names}. Add the key they were written with, or reconnect them.")
        self.stdout.write("Every stored token can now be read without the older keys; remove them from ENCRYPTION_KEY.")
