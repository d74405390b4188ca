"""The database itself holds the run's invariants, on SQLite and on PostgreSQL."""
from __future__ import annotations

import subprocess

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gmail_sync.models import SyncRun
from tests.factories import GmailAccountFactory, ReceiptFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

SEED_COLUMNS = {
    "from_date": ("date", None),
    "to_date": ("date", None),
    "months_back": ("integer", None),
    "run_to_completion": ("boolean", "false"),
    "max_seconds_per_run": ("integer", None),
    "skipped_count": ("integer", "0"),
}


def _columns() -> dict[str, tuple[str, str | None]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT column_name, data_type, column_default FROM information_schema.columns "
                "WHERE table_name = 'receipt_sync_runs'"
            )
            return {name: (kind, default) for name, kind, default in cursor.fetchall()}
        cursor.execute("PRAGMA table_info(receipt_sync_runs)")
        return {
            row[1]: (row[2].lower().replace("bool", "boolean"), None if row[4] is None else str(row[4]).lower())
            for row in cursor.fetchall()
        }


def test_seed_columns_have_the_seed_types_and_defaults() -> None:
    columns = _columns()
    for name, (kind, default) in SEED_COLUMNS.items():
        assert name in columns, name
        actual_kind, actual_default = columns[name]
        assert actual_kind == kind, (name, actual_kind)
        if connection.vendor == "sqlite" and default == "false":
            default = "0"  # SQLite has no boolean literal
        assert actual_default == default, (name, actual_default)
    for name in ("last_heartbeat_at", "started_at", "finished_at", "updated_at"):
        assert name in columns


def test_status_constraint_lists_the_five_statuses() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'chk_receipt_sync_status'"
            )
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'receipt_sync_runs'")
        definition = cursor.fetchone()[0]
    assert "chk_receipt_sync_status" in definition or connection.vendor == "postgresql"
    for status in ("running", "paused", "completed", "failed", "cancelled"):
        assert f"'{status}'" in definition


def test_another_status_fails_at_the_database() -> None:
    run = SyncRunFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(status="done")


def test_second_active_run_for_one_account_fails_at_the_database() -> None:
    account = GmailAccountFactory()
    SyncRunFactory(account=account, status=SyncRun.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRunFactory(account=account, status=SyncRun.Status.PAUSED)


def test_finished_runs_do_not_block_a_new_one() -> None:
    account = GmailAccountFactory()
    for status in SyncRun.FINAL_STATUSES:
        SyncRunFactory(account=account, status=status, finished_at=timezone.now())
    SyncRunFactory(account=account, status=SyncRun.Status.RUNNING)
    assert SyncRun.objects.filter(account=account).count() == 4


def test_counters_must_add_up() -> None:
    run = SyncRunFactory()
    SyncRun.objects.filter(pk=run.pk).update(messages_scanned=3, saved_receipts=1, skipped_count=1, errors_count=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(messages_scanned=4)


def test_final_status_needs_a_finish_time() -> None:
    run = SyncRunFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(status="completed", finished_at=None)


def test_receipt_is_unique_per_account_and_message() -> None:
    receipt = ReceiptFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReceiptFactory(account=receipt.account, gmail_message_id=receipt.gmail_message_id)
    # The same message id in another account is another receipt.
    ReceiptFactory(gmail_message_id=receipt.gmail_message_id)


def test_receipt_currency_must_be_iso_4217_shaped() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ReceiptFactory(currency="₪")


def _dump() -> str:
    """The whole database as text, the way an operator's backup would hold it."""
    if connection.vendor == "postgresql":
        params = connection.get_connection_params()
        result = subprocess.run(
            ["pg_dump", "--data-only", "-h", params.get("host") or "127.0.0.1", "-p", str(params.get("port") or 5432),
             "-U", params.get("user") or "postgres", params["dbname"]],
            capture_output=True, text=True, check=True, timeout=120,
        )
        return result.stdout
    return "\n".join(connection.connection.iterdump())


@pytest.mark.django_db(transaction=True)
def test_database_dump_holds_no_refresh_token_in_clear() -> None:
    secret = "1//0gDUMP-TEST-refresh-token"
    GmailAccountFactory(refresh_token=secret)
    dump = _dump()
    assert "gmail_accounts" in dump
    assert secret not in dump
    assert "DUMP-TEST" not in dump


@pytest.mark.django_db(transaction=True)
def test_migrations_reverse_to_zero_and_apply_again() -> None:
    call_command("migrate", "receipts", "zero", verbosity=0)
    call_command("migrate", "gmail_sync", "zero", verbosity=0)
    assert "receipt_sync_runs" not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    assert {"receipt_sync_runs", "receipts", "receipt_attachments"} <= set(connection.introspection.table_names())
