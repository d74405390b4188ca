"""Receipts first: a range scan reads the likely receipts, then the rest, through two disjoint
Gmail searches, and ends exactly where a scan in date order ends."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from gmail_sync import engine
from gmail_sync.emulator.search import parse_query
from gmail_sync.likely import likely_query, query_for_account
from gmail_sync.models import GmailAccount, SyncRun
from gmail_sync.services import resume_run, sync_start
from gmail_sync.status import run_status
from receipts.models import ExaminedMessage, Receipt
from tests.conftest import SAMPLE_END
from tests.factories import GmailAccountFactory, ReceiptFactory

pytestmark = pytest.mark.django_db(transaction=True)
FROM = SAMPLE_END - timedelta(days=370)
COUNTERS = ("messages_scanned", "saved_receipts", "skipped_count", "errors_count", "already_stored")


@pytest.fixture(autouse=True)
def _inline_celery(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _account(email: str) -> GmailAccount:
    return GmailAccountFactory(email=email, refresh_token="demo-refresh-token")


def _receipts(account: GmailAccount) -> set[tuple[Any, ...]]:
    return set(Receipt.objects.filter(account=account).values_list(
        "gmail_message_id", "amount", "currency", "vendor", "receipt_date", "invoice_number"))


def _drive(run: SyncRun) -> list[tuple[int, int, str]]:
    """Run every slice in this process; (examined, saved, phase) at each commit."""
    seen: list[tuple[int, int, str]] = []
    while True:
        result = engine.run_slice(run.pk, on_progress=lambda r: seen.append((r.messages_scanned, r.saved_receipts, r.phase)))
        if result.outcome != "paused":
            break
    assert result.outcome == "completed", result
    return seen


def test_receipts_first_saves_most_receipts_early_and_ends_like_a_date_order_run(emulator) -> None:
    """GIVEN the sample mailbox (about 15% receipts)
    WHEN it is backfilled in date order, and again receipts first
    THEN both end with the same receipts and counters and fetch every message once; receipts
    first has saved >= 90% of its receipts by the time it has examined 20% of the messages."""
    in_order = _account("in-order@example.com")
    run = sync_start(account=in_order, mode="full_backfill", from_date=FROM, to_date=timezone.localdate(),
                     run_to_completion=True, receipts_first=False, enqueue=False)
    assert run.phase == "" and run.likely_query == ""
    order_progress = _drive(run)
    run.refresh_from_db()
    emulator.reset_counts()

    first = _account("first@example.com")
    fast = sync_start(account=first, mode="full_backfill", from_date=FROM, to_date=timezone.localdate(),
                      run_to_completion=True, max_seconds_per_run=None, receipts_first=True, enqueue=False)
    assert fast.phase == SyncRun.Phase.LIKELY and fast.likely_query.startswith("{has:attachment ")
    progress = _drive(fast)
    fast.refresh_from_db()

    assert fast.status == SyncRun.Status.COMPLETED and fast.phase == SyncRun.Phase.REST
    assert {name: getattr(fast, name) for name in COUNTERS} == {name: getattr(run, name) for name in COUNTERS}
    assert max(emulator.fetches.values()) == 1, "no message is read twice"
    assert sum(emulator.fetches.values()) == fast.messages_scanned
    assert _receipts(first) and _receipts(first) == _receipts(in_order)

    def saved_at(share: float, seen: list[tuple[int, int, str]]) -> int:
        return max((saved for scanned, saved, _ in seen if scanned <= share * fast.messages_scanned), default=0)

    assert saved_at(0.2, progress) >= 0.9 * fast.saved_receipts
    assert saved_at(0.2, order_progress) < 0.5 * run.saved_receipts, "date order is no head start"
    assert {phase for _, _, phase in progress} == {"likely", "rest"}


def test_the_two_searches_are_disjoint_and_cover_the_range(emulator) -> None:
    """Every message of the mailbox is matched by exactly one of the likely search and its rest."""
    query = likely_query(["billing@zoom.us"])
    likely, rest = parse_query(query), parse_query(f"-{query}")
    sides = Counter()
    for message in emulator.mailbox.all():
        searchable = message.searchable()
        hits = (likely.matches(searchable), rest.matches(searchable))
        assert hits in {(True, False), (False, True)}
        sides[hits[0]] += 1
    assert sides[True] and sides[False]


def test_vendors_whose_receipts_the_words_miss_join_the_likely_search_and_the_query_stays_bounded(emulator) -> None:
    account = _account("vendors@example.com")
    ReceiptFactory(account=account, sender_email="billing@zoom.us", subject="Your Zoom account, March")
    ReceiptFactory(account=account, sender_email="noreply@uber.com", subject="Your receipt from Uber")
    ReceiptFactory(account=account, sender_email='odd "name"@example.com', subject="Thanks")  # cannot stand in a query
    query = query_for_account(account)
    assert "from:billing@zoom.us" in query, "its receipts say no document word: only its address finds them"
    assert "from:noreply@uber.com" not in query, "the words find its receipts; its address would add its newsletters"
    assert "odd" not in query
    many = likely_query([f"vendor{i}@billing-{i}.example.com" for i in range(500)])
    assert len(many) <= 2502 and many.endswith("}")


def test_a_receipts_first_run_killed_in_each_phase_resumes_to_the_same_end(emulator) -> None:
    """A slice that dies (no pause written) in the likely phase, and again in the rest, is
    taken over from its checkpoint; the run ends with the receipts of an undisturbed run."""
    clean = _account("clean-first@example.com")
    _drive(sync_start(account=clean, mode="full_backfill", from_date=FROM, to_date=timezone.localdate(),
                      run_to_completion=True, enqueue=False))
    emulator.reset_counts()
    account = _account("killed-first@example.com")
    run = sync_start(account=account, mode="full_backfill", from_date=FROM, to_date=timezone.localdate(),
                     run_to_completion=True, enqueue=False)
    for phase in ("likely", "rest"):
        commits = {"n": 0}

        def die(current: SyncRun, phase: str = phase, commits: dict[str, int] = commits) -> None:
            if current.phase == phase:
                commits["n"] += 1
                if commits["n"] == 3:
                    raise SystemExit("worker killed")

        with pytest.raises(SystemExit):
            engine.run_slice(run.pk, on_progress=die)
        run.refresh_from_db()
        assert run.status == SyncRun.Status.RUNNING and run.phase == phase
        SyncRun.objects.filter(pk=run.pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
        run.refresh_from_db()
        resume_run(run=run, enqueue=False)
    _drive(run)
    run.refresh_from_db()
    assert _receipts(account) == _receipts(clean)
    assert run.saved_receipts == len(_receipts(clean))
    assert run.messages_scanned == run.saved_receipts + run.skipped_count + run.errors_count + run.already_stored
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger, killed twice"
    status = run_status(run)
    assert status["checkpoint"]["phase"] == "rest"
    assert status["progress"]["receipts_found"] == run.saved_receipts + run.already_stored


def test_a_resync_counts_stored_receipts_as_already_stored_not_skipped(emulator) -> None:
    account = _account("twice@example.com")
    first = sync_start(account=account, mode="full_backfill", from_date=FROM, to_date=timezone.localdate(),
                       run_to_completion=True, enqueue=False)
    _drive(first)
    first.refresh_from_db()
    again = sync_start(account=account, mode="full_backfill", from_date=FROM, to_date=timezone.localdate(),
                       run_to_completion=True, enqueue=False)
    _drive(again)
    again.refresh_from_db()
    assert again.saved_receipts == 0
    assert again.already_stored == first.saved_receipts > 0
    assert again.skipped_count == first.skipped_count
    progress = run_status(again)["progress"]
    assert progress["already_stored"] == first.saved_receipts
    assert set(progress) >= {"messages_scanned", "saved_receipts", "skipped_count", "errors_count"}
