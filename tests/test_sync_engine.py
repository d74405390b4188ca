"""The sync engine end to end, in-process, against the emulator over loopback."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.utils import timezone

from gmail_sync import engine
from gmail_sync.accounts import gmail_account_connect
from gmail_sync.client import MAX_BATCH, AccessRevoked, GmailClient
from gmail_sync.emulator.sample import load_labels
from gmail_sync.models import GmailAccount, SyncRun
from gmail_sync.services import ActiveRunExists, resume_run, sync_start
from gmail_sync.tasks import sweep_stale_runs
from receipts.models import ExaminedMessage, Receipt
from tests.conftest import SAMPLE_END
from tests.factories import GmailAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)
FROM, TO = SAMPLE_END - timedelta(days=370), SAMPLE_END  # the sample mailbox's year (other modules use TO)


@pytest.fixture(autouse=True)
def _inline_celery(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _account(email: str = "owner@example.com") -> GmailAccount:
    return GmailAccountFactory(email=email, refresh_token="demo-refresh-token")


def _receipts(account: GmailAccount) -> set[tuple[Any, ...]]:
    return set(Receipt.objects.filter(account=account).values_list(
        "gmail_message_id", "amount", "currency", "vendor", "receipt_date", "invoice_number"))


def _expected_scanned(sample_mailbox, emulator) -> int:
    labels = load_labels(str(sample_mailbox) + ".labels.json")
    return sum(1 for label in labels.values() if label.folder == "INBOX")


def _clean_run() -> GmailAccount:
    """A plain run to completion over the mailbox: what every disturbed run must end up equal to."""
    clean = _account("clean@example.com")
    _start(clean, run_to_completion=True)
    return clean


def _assert_exact(run: SyncRun) -> None:
    assert run.saved_receipts + run.skipped_count + run.errors_count + run.already_stored == run.messages_scanned
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger"
    assert Receipt.objects.filter(sync_run=run).count() == run.saved_receipts


def _start(account: GmailAccount, **kw: Any) -> SyncRun:
    kw.setdefault("mode", SyncRun.Mode.FULL_BACKFILL)
    kw.setdefault("from_date", FROM)
    kw.setdefault("to_date", timezone.localdate())  # up to now: a range that covers it moves the history id
    run = sync_start(account=account, **kw)
    run.refresh_from_db()
    return run


def test_run_to_completion_scans_every_message_once(emulator, sample_mailbox) -> None:
    account = _account()
    run = _start(account, run_to_completion=True)
    assert run.status == SyncRun.Status.COMPLETED
    _assert_exact(run)
    assert run.messages_scanned == _expected_scanned(sample_mailbox, emulator)
    assert run.saved_receipts > 20
    assert run.slices_count == 1 and not run.has_next
    assert max(emulator.fetches.values()) == 1
    account.refresh_from_db()
    assert account.last_history_id == str(emulator.mailbox.history_id)
    assert account.last_synced_at is not None


def test_time_sliced_run_pauses_and_resumes_to_the_same_result(emulator, settings) -> None:
    """GIVEN slices of 1 second and a Gmail that takes its time
    WHEN a run goes slice by slice through the in-process chain
    THEN it pauses at least twice and ends with exactly the receipts of a run to completion."""
    clean = _clean_run()
    emulator.reset_counts()
    emulator.options.latency_ms = (40, 60)
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = 1600  # 80 messages a second at 20 units a get
    sliced_account = _account("sliced@example.com")
    run = _start(sliced_account, run_to_completion=False, max_seconds_per_run=1)
    assert run.status == SyncRun.Status.COMPLETED
    assert run.slices_count >= 3, "paused at least twice"
    assert max(emulator.fetches.values()) == 1, "what a slice fetched was committed before it paused"
    _assert_exact(run)
    assert _receipts(sliced_account) == _receipts(clean)
    clean_run = SyncRun.objects.get(account=clean)
    assert (run.messages_scanned, run.saved_receipts, run.skipped_count, run.errors_count) == (
        clean_run.messages_scanned, clean_run.saved_receipts, clean_run.skipped_count, clean_run.errors_count)


class _Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even except-Exception handlers."""


def test_crash_mid_page_is_swept_and_resumed_without_loss_or_duplicates(emulator, settings) -> None:
    clean = _clean_run()
    crashing = _account("crash@example.com")
    run = _start(crashing, run_to_completion=True, enqueue=False)
    calls = {"n": 0}

    def crashing_client(account: GmailAccount) -> Any:
        client = engine.default_client(account)
        fetch = client.iter_messages

        def iter_messages(ids, **kw):  # type: ignore[no-untyped-def]
            for start in range(0, len(ids), client.batch_size):
                calls["n"] += 1
                if calls["n"] == 4:
                    raise _Crash()
                yield from fetch(ids[start:start + client.batch_size], **kw)

        client.iter_messages = iter_messages  # type: ignore[method-assign]
        return client

    with pytest.raises(_Crash):
        engine.run_slice(run.pk, client_factory=crashing_client)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and run.messages_scanned > 0
    _assert_exact(run)
    settings.SYNC_STALE_AFTER_SECONDS = 0
    assert sweep_stale_runs()["requeued"] == [run.pk]
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED and run.slices_count == 2
    _assert_exact(run)
    assert _receipts(crashing) == _receipts(clean)
    assert run.messages_scanned == SyncRun.objects.get(account=clean).messages_scanned


def test_cancel_mid_run_stops_within_a_page_and_stays_cancelled(emulator) -> None:
    account = _account()
    run = _start(account, run_to_completion=True, enqueue=False)

    def cancel_after_first_chunk(current: SyncRun) -> None:
        SyncRun.objects.filter(pk=current.pk).update(cancel_requested=True)

    result = engine.run_slice(run.pk, on_progress=cancel_after_first_chunk)
    assert result.outcome == "cancelled"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED
    assert 0 < run.messages_scanned <= MAX_BATCH
    _assert_exact(run)
    # A late slice (a duplicate broker message) cannot bring it back.
    assert engine.run_slice(run.pk).outcome == "not_claimed"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED


def test_second_start_is_refused_naming_the_active_run(emulator) -> None:
    account = _account()
    first = _start(account, enqueue=False)
    with pytest.raises(ActiveRunExists) as caught:
        _start(account, enqueue=False)
    assert caught.value.run.pk == first.pk
    assert str(first.pk) in str(caught.value)


def _receipt_mail(subject: str, total: str, when: datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zoom <billing@zoom.us>"
    msg["To"] = "owner@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg.set_content(f"Thanks for your payment.\nInvoice number: INV-{abs(hash(subject)) % 10**6}\nTotal paid: {total}\n")
    return msg.as_bytes()


def _chat_mail(subject: str, when: datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Dana <dana@example.com>"
    msg["To"] = "owner@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg.set_content("See you tomorrow?")
    return msg.as_bytes()


def _deliver_five(emulator) -> list[str]:
    now = timezone.now()
    raws = [_receipt_mail("Your receipt from Zoom #1", "$14.99", now), _receipt_mail("Zoom invoice 2", "$20.00", now),
            _chat_mail("lunch", now), _chat_mail("photos", now), _chat_mail("plans", now)]
    return [emulator.mailbox.add(raw).id for raw in raws]


def _many_parts_mail(when: datetime, parts: int) -> bytes:
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\nreceipt {i}: $1.00\r\n" for i in range(parts))
    return (f"From: Spam <x@example.com>\r\nTo: owner@example.com\r\nSubject: Your receipt\r\nDate: {format_datetime(when)}\r\n"
            f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{body}--b--\r\n").encode()


def test_a_message_of_too_many_parts_is_one_error_between_two_receipts(emulator, caplog) -> None:
    """GIVEN a message of 3,000 MIME parts between two receipts WHEN an incremental sync reads
    them THEN the two receipts are stored, the refused message is one error with its reason in
    the log, and the counters add up."""
    account = _account()
    _start(account, run_to_completion=True)
    now = timezone.now()
    ids = [emulator.mailbox.add(raw).id for raw in (
        _receipt_mail("Your receipt from Zoom #7", "$14.99", now), _many_parts_mail(now, 3000),
        _receipt_mail("Zoom invoice 8", "$20.00", now))]
    with caplog.at_level("WARNING", logger="gmail_sync.engine"):
        run = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert (run.messages_scanned, run.saved_receipts, run.errors_count) == (3, 2, 1)
    assert set(Receipt.objects.filter(account=account, gmail_message_id__in=ids).values_list("gmail_message_id", flat=True)) == {
        ids[0], ids[2]}
    assert any(f"message {ids[1]} refused: more than 500 MIME parts" in r.getMessage() and not r.exc_info for r in caplog.records)
    _assert_exact(run)


def test_a_row_the_database_refuses_is_that_messages_error_and_its_group_is_stored(emulator, settings, monkeypatch) -> None:
    """GIVEN three receipts in one commit group, one with a value the database's check refuses
    WHEN they are stored THEN the other two are, the refused one is one error, the run completes
    and its message says nothing of the row."""
    settings.EXAMINE_IN_SANDBOX = False
    account = _account()
    _start(account, run_to_completion=True)
    now = timezone.now()
    ids = [emulator.mailbox.add(_receipt_mail(f"Your receipt from Zoom #{n}", "$14.99", now)).id for n in (21, 22, 23)]
    real = engine.recognise

    def poisoned(parsed):
        result = real(parsed)
        if parsed.subject.endswith("#22"):
            result.currency = "E1"  # as if no check had run: chk_receipt_currency refuses it
        return result

    monkeypatch.setattr(engine, "recognise", poisoned)
    run = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED and not run.error_message
    assert (run.messages_scanned, run.saved_receipts, run.errors_count) == (3, 2, 1)
    stored = set(Receipt.objects.filter(account=account, gmail_message_id__in=ids).values_list("gmail_message_id", flat=True))
    assert stored == {ids[0], ids[2]}
    _assert_exact(run)


def test_a_backfill_of_old_mail_does_not_move_where_the_next_incremental_sync_starts(emulator) -> None:
    """GIVEN a sync up to now, then new mail, then a back-fill of an old month and a back-fill of
    only the last days WHEN an incremental sync runs THEN it reads the new mail: neither back-fill
    covered the time since the first sync, so neither moved the account's history id."""
    account = _account()
    first = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, months_back=1, run_to_completion=True)
    account.refresh_from_db()
    history, synced = account.last_history_id, account.last_synced_at
    assert history
    new_ids = _deliver_five(emulator)
    today = timezone.localdate()
    old = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=today - timedelta(days=400),
                     to_date=today - timedelta(days=370), run_to_completion=True)
    old.refresh_from_db()
    assert old.status == SyncRun.Status.COMPLETED
    account.refresh_from_db()
    assert (account.last_history_id, account.last_synced_at) == (history, synced)
    first.refresh_from_db()
    # A range that ends today but starts after the first sync's day leaves a gap too; simulate a
    # first sync made weeks ago by moving its point back.
    type(account).objects.filter(pk=account.pk).update(last_synced_at=synced - timedelta(days=20))
    recent = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=today - timedelta(days=2), to_date=today,
                        run_to_completion=True)
    recent.refresh_from_db()
    assert recent.status == SyncRun.Status.COMPLETED
    account.refresh_from_db()
    assert account.last_history_id == history
    emulator.reset_counts()
    incremental = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    incremental.refresh_from_db()
    assert incremental.start_history_id == history
    assert set(new_ids) <= set(emulator.fetches)
    account.refresh_from_db()
    assert account.last_history_id != history  # the incremental sync covered up to now: it moves the point


def test_incremental_after_backfill_fetches_only_the_new_mail(emulator) -> None:
    account = _account()
    _start(account, run_to_completion=True)
    new_ids = _deliver_five(emulator)
    emulator.reset_counts()
    run = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert run.start_history_id and run.from_date is None
    assert set(emulator.fetches) == set(new_ids) and sum(emulator.fetches.values()) == 5
    assert emulator.calls["messages.list"] == 0
    assert (run.messages_scanned, run.saved_receipts) == (5, 2)
    assert Receipt.objects.filter(account=account, gmail_message_id__in=new_ids).count() == 2


def test_incremental_with_expired_history_falls_back_to_a_range_scan(emulator) -> None:
    account = _account()
    _start(account, run_to_completion=True)
    before = Receipt.objects.filter(account=account).count()
    new_ids = _deliver_five(emulator)
    emulator.mailbox.expire_history()
    run = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert run.from_date == timezone.localdate() and run.start_history_id == ""
    assert Receipt.objects.filter(account=account).count() == before + 2
    assert Receipt.objects.filter(account=account, gmail_message_id__in=new_ids).count() == 2
    _assert_exact(run)


def test_revoked_access_fails_with_reconnect_message_then_resumes_from_checkpoint(emulator, settings) -> None:
    clean = _clean_run()
    emulator.reset_counts()
    account = _account("revoked@example.com")
    run = _start(account, run_to_completion=True, enqueue=False)
    revoked = {"done": False}

    def revoke_midway(current: SyncRun) -> None:
        if current.messages_scanned >= 100 and not revoked["done"]:
            revoked["done"] = True
            emulator.revoke("demo-refresh-token")
            emulator.options.access_token_lifetime = 1

    emulator.options.access_token_lifetime = 1
    engine.run_slice(run.pk, on_progress=revoke_midway)
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "Reconnect" in run.error_message
    assert account.status == GmailAccount.Status.ERROR
    scanned_before = run.messages_scanned
    assert scanned_before >= 100
    gmail_account_connect(business=account.business, email=account.email, refresh_token=emulator.issue_refresh_token())
    emulator.options.access_token_lifetime = 3600
    resume_run(run=run)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert max(emulator.fetches.values()) == 1, "what was fetched before the failure was committed"
    _assert_exact(run)
    assert _receipts(account) == _receipts(clean)


def test_sweeper_resends_a_forgotten_paused_run_once_per_stale_period(emulator, settings) -> None:
    account = _account()
    run = _start(account, run_to_completion=True, enqueue=False)
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.PAUSED)
    settings.SYNC_STALE_AFTER_SECONDS = 60
    SyncRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(seconds=120))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from unittest import mock

    with mock.patch("gmail_sync.tasks.run_sync_slice.delay") as delay:
        assert sweep_stale_runs()["requeued"] == [run.pk]
        assert sweep_stale_runs()["requeued"] == []
    delay.assert_called_once_with(run.pk)


def test_mail_arriving_during_a_backfill_is_counted_once_and_picked_up_next_time(emulator, settings) -> None:
    """GIVEN a backfill through today, in slices, while five messages arrive one by one
    THEN every message is scanned at most once, and the next incremental sync saves the arrivals
    that the backfill had not reached, exactly once."""
    emulator.options.latency_ms = (20, 30)
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = 1600  # 80 messages a second at 20 units a get
    now = timezone.now()
    arrivals = [_receipt_mail(f"Your receipt from Zoom #{n}", f"${10 + n}.00", now) for n in range(5)]
    thread = emulator.deliver_later(arrivals, 0.3)
    account = _account()
    run = _start(account, from_date=FROM, to_date=timezone.localdate(), run_to_completion=False, max_seconds_per_run=1)
    thread.join()
    assert run.status == SyncRun.Status.COMPLETED
    _assert_exact(run)
    assert max(emulator.fetches.values()) == 1
    follow_up = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    follow_up.refresh_from_db()
    assert follow_up.status == SyncRun.Status.COMPLETED
    zoom = Receipt.objects.filter(account=account, subject__startswith="Your receipt from Zoom #")
    assert zoom.count() == 5
    assert sorted(zoom.values_list("amount", flat=True)) == [Decimal(f"{10 + n}.00") for n in range(5)]


def _small_batches(fail_at_call: int | None = None) -> engine.ClientFactory:
    """Clients fetching five messages a batch (so a month's page is several batches, committed a
    few at a time), the ``fail_at_call``-th fetch answered as if access had been revoked."""
    calls = {"n": 0}

    def factory(account: GmailAccount) -> GmailClient:
        client = engine.default_client(account)
        client.batch_size = 5
        fetch = client.iter_messages

        def iter_messages(ids: list[str], **kw: Any) -> Iterator[tuple[list[str], dict[str, Any]]]:
            for start in range(0, len(ids), client.batch_size):
                calls["n"] += 1
                if calls["n"] == fail_at_call:
                    raise AccessRevoked("revoked in the middle of a group")
                yield from fetch(ids[start:start + client.batch_size], **kw)

        client.iter_messages = iter_messages  # type: ignore[method-assign]
        return client

    return factory


@pytest.mark.parametrize("fail_at_call", [2, 3, 5])
def test_batches_examined_before_a_gmail_failure_are_committed_not_fetched_again(emulator, fail_at_call) -> None:
    """GIVEN batches committed three at a time
    WHEN Gmail fails while a group is half examined
    THEN the examined batches are committed before the run fails: resumed, it fetches no message twice."""
    clean = _clean_run()
    emulator.reset_counts()
    account = _account("group@example.com")
    # In date order, so that every month's page is full batches of five (likely receipts are fewer).
    run = _start(account, run_to_completion=True, enqueue=False, receipts_first=False)
    assert engine.run_slice(run.pk, client_factory=_small_batches(fail_at_call)).outcome == "failed"
    run.refresh_from_db()
    assert run.messages_scanned == sum(emulator.fetches.values()) == 5 * (fail_at_call - 1)
    assert engine.run_slice(run.pk, client_factory=_small_batches()).outcome == "not_claimed"  # failed stays failed
    resume_run(run=run, enqueue=False)
    assert engine.run_slice(run.pk, client_factory=_small_batches()).outcome == "completed"
    run.refresh_from_db()
    assert max(emulator.fetches.values()) == 1
    _assert_exact(run)
    assert _receipts(account) == _receipts(clean)


def test_a_slice_whose_time_is_up_commits_what_it_examined_then_pauses(emulator) -> None:
    clean = _clean_run()
    emulator.reset_counts()
    account = _account("ticking@example.com")
    run = _start(account, run_to_completion=False, max_seconds_per_run=10, enqueue=False)
    ticks = iter(range(0, 10_000, 3))  # every look at the clock: three seconds later
    slices = 0
    while True:
        slices += 1
        outcome = engine.run_slice(run.pk, client_factory=_small_batches(), clock=lambda: next(ticks)).outcome
        if outcome != "paused":
            break
        run.refresh_from_db()
        assert run.messages_scanned == sum(emulator.fetches.values()), "paused with nothing left uncommitted"
    assert outcome == "completed" and slices > 5
    run.refresh_from_db()
    assert max(emulator.fetches.values()) == 1
    _assert_exact(run)
    assert _receipts(account) == _receipts(clean)


def test_database_errors_back_off_between_slices_and_then_fail_the_run_with_a_clear_message(emulator,
                                                                                             monkeypatch) -> None:
    """GIVEN a database that refuses every commit with a lock timeout WHEN slice after slice runs
    THEN each hands the run on from its checkpoint with a wait twice the last (2, 4, 8 s ... at
    most the cap), and after DATABASE_RETRIES of them the run fails with a message that says so."""
    from django.db import OperationalError

    def locked(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(engine.SliceRunner, "_commit", locked)
    run = _start(_account("locked@example.com"), run_to_completion=True, enqueue=False)
    waits: list[float] = []
    for _ in range(engine.DATABASE_RETRIES):
        result = engine.run_slice(run.pk, chain=lambda run_id, countdown=0: waits.append(countdown))
        assert result.outcome == "paused"
    assert waits == [min(2 ** n, engine.DATABASE_BACKOFF_MAX_SECONDS) for n in range(1, engine.DATABASE_RETRIES + 1)]
    assert engine.run_slice(run.pk, chain=lambda run_id, countdown=0: waits.append(countdown)).outcome == "failed"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and "database failed 9 slices in a row" in run.error_message
    assert len(waits) == engine.DATABASE_RETRIES  # nothing chained after the failure
    monkeypatch.undo()
    resume_run(run=run, enqueue=False)
    assert engine.run_slice(run.pk).outcome == "completed"  # the checkpoint survived; progress resets the count
    run.refresh_from_db()
    assert run.database_errors == 0 and run.messages_scanned > 0


def test_a_cancel_racing_a_slice_that_pauses_still_cancels(monkeypatch) -> None:
    """GIVEN a running run WHEN its slice pauses between the cancel's two attempts (paused →
    cancelled, then running → cancel asked) THEN the cancel tries again and the run is cancelled."""
    from gmail_sync import runs

    run = SyncRun.objects.create(account=_account("race@example.com"), mode=SyncRun.Mode.FULL_BACKFILL,
                                 status=SyncRun.Status.RUNNING, worker_id="w1", from_date=FROM, to_date=TO)
    real = runs._move
    raced = {"done": False}

    def move(name: str, **kwargs: Any) -> bool:
        moved = real(name, **kwargs)
        if not raced["done"]:
            raced["done"] = True
            SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.PAUSED, worker_id="")  # the slice pauses
        return moved

    monkeypatch.setattr(runs, "_move", move)
    assert runs.request_cancel(run=run).status == SyncRun.Status.CANCELLED


def test_a_worker_that_no_longer_owns_its_run_does_not_mark_the_account(emulator) -> None:
    account = _account("owned@example.com")
    run = _start(account, run_to_completion=True, enqueue=False)
    runner = engine.SliceRunner(run.pk, worker_id="gone")
    runner.run_obj = run
    runner.account = account
    result = runner._fail("revoked", account_error=True)  # the run is not this worker's
    account.refresh_from_db()
    assert result.outcome == "lost" and account.status == GmailAccount.Status.CONNECTED


def test_a_ctrl_c_pause_is_held_until_an_operator_resumes_it(emulator, settings) -> None:
    """GIVEN a run paused by Ctrl-C (an operator's stop) WHEN the sweeper finds it old, or a
    redelivered slice tries to claim it THEN it stays paused; an operator's resume completes it."""
    account = _account()
    run = _start(account, run_to_completion=True, enqueue=False)

    def interrupt(current: SyncRun) -> None:
        raise KeyboardInterrupt

    assert engine.run_slice(run.pk, on_progress=interrupt).outcome == "interrupted"
    settings.SYNC_STALE_AFTER_SECONDS = 60
    SyncRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(seconds=120))
    assert sweep_stale_runs()["requeued"] == []
    assert engine.run_slice(run.pk).outcome == "not_claimed"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.PAUSED and run.held
    resume_run(run=run)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED and not run.held
    _assert_exact(run)


def test_the_heartbeat_moves_before_every_wait_for_gmail(emulator, settings) -> None:
    """GIVEN Gmail refusing calls for quota, so the client waits between attempts, each wait as
    long as the stale period WHEN a slice runs THEN before every wait the run's heartbeat is fresh
    in the database, so the sweeper never takes a live worker's run."""
    emulator.options.quota_units_per_second = 400  # the client's budget is far above it: 429s
    settings.SYNC_STALE_AFTER_SECONDS = 60
    import time as real_time

    seen: list[float] = []

    def factory(account: GmailAccount) -> GmailClient:
        def sleep(delay: float) -> None:
            beat = SyncRun.objects.values_list("last_heartbeat_at", flat=True).get(pk=run.pk)
            seen.append((timezone.now() - beat).total_seconds())
            # As if this wait lasted the whole stale period: only the next beat makes it fresh.
            SyncRun.objects.filter(pk=run.pk).update(last_heartbeat_at=timezone.now() - timedelta(seconds=61))
            real_time.sleep(min(delay, 0.3))

        return GmailClient(refresh_token=account.refresh_token, account_key=f"beat:{account.pk}", sleep=sleep)

    account = _account()
    run = _start(account, run_to_completion=True, enqueue=False, from_date=FROM, to_date=FROM + timedelta(days=40))
    result = engine.run_slice(run.pk, client_factory=factory)
    assert result.outcome == "completed", result
    assert len(seen) >= 2 and max(seen) < 5


def test_a_task_past_its_soft_time_limit_hands_its_run_on_from_the_checkpoint(emulator) -> None:
    """GIVEN Celery's soft time limit raised inside a slice WHEN the slice stops THEN the run is
    paused (not held, not failed) at its checkpoint and its next slice is chained."""
    from celery.exceptions import SoftTimeLimitExceeded

    account = _account()
    run = _start(account, run_to_completion=True, enqueue=False)
    chained: list[int] = []

    def over_time(current: SyncRun) -> None:
        if current.messages_scanned >= 100:
            raise SoftTimeLimitExceeded()

    result = engine.run_slice(run.pk, on_progress=over_time, chain=lambda run_id, *wait: chained.append(run_id))
    run.refresh_from_db()
    assert (result.outcome, run.status, run.held, chained) == ("paused", SyncRun.Status.PAUSED, False, [run.pk])
    assert run.messages_scanned >= 100 and run.error_message == ""
    engine.run_slice(run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    _assert_exact(run)


def test_a_runs_working_time_leaves_out_the_time_between_slices(emulator, settings) -> None:
    """GIVEN slices of 1 second with 2 seconds between them (a queue, a countdown)
    WHEN the run completes THEN its working time is what its slices took, not its wall time, and
    its rate is the messages over that working time."""
    import time as clock

    emulator.options.latency_ms = (40, 60)
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = 1600
    run = _start(_account("gaps@example.com"), run_to_completion=False, max_seconds_per_run=1, enqueue=False)
    while engine.run_slice(run.pk).outcome == "paused":
        clock.sleep(2)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED and run.slices_count >= 3
    wall = (run.finished_at - run.started_at).total_seconds()
    gaps = 2 * (run.slices_count - 1)
    assert 0 < run.running_seconds <= wall - gaps + 0.5, (run.running_seconds, wall)
    assert run.running_seconds >= 0.8 * (run.slices_count - 1)  # every slice but the last ran its second
    assert run.messages_per_second == round(run.messages_scanned / run.running_seconds, 2)
