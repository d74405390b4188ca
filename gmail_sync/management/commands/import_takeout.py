from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email

from gmail_sync.models import Business, GmailAccount, SyncRun
from gmail_sync.services import ActiveRunExists, ImportRefused, import_start

from .sync_receipts import Command as SyncCommand


class Command(SyncCommand):
    help = (
        "Import a Google Takeout (or any) mbox file as a run of mode takeout_import: the same recognition, "
        "storage, counters, checkpoint and status JSON as a Gmail sync, with no Google connection. Runs in the "
        "foreground with a progress bar (Ctrl-C pauses; --resume continues)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the .mbox file (from Takeout: unpack its archive first)")
        parser.add_argument("--account", help="the Gmail address the mail belongs to (default: the only account)")
        parser.add_argument("--business", help="with --account: the business to add the account to, if it is new")
        slicing = parser.add_mutually_exclusive_group()
        slicing.add_argument("--run-to-completion", action="store_true", default=None)
        slicing.add_argument("--max-seconds", type=int, help="length of one slice in seconds")
        parser.add_argument("--resume", type=int, metavar="RUN_ID", help="continue a paused, failed or cancelled import")
        parser.add_argument("--queue", action="store_true", help="enqueue on Celery and print the run id")
        parser.add_argument("--json", action="store_true", help="print the final status JSON as the last line")

    def _resume(self, options: dict[str, Any]) -> SyncRun:
        run = SyncRun.objects.filter(pk=options["resume"]).first()
        if run is not None and run.mode != SyncRun.Mode.TAKEOUT_IMPORT:
            raise CommandError(f"Sync run {run.pk} is a Gmail sync; resume it with sync_receipts --resume {run.pk}.")
        return super()._resume(options)

    def _start(self, options: dict[str, Any]) -> SyncRun:
        if not options["path"]:
            raise CommandError("Give the path of the mbox file (or --resume RUN_ID).")
        max_seconds = options["max_seconds"]
        if max_seconds is not None and max_seconds < 1:
            raise CommandError("--max-seconds must be at least 1.")
        try:
            return import_start(
                account=self._import_account(options["account"], options["business"]),
                path=options["path"],
                run_to_completion=True if options["run_to_completion"] else (False if max_seconds else None),
                max_seconds_per_run=max_seconds,
                enqueue=options["queue"],
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        except ActiveRunExists as exc:
            raise CommandError(f"{exc} Resume it with --resume {exc.run.pk} or cancel it first.") from exc

    def _import_account(self, email: str | None, business: str | None) -> GmailAccount:
        """The account the mail is imported into: named, the only one, or (with --business) a new
        one, which needs no Google connection to receive an import."""
        if email is None:
            if business:
                raise CommandError("--business needs --account.")
            accounts = list(GmailAccount.objects.all()[:2])
            if len(accounts) != 1:
                raise CommandError("Name the account with --account (add --business NAME to create it).")
            return accounts[0]
        address = email.strip().lower()
        found = list(GmailAccount.objects.filter(email=address, **({"business__name": business} if business else {})))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise CommandError(f"{address} is in several businesses; name one with --business.")
        if not business:
            raise CommandError(f"No account {address}; add --business NAME to create it for this import.")
        try:
            validate_email(address)
        except ValidationError as exc:
            raise CommandError(f"Not an email address: {email!r}") from exc
        owner, _ = Business.objects.get_or_create(name=business)
        return GmailAccount.objects.create(business=owner, email=address, status=GmailAccount.Status.DISCONNECTED,
                                           status_message="Created for a Takeout import; not connected to Gmail.")
