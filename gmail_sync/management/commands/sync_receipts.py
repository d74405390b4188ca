from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from gmail_sync import dates, engine, runs
from gmail_sync.models import GmailAccount, SyncRun
from gmail_sync.services import AccountNotConnected, ActiveRunExists, resume_run, sync_start
from gmail_sync.status import run_status


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Sync receipts from Gmail in the foreground with a progress bar (Ctrl-C pauses; --resume continues), "
        "or hand the run to Celery with --queue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="the Gmail address (default: the only connected account)")
        parser.add_argument("--months-back", type=int)
        parser.add_argument("--from-date")
        parser.add_argument("--to-date")
        parser.add_argument("--mode", choices=[value for value, _ in SyncRun.SYNC_MODES], default=SyncRun.Mode.INCREMENTAL)
        slicing = parser.add_mutually_exclusive_group()
        slicing.add_argument("--run-to-completion", action="store_true", default=None)
        slicing.add_argument("--max-seconds", type=int, help="length of one slice in seconds")
        parser.add_argument("--resume", type=int, metavar="RUN_ID", help="continue a paused, failed or cancelled run")
        parser.add_argument("--date-order", action="store_true",
                            help="read the range in date order, not the likely receipts first")
        parser.add_argument("--queue", action="store_true", help="enqueue on Celery and print the run id")
        parser.add_argument("--json", action="store_true", help="print the final status JSON as the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        run = self._resume(options) if options["resume"] else self._start(options)
        if options["queue"]:
            self.stdout.write(f"Queued sync run {run.pk}.")
            self.stdout.write(str(run.pk))
            return
        run = self._drive(run, quiet=options["verbosity"] == 0)
        self._summary(run)
        if options["json"]:
            self.stdout.write(json.dumps({"success": run.status != SyncRun.Status.FAILED, "sync_run": run_status(run)}))
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(f"Sync run {run.pk} failed: {run.error_message}")

    # -- starting ------------------------------------------------------------------------
    def _account(self, email: str | None) -> GmailAccount:
        accounts = GmailAccount.objects.all()
        if email:
            found = list(accounts.filter(email=email.strip().lower()))
            if not found:
                raise CommandError(f"No Gmail account {email}; add it with add_gmail_account.")
            if len(found) > 1:
                raise CommandError(f"{email} is connected in several businesses; sync it from the API.")
            return found[0]
        connected = list(accounts.filter(status=GmailAccount.Status.CONNECTED))
        if len(connected) != 1:
            names = ", ".join(a.email for a in connected) or "none"
            raise CommandError(f"Name the account with --account (connected: {names}).")
        return connected[0]

    def _start(self, options: dict[str, Any]) -> SyncRun:
        if options["months_back"] is not None and (options["from_date"] or options["to_date"]):
            raise CommandError("Give either --months-back or --from-date/--to-date, not both.")
        if options["to_date"] and not options["from_date"]:
            raise CommandError("--to-date needs --from-date.")
        months_back = options["months_back"]
        if months_back is not None and not 1 <= months_back <= 120:
            raise CommandError("--months-back must be between 1 and 120.")
        from_date = _date(options["from_date"]) if options["from_date"] else None
        to_date = _date(options["to_date"]) if options["to_date"] else None
        if from_date and to_date and from_date > to_date:
            raise CommandError("--from-date is after --to-date.")
        for flag, value in (("--from-date", from_date), ("--to-date", to_date)):
            if value and value < dates.EARLIEST:
                raise CommandError(f"{flag} is before {dates.EARLIEST.isoformat()}: Gmail holds no earlier mail.")
        max_seconds = options["max_seconds"]
        if max_seconds is not None and max_seconds < 1:
            raise CommandError("--max-seconds must be at least 1.")
        try:
            return sync_start(
                account=self._account(options["account"]),
                mode=options["mode"],
                from_date=from_date,
                to_date=to_date,
                months_back=months_back,
                run_to_completion=True if options["run_to_completion"] else (False if max_seconds else None),
                max_seconds_per_run=max_seconds,
                enqueue=options["queue"],
                receipts_first=False if options["date_order"] else None,
            )
        except ActiveRunExists as exc:
            raise CommandError(f"{exc} Resume it with --resume {exc.run.pk} or cancel it first.") from exc
        except AccountNotConnected as exc:
            raise CommandError(str(exc)) from exc

    def _resume(self, options: dict[str, Any]) -> SyncRun:
        run = SyncRun.objects.filter(pk=options["resume"]).select_related("account").first()
        if run is None:
            raise CommandError(f"No sync run {options['resume']}.")
        if run.status not in SyncRun.RESUMABLE_STATUSES and not runs.is_orphaned(run):
            raise CommandError(f"Sync run {run.pk} is {run.status}; only paused, failed or cancelled runs resume "
                               "(or running ones whose worker stopped beating).")
        try:
            return resume_run(run=run, enqueue=options["queue"])
        except ActiveRunExists as exc:
            raise CommandError(str(exc)) from exc

    # -- running in the foreground -------------------------------------------------------
    def _drive(self, run: SyncRun, *, quiet: bool) -> SyncRun:
        # The rate and the ETA are the run's own (over its working time, every slice's, as the
        # status JSON and the dashboard show them), not tqdm's count of this process's wall time.
        importing = run.mode == SyncRun.Mode.TAKEOUT_IMPORT
        if importing:  # an import's progress is its place in the file
            bar = tqdm(total=run.source_size or None, unit="B", unit_scale=True, disable=quiet, dynamic_ncols=True,
                       desc=f"run {run.pk}", bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {postfix}")
        else:
            bar = tqdm(total=run.estimated_total or None, unit="msg", disable=quiet, dynamic_ncols=True,
                       desc=f"run {run.pk}", bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {postfix}")

        def progress(current: SyncRun) -> None:
            status = run_status(current)
            if importing:
                bar.total = current.source_size or bar.total
                bar.n = current.source_offset
                where = f"messages={current.messages_scanned}"
            else:
                if current.estimated_total and bar.total != current.estimated_total:
                    bar.total = max(current.estimated_total, current.messages_scanned)
                bar.n = current.messages_scanned
                where = f"month={current.current_month or '-'}"
                if current.phase:
                    where += f", phase={current.phase}"
            found = status["progress"]["receipts_found"]
            bar.set_postfix_str(f"{status['messages_per_second'] or 0} msg/s, ETA {_duration(status['eta_seconds'])}, "
                                f"{where}, receipts found={found}", refresh=False)
            bar.refresh()

        with logging_redirect_tqdm():
            try:
                while True:
                    result = engine.run_slice(run.pk, on_progress=progress)
                    if result.outcome == "not_claimed":
                        raise CommandError(f"Sync run {run.pk} is {result.status} and owned by another worker.")
                    if result.outcome == "interrupted":
                        bar.close()
                        self.stdout.write(
                            f"Paused at the checkpoint. Continue with: manage.py sync_receipts --resume {run.pk}"
                        )
                        break
                    if result.outcome != "paused":
                        break
            finally:
                bar.close()
        run.refresh_from_db()
        return run

    def _summary(self, run: SyncRun) -> None:
        self.stdout.write(
            f"Sync run {run.pk} {run.status}: scanned {run.messages_scanned}, saved {run.saved_receipts}, "
            f"skipped {run.skipped_count}, errors {run.errors_count}, already stored {run.already_stored}, "
            f"{run.messages_per_second or 0} messages/s over {run.slices_count} slice(s)."
        )
        if run.error_message:
            self.stdout.write(f"Error: {run.error_message}")


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"
