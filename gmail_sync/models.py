"""Tenants, their Gmail accounts and the sync runs over those accounts."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from . import crypto


class Business(models.Model):
    """A tenant: a business whose members see only its own accounts, runs and receipts."""

    name = models.CharField(max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="businesses", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "businesses"
        verbose_name_plural = "businesses"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GmailAccount(models.Model):
    """A connected Gmail mailbox of a business.

    The refresh token is stored only encrypted (``refresh_token_encrypted``); read and write it
    through the ``refresh_token`` property.
    """

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected"
        ERROR = "error", "Error"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="gmail_accounts")
    email = models.EmailField()
    refresh_token_encrypted = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED)
    status_message = models.TextField(blank=True, default="")
    last_history_id = models.CharField(max_length=32, blank=True, default="")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "gmail_accounts"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["business", "email"], name="uniq_gmail_account_per_business"),
            models.CheckConstraint(
                condition=Q(status__in=["connected", "disconnected", "error"]),
                name="chk_gmail_account_status",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def refresh_token(self) -> str:
        if not self.refresh_token_encrypted:
            return ""
        return crypto.decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = crypto.encrypt(value) if value else ""

    @property
    def has_token(self) -> bool:
        return bool(self.refresh_token_encrypted)


class SyncRun(models.Model):
    """One sync of one Gmail account over a date range, or over its history since the last sync.

    A run is a small state machine, written only by ``gmail_sync/runs.py`` (its ``TRANSITIONS``
    table). The allowed transitions, each made with a conditional ``UPDATE ... WHERE status =
    <from>`` so that two workers can never both own a run:

    - ``running -> paused``     a slice used up its ``max_seconds_per_run`` (or handed the run on)
                                 and saved its checkpoint; the next slice is enqueued. An
                                 operator's Ctrl-C pauses it ``held``: only an operator resumes it.
    - ``running -> completed``  the last page of the last month was committed.
    - ``running -> failed``     an error of the run itself (access revoked, a bug); message kept.
    - ``running -> cancelled``  a cancel request was honoured at a page boundary.
    - ``paused -> running``     the next slice (or a resume, or the stale-run sweeper) claims it.
    - ``paused -> cancelled``   cancelled between slices.
    - ``paused -> failed``      marked failed by an operator.
    - ``paused -> completed``   marked completed by an operator (a run stuck in paused).
    - ``failed -> running``, ``cancelled -> running``  resumed by the user from the checkpoint.

    ``completed`` is final. A ``running`` run whose heartbeat is older than
    ``SYNC_STALE_AFTER_SECONDS`` was orphaned by a dead worker and is reclaimed in place
    (``running -> running`` with a new heartbeat) by the sweeper.

    The database holds the invariants: the status check ``chk_receipt_sync_status``, at most
    one ``running``/``paused`` run per account, ``saved + skipped + errors + already stored = scanned``, a
    finished time on every final status, and ``from_date <= to_date``.
    """

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        FULL_BACKFILL = "full_backfill", "Full backfill"
        TAKEOUT_IMPORT = "takeout_import", "Takeout import"

    class Phase(models.TextChoices):
        """Which part of a receipts-first range scan is being read (empty: in date order, a
        history scan, or an import)."""

        LIKELY = "likely", "Likely receipts"
        REST = "rest", "The rest"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # The modes a Gmail sync is started in (an import is started from a file, not from these).
    SYNC_MODES = ((Mode.INCREMENTAL.value, Mode.INCREMENTAL.label), (Mode.FULL_BACKFILL.value, Mode.FULL_BACKFILL.label))
    ACTIVE_STATUSES = (Status.RUNNING, Status.PAUSED)
    FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
    RESUMABLE_STATUSES = (Status.PAUSED, Status.FAILED, Status.CANCELLED)

    account = models.ForeignKey(GmailAccount, on_delete=models.CASCADE, related_name="sync_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.INCREMENTAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)

    # The run's configuration, fixed when it starts.
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    months_back = models.IntegerField(null=True, blank=True)
    run_to_completion = models.BooleanField(default=False, db_default=False)
    max_seconds_per_run = models.IntegerField(null=True, blank=True)
    # Incremental runs over Gmail's history start here; empty for a range scan.
    start_history_id = models.CharField(max_length=32, blank=True, default="")
    # The mailbox's history id when the run began: the account's next incremental start.
    history_id_at_start = models.CharField(max_length=32, blank=True, default="")

    # A receipts-first range scan reads the range twice over, through two disjoint searches: the
    # mail that ``likely_query`` finds (fixed when the run starts, so that the second search is
    # exactly the rest), then the rest. Empty for a scan in date order.
    likely_query = models.TextField(blank=True, default="", db_default="")
    # An import reads this mbox file; its checkpoint is the byte offset of the next message.
    source_path = models.TextField(blank=True, default="", db_default="")
    source_size = models.BigIntegerField(null=True, blank=True)
    source_offset = models.BigIntegerField(default=0, db_default=0)

    # Counters: saved + skipped + errors + already stored = scanned, always.
    messages_scanned = models.IntegerField(default=0, db_default=0)
    saved_receipts = models.IntegerField(default=0, db_default=0)
    skipped_count = models.IntegerField(default=0, db_default=0)
    errors_count = models.IntegerField(default=0, db_default=0)
    # Receipts this run met that were stored before it (a re-sync, an import after a sync).
    already_stored = models.IntegerField(default=0, db_default=0)
    pages_scanned = models.IntegerField(default=0, db_default=0)
    estimated_total = models.IntegerField(null=True, blank=True)
    slices_count = models.IntegerField(default=0, db_default=0)
    # Seconds a worker has held the run (the time between its heartbeats, summed): the rate and
    # the ETA are over this, so a paused run's rate does not drift with the wall clock.
    running_seconds = models.FloatField(default=0.0, db_default=0.0)
    # Slices in a row ended by a database error (a lost connection, a lock timeout) before any
    # progress was committed; each waits longer before the next, and too many fail the run.
    database_errors = models.IntegerField(default=0, db_default=0)

    # The checkpoint. A range scan reads ``current_month`` in time windows small enough to list in
    # one messages.list call (no Gmail page token is kept: they expire and shift when mail is
    # deleted): ``last_page_token`` is the window being read, ``START-END`` in epoch seconds, with
    # its listed ids in ``page_ids``; or ``START-`` for the next window, not listed yet. A history
    # scan keeps Gmail's history page token there, that page's ids, and the token after it.
    last_page_token = models.TextField(blank=True, default="")
    current_month = models.CharField(max_length=7, blank=True, default="")
    has_next = models.BooleanField(default=True, db_default=True)
    page_ids = models.JSONField(blank=True, default=list)
    # Messages examined in the last second of the current window: the next window's listing
    # starts a second early (Gmail's ``after:`` may or may not include its own second) and
    # leaves these out, so that none is fetched twice.
    boundary_ids = models.JSONField(blank=True, default=list)
    next_page_token = models.TextField(blank=True, default="", db_default="")
    # The last message of the current page already committed ("" = none), so a resumed slice
    # skips exactly what was counted.
    page_cursor = models.CharField(max_length=64, blank=True, default="")
    # The part of a receipts-first scan being read (see ``likely_query``).
    phase = models.CharField(max_length=8, choices=Phase.choices, blank=True, default="", db_default="")

    cancel_requested = models.BooleanField(default=False, db_default=False)
    # A paused run that only an operator's resume lifts (the command's Ctrl-C): slices, the
    # sweeper and a Celery redelivery leave it paused.
    held = models.BooleanField(default=False, db_default=False)
    error_message = models.TextField(blank=True, default="")
    worker_id = models.CharField(max_length=200, blank=True, default="")

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "receipt_sync_runs"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "last_heartbeat_at"], name="idx_sync_runs_status_hb")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["running", "paused", "completed", "failed", "cancelled"]),
                name="chk_receipt_sync_status",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["incremental", "full_backfill", "takeout_import"]), name="chk_receipt_sync_mode"
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["running", "paused"]),
                name="uniq_active_sync_run_per_account",
            ),
            models.CheckConstraint(
                condition=Q(messages_scanned=F("saved_receipts") + F("skipped_count") + F("errors_count")
                          + F("already_stored")),
                name="chk_receipt_sync_counters_add_up",
            ),
            models.CheckConstraint(
                condition=Q(
                    messages_scanned__gte=0,
                    saved_receipts__gte=0,
                    skipped_count__gte=0,
                    errors_count__gte=0,
                    already_stored__gte=0,
                    pages_scanned__gte=0,
                ),
                name="chk_receipt_sync_counters_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(from_date__isnull=True) | Q(to_date__isnull=True) | Q(from_date__lte=F("to_date")),
                name="chk_receipt_sync_date_order",
            ),
            models.CheckConstraint(
                condition=Q(months_back__isnull=True) | Q(months_back__gte=1, months_back__lte=120),
                name="chk_receipt_sync_months_back",
            ),
            models.CheckConstraint(
                condition=Q(max_seconds_per_run__isnull=True) | Q(max_seconds_per_run__gte=1),
                name="chk_receipt_sync_max_seconds",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "failed", "cancelled"]) | Q(finished_at__isnull=False),
                name="chk_receipt_sync_finished_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Sync run {self.pk} ({self.mode}, {self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return max((end - self.started_at).total_seconds(), 0.0)

    @property
    def active_seconds(self) -> float:
        """Seconds of work so far: what the workers recorded, and the time since the last
        heartbeat of a run a worker holds now."""
        seconds = self.running_seconds
        if self.status == self.Status.RUNNING and self.worker_id and self.last_heartbeat_at:
            since = (timezone.now() - self.last_heartbeat_at).total_seconds()
            if 0 < since < settings.SYNC_STALE_AFTER_SECONDS:
                seconds += since
        return seconds

    @property
    def messages_per_second(self) -> float | None:
        """Messages examined per second of work (paused time and time in a queue left out)."""
        seconds = self.active_seconds
        if seconds <= 0:
            return None
        return round(self.messages_scanned / seconds, 2)

    @property
    def seconds_since_heartbeat(self) -> float | None:
        if not self.last_heartbeat_at:
            return None
        return round((timezone.now() - self.last_heartbeat_at).total_seconds(), 1)


class QuarantinedMessage(models.Model):
    """A message of an account that could not be read (out of the reader's memory or time, or
    crashing it) or stored (refused by the database). Each failure adds one; from
    ``QUARANTINE_AFTER_FAILURES`` on, no run fetches or reads it again and each counts it as one
    error. Deleting the row lets the next run try it again."""

    QUARANTINE_AFTER_FAILURES = 2

    account = models.ForeignKey(GmailAccount, on_delete=models.CASCADE, related_name="quarantined_messages")
    gmail_message_id = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=1)
    reason = models.CharField(max_length=200)
    last_run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "gmail_quarantined_messages"
        constraints = [
            models.UniqueConstraint(fields=["account", "gmail_message_id"], name="uniq_quarantined_message"),
        ]

    def __str__(self) -> str:
        return f"{self.gmail_message_id} ({self.reason})"

    @property
    def is_quarantined(self) -> bool:
        return self.failures >= self.QUARANTINE_AFTER_FAILURES
