"""Runs over a mailbox that changes under them, as a real one does: mail deleted, moved into and
out of spam, new mail arriving, page tokens that expire, against the emulator over loopback."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from gmail_sync import engine
from gmail_sync.models import SyncRun
from gmail_sync.services import resume_run, sync_start
from receipts.models import Receipt
from tests.conftest import SAMPLE_END
from tests.factories import GmailAccountFactory
from tests.test_sync_engine import _assert_exact, _chat_mail, _receipt_mail

pytestmark = pytest.mark.django_db(transaction=True)
FROM = SAMPLE_END - timedelta(days=370)


@pytest.fixture(autouse=True)
def _inline_celery(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _account(email: str = "owner@example.com"):
    return GmailAccountFactory(email=email, refresh_token="demo-refresh-token")


def _in_range(emulator) -> set[str]:
    return {m.id for m in emulator.mailbox.all() if not {"SPAM", "TRASH", "DRAFT"} & set(m.label_ids)}


def test_an_incremental_sync_reads_the_mail_a_range_scan_reads(emulator) -> None:
    """GIVEN, after a full sync, a receipt in the inbox, one delivered to spam, one moved to spam,
    one moved out of spam, a draft, and one deleted before the sync WHEN an incremental sync
    reads Gmail's history THEN it saves the inbox receipt and the one out of spam, examines
    nothing else, and counts no error for the deleted one."""
    account = _account()
    sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=timezone.localdate(),
               run_to_completion=True)
    box, now = emulator.mailbox, timezone.now()
    inbox = box.add(_receipt_mail("Your receipt from Zoom #31", "$31.00", now)).id
    in_spam = box.add(_receipt_mail("Your receipt from Zoom #32", "$32.00", now), labels=["SPAM"]).id
    to_spam = box.add(_receipt_mail("Your receipt from Zoom #33", "$33.00", now)).id
    box.modify(to_spam, add=["SPAM"], remove=["INBOX"])
    out_of_spam = box.add(_receipt_mail("Your receipt from Zoom #34", "$34.00", now), labels=["SPAM"]).id
    box.modify(out_of_spam, add=["INBOX"], remove=["SPAM"])
    draft = box.add(_receipt_mail("Your receipt from Zoom #35", "$35.00", now), labels=["DRAFT"]).id
    deleted = box.add(_receipt_mail("Your receipt from Zoom #36", "$36.00", now)).id
    box.delete(deleted)
    emulator.reset_counts()
    run = sync_start(account=account, mode=SyncRun.Mode.INCREMENTAL, run_to_completion=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED and run.start_history_id
    assert (run.messages_scanned, run.saved_receipts, run.errors_count) == (2, 2, 0)
    stored = set(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True))
    assert {inbox, out_of_spam} <= stored
    assert not {in_spam, to_spam, draft, deleted} & stored
    # Mail moved to spam after it arrived may be fetched (its history says it arrived in the
    # inbox) and is then left out by its labels; what never was in the range is not fetched.
    assert {inbox, out_of_spam} <= set(emulator.fetches) <= {inbox, out_of_spam, to_spam}
    assert not {in_spam, draft, deleted} & (set(emulator.fetches) | set(emulator.failed_fetches))
    _assert_exact(run)


def test_a_message_deleted_between_listing_and_fetching_is_not_counted(emulator, monkeypatch) -> None:
    """GIVEN a range scan that has listed a window WHEN a message of it is deleted before its
    batch is fetched THEN the run completes with that message neither scanned nor an error."""
    account = _account()
    gone: list[str] = []
    real = engine.SliceRunner._fetch_in_order

    def delete_the_last(runner, ids):
        if not gone and len(ids) > 1:
            gone.append(ids[-1])
            emulator.mailbox.delete(ids[-1])
        return real(runner, ids)

    monkeypatch.setattr(engine.SliceRunner, "_fetch_in_order", delete_the_last)
    expected = len(_in_range(emulator)) - 1
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=SAMPLE_END,
                     run_to_completion=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert (run.messages_scanned, run.errors_count) == (expected, 0)
    assert emulator.failed_fetches[gone[0]] == 1  # it was asked for, and answered 404
    _assert_exact(run)


def test_a_resume_after_its_cursor_was_deleted_counts_nothing_twice(emulator) -> None:
    """GIVEN a run interrupted after a commit WHEN the last message it committed is deleted
    before it resumes THEN the resumed run goes on after it: every message is fetched once and
    the counters are those of a run that was never interrupted."""
    account = _account()
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=SAMPLE_END,
                     run_to_completion=True, enqueue=False)
    expected = len(_in_range(emulator))

    def interrupt(current: SyncRun) -> None:
        if current.messages_scanned >= 40:
            current.refresh_from_db()
            emulator.mailbox.delete(current.page_cursor)
            raise KeyboardInterrupt

    assert engine.run_slice(run.pk, on_progress=interrupt).outcome == "interrupted"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.PAUSED and run.page_cursor not in _in_range(emulator)
    resume_run(run=run, enqueue=False)
    engine.run_slice(run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert run.messages_scanned == expected  # the deleted one was examined before it went
    assert max(emulator.fetches.values()) == 1
    _assert_exact(run)


def test_a_page_token_gmail_no_longer_accepts_restarts_its_month(emulator) -> None:
    """GIVEN a paused run whose checkpoint holds a Gmail page token from before windows (or one
    Gmail has forgotten) WHEN it resumes THEN it reads that month again from its start and
    completes, storing no receipt twice."""
    clean = _account("clean@example.com")
    sync_start(account=clean, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=SAMPLE_END,
               run_to_completion=True)
    account = _account()
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=SAMPLE_END,
                     run_to_completion=True, enqueue=False)
    engine.run_slice(run.pk, on_progress=lambda current: (_ for _ in ()).throw(KeyboardInterrupt)
                     if current.messages_scanned >= 150 else None)
    run.refresh_from_db()
    month = run.current_month
    SyncRun.objects.filter(pk=run.pk).update(last_page_token="CAIQ-an-expired-gmail-token", page_ids=[])
    resume_run(run=run, enqueue=False)
    engine.run_slice(run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert month and run.messages_scanned >= len(_in_range(emulator))
    ids = list(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True))
    assert len(ids) == len(set(ids))
    assert set(ids) == set(Receipt.objects.filter(account=clean).values_list("gmail_message_id", flat=True))


def test_a_sliced_run_over_a_changing_mailbox_examines_what_stayed_once_with_exact_counters(emulator, settings,
                                                                                           monkeypatch) -> None:
    """GIVEN a run in one-second slices, and at each commit one change to the mailbox: a message
    ahead deleted, one moved to spam, one moved out of spam, one new message in the range, and
    page tokens that expire in a tenth of a second, and pages of ten WHEN it runs to the end THEN every message
    that stayed in the range throughout is fetched exactly once, no receipt is stored twice, and
    the counters are exact."""
    emulator.options.latency_ms = (20, 30)
    emulator.options.page_token_lifetime_seconds = 0.1
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = 1600
    monkeypatch.setattr(engine, "PAGE_SIZE", 10)  # a month is then many pages (or windows)
    box = emulator.mailbox
    account = _account()
    run = sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=FROM, to_date=SAMPLE_END,
                     run_to_completion=False, max_seconds_per_run=1, enqueue=False)
    at_start = _in_range(emulator)
    spam = sorted(m.id for m in box.all() if "SPAM" in m.label_ids)
    touched: set[str] = set()
    step = Counter()

    def change(current: SyncRun) -> None:
        step["n"] += 1
        ahead = sorted(at_start - set(emulator.fetches) - touched)
        kind = step["n"] % 4
        if kind == 0 and ahead:
            touched.add(ahead[0])
            box.delete(ahead[0])
        elif kind == 1 and ahead:
            touched.add(ahead[-1])
            box.modify(ahead[-1], add=["SPAM"], remove=["INBOX"])
        elif kind == 2 and spam:
            moved = spam.pop()
            touched.add(moved)
            box.modify(moved, add=["INBOX"], remove=["SPAM"])
        else:
            when = datetime(SAMPLE_END.year, SAMPLE_END.month, 1, 12, tzinfo=UTC) - timedelta(days=40)
            touched.add(box.add(_chat_mail(f"new {step['n']}", when)).id)

    slices = 0
    while run.status in SyncRun.ACTIVE_STATUSES and slices < 200:
        engine.run_slice(run.pk, on_progress=change)
        run.refresh_from_db()
        slices += 1
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert run.slices_count > 2 and step["n"] > 8
    stayed = at_start - touched
    assert stayed and all(emulator.fetches[mid] == 1 for mid in stayed)
    assert max(emulator.fetches.values()) == 1
    ids = list(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True))
    assert len(ids) == len(set(ids))
    assert run.errors_count == 0
    _assert_exact(run)
