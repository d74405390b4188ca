"""A mailbox of hostile and odd mail (gmail_sync/emulator/hostile.py), each message between two
good receipts: the run completes, every good receipt is saved, every hostile message is counted
once, and nothing dies."""
from __future__ import annotations

import resource
import time
from collections.abc import Iterator

import pytest
from django.utils import timezone

from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox
from gmail_sync.emulator.hostile import good_receipt, hostile_messages
from gmail_sync.models import QuarantinedMessage, SyncRun
from gmail_sync.services import sync_start
from receipts.models import ExaminedMessage, Receipt
from tests.factories import GmailAccountFactory

NOW = timezone.localtime()  # its .date() is the local day a run's range is in


@pytest.fixture
def hostile_emulator(settings) -> Iterator[tuple[GmailEmulator, list[str], list[str]]]:
    box = Mailbox(address="owner@example.com")
    good: list[str] = []
    bad: list[str] = []
    number = 100
    for raw in hostile_messages(NOW).values():
        good.append(box.add(good_receipt(number, NOW)).id)
        bad.append(box.add(raw).id)
        number += 1
    good.append(box.add(good_receipt(number, NOW)).id)
    with GmailEmulator(box, EmulatorOptions(seed=3)) as emu:
        settings.GMAIL_API_ROOT_URL = emu.url
        settings.GOOGLE_TOKEN_URI = emu.token_uri
        settings.GMAIL_QUOTA_UNITS_PER_SECOND = 100000
        yield emu, good, bad


def _wait(run: SyncRun, seconds: float = 300) -> SyncRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in {SyncRun.Status.COMPLETED, SyncRun.Status.FAILED, SyncRun.Status.CANCELLED}:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {seconds} s")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["in the caller", "RUN_SYNCS_IN_THREAD", "sliced"])
def test_a_run_over_hostile_mail_saves_every_good_receipt_and_counts_every_message(hostile_emulator, settings,
                                                                                  mode: str) -> None:
    """GIVEN each hostile message between two good receipts WHEN a run reads them (to completion,
    in a thread of its own, or in one-second slices that resume from their checkpoints) THEN it
    completes, every message is fetched and counted once, every good receipt is saved, and the
    values of the hostile ones that are receipts are ones the database can hold."""
    emulator, good, bad = hostile_emulator
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no Celery worker here, with or without REDIS_URL
    settings.RUN_SYNCS_IN_THREAD = mode == "RUN_SYNCS_IN_THREAD"
    account = GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")
    started = time.monotonic()
    sliced = {"run_to_completion": False, "max_seconds_per_run": 1} if mode == "sliced" else {"run_to_completion": True}
    run = _wait(sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=NOW.date(), to_date=NOW.date(),
                           **sliced))
    assert run.status == SyncRun.Status.COMPLETED, run.error_message
    assert run.messages_scanned == len(good) + len(bad)  # each message once
    assert mode != "sliced" or run.slices_count > 1, run.slices_count  # it did pause and resume
    assert run.saved_receipts + run.skipped_count + run.errors_count + run.already_stored == run.messages_scanned
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger"
    stored = set(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True))
    assert set(good) <= stored  # every good receipt, on either side of every hostile message
    assert set(emulator.fetches) == set(good) | set(bad) and set(emulator.fetches.values()) == {1}  # none read twice
    for receipt in Receipt.objects.filter(account=account, gmail_message_id__in=bad):
        assert receipt.currency == "" or (len(receipt.currency) == 3 and receipt.currency.isupper())
        assert receipt.amount is None or abs(receipt.amount) < 10**10
    assert run.errors_count >= 3  # the nesting and the 20,000 parts refused, the bomb out of memory
    assert time.monotonic() - started < 600
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1_500_000  # KiB: this process stayed small


@pytest.mark.django_db(transaction=True)
def test_a_message_that_failed_twice_is_quarantined_and_never_fetched_or_read_again(settings) -> None:
    """GIVEN a PDF bomb between two good receipts WHEN three runs read the same day THEN the
    first two each fetch it and fail in the reader (one failure recorded each), and the third
    neither fetches nor reads it, counting it as one error, with the same counters."""
    box = Mailbox(address="owner@example.com")
    first = box.add(good_receipt(1, NOW)).id
    bomb = box.add(hostile_messages(NOW)["pdf bomb"]).id
    last = box.add(good_receipt(2, NOW)).id
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with GmailEmulator(box, EmulatorOptions(seed=4)) as emu:
        settings.GMAIL_API_ROOT_URL = emu.url
        settings.GOOGLE_TOKEN_URI = emu.token_uri
        settings.GMAIL_QUOTA_UNITS_PER_SECOND = 100000
        account = GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")
        for number in (1, 2, 3):
            run = _wait(sync_start(account=account, mode=SyncRun.Mode.FULL_BACKFILL, from_date=NOW.date(),
                                   to_date=NOW.date(), run_to_completion=True))
            assert run.status == SyncRun.Status.COMPLETED, run.error_message
            assert (run.messages_scanned, run.errors_count) == (3, 1)
            held = QuarantinedMessage.objects.get(account=account, gmail_message_id=bomb)
            assert held.failures == min(number, 2) and "memory" in held.reason
            assert emu.fetches[bomb] == min(number, 2)  # the third run did not fetch it
            assert emu.fetches[first] == emu.fetches[last] == number
    assert set(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True)) == {first, last}
