"""The Gmail seam against the emulator, over loopback, with the real google-api-python-client."""
from __future__ import annotations

import base64
import time
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from gmail_sync import dates, quota
from gmail_sync.client import (
    AccessRevoked,
    GmailClient,
    GmailUnavailable,
    HistoryExpired,
    MessageNotFound,
    MessageTooLarge,
    TokenBucket,
)
from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox
from tests.fakes import FakeClock


def _client(emu: GmailEmulator, *, token: str = "demo-refresh-token", quota: float = 100000, key: str = "t", **kw):
    kw.setdefault("base_delay", 0.02)
    return GmailClient(refresh_token=token, account_key=key, api_root=emu.url, token_uri=emu.token_uri,
                       quota_units_per_second=quota, **kw)


def _list_all(client: GmailClient, q: str, page_size: int = 100) -> list[str]:
    ids, token = [], None
    while True:
        page = client.list_messages(q=q, page_token=token, max_results=page_size)
        ids += page.ids
        token = page.next_page_token
        if not token:
            return ids


def _message(when: datetime, subject: str = "hello") -> bytes:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = "owner@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg.set_content("body")
    return msg.as_bytes()


def test_every_message_fetched_exactly_once_despite_faults_429s_and_short_tokens(big_mailbox) -> None:
    """GIVEN 20% faults, a quota below the client's budget and 30-second access tokens
    WHEN the client lists and batch-fetches the whole 3,000-message mailbox
    THEN every message arrives, and the emulator served each one exactly once."""
    box = Mailbox.from_path(big_mailbox, address="owner@example.com")
    options = EmulatorOptions(fault_rate=0.2, quota_units_per_second=6000, access_token_lifetime=30, seed=5,
                              retry_after_seconds=None)
    with GmailEmulator(box, options) as emu:
        client = _client(emu, quota=10000, key="faulty")
        expected = {m.id for m in box.all() if not {"SPAM", "TRASH"} & set(m.label_ids)}
        ids = _list_all(client, "", page_size=500)
        assert len(ids) == len(set(ids)) == len(expected)
        assert set(ids) == expected
        results = client.get_messages(ids)
        assert set(results) == expected
        assert all(isinstance(value, dict) and value["raw"] for value in results.values())
        assert set(emu.fetches) == expected
        assert max(emu.fetches.values()) == 1
        assert client.stats["retries"] > 0, "the faults should have forced retries"
        assert emu.token_grants["refresh_token"] >= 1
        limited = [s for s in (emu.calls["messages.get"],) if s > len(expected)]
        assert limited, "failed parts were retried, so there were more get calls than messages"


def test_quota_refusals_answered_as_403_in_batch_parts_are_waited_out(sample_mailbox) -> None:
    """GIVEN a quota below the client's budget whose refusals all come as Gmail's 403
    userRateLimitExceeded, inside batch parts WHEN the client fetches 150 messages THEN each
    arrives, fetched once, after the refused parts were retried."""
    box = Mailbox.from_path(sample_mailbox, address="owner@example.com")
    options = EmulatorOptions(quota_units_per_second=1000, rate_limit_403_share=1.0, seed=2)
    with GmailEmulator(box, options) as emu:
        client = _client(emu, quota=2000, key="403s", base_delay=0.2)
        ids = [m.id for m in box.search()][:150]
        results = client.get_messages(ids)
        assert all(isinstance(results[mid], dict) for mid in ids)
        assert emu.rate_limited_403 == emu.rate_limited > 0 and client.stats["retries"] > 0
        assert max(emu.fetches.values()) == 1 and set(emu.fetches) == set(ids)


@pytest.mark.parametrize(
    ("local_time", "inside"),
    [((2024, 3, 1, 0, 30), True), ((2024, 3, 31, 23, 30), True), ((2024, 4, 1, 0, 30), False),
     ((2024, 2, 29, 23, 30), False)],
)
def test_range_boundaries_are_calendar_days_in_time_zone(settings, local_time, inside) -> None:
    settings.TIME_ZONE = "Asia/Jerusalem"
    box = Mailbox(address="owner@example.com")
    message = box.add(_message(datetime(*local_time, tzinfo=ZoneInfo("Asia/Jerusalem"))))
    with GmailEmulator(box) as emu:
        ids = _list_all(_client(emu), dates.gmail_query(date(2024, 3, 1), date(2024, 3, 31)))
    assert (message.id in ids) is inside


def test_emulator_reads_bare_dates_as_pacific_midnight() -> None:
    box = Mailbox()
    # 08:30 UTC on 1 March is 00:30 Pacific (PST, UTC-8): inside after:2024/03/01.
    early = box.add(_message(datetime(2024, 3, 1, 7, 30, tzinfo=ZoneInfo("UTC"))))
    late = box.add(_message(datetime(2024, 3, 1, 8, 30, tzinfo=ZoneInfo("UTC"))))
    assert [m.id for m in box.search(q="after:2024/03/01")] == [late.id]
    assert [m.id for m in box.search(q="before:2024/03/01")] == [early.id]


def test_revoked_refresh_token_raises_access_revoked_without_retrying(emulator) -> None:
    emulator.revoke("demo-refresh-token")
    client = _client(emulator)
    with pytest.raises(AccessRevoked):
        client.list_messages(q="")
    assert emulator.token_grants["refresh_token"] == 1


def test_token_revoked_mid_batch_fetch_raises_access_revoked(emulator) -> None:
    emulator.options.access_token_lifetime = 1
    client = _client(emulator)
    ids = _list_all(client, "")[:10]
    emulator.revoke("demo-refresh-token")
    client.credentials.expiry = datetime(2000, 1, 1)  # force a refresh before the next call
    with pytest.raises(AccessRevoked):
        client.get_messages(ids)


def test_a_missing_message_is_that_messages_error(emulator) -> None:
    client = _client(emulator)
    ids = _list_all(client, "")[:5]
    results = client.get_messages([*ids, "0000000000000000"])
    assert isinstance(results["0000000000000000"], MessageNotFound)
    assert all(isinstance(results[i], dict) for i in ids)


def test_retry_after_is_honoured(emulator) -> None:
    emulator.options.quota_units_per_second = 5  # one call per second
    emulator.options.retry_after_seconds = 3
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(min(seconds, 1.2))

    client = _client(emulator, quota=100000, sleep=sleep, key="retry-after")
    client.list_messages(q="")
    client.list_messages(q="")  # the emulator's bucket is empty: 429 with Retry-After: 3
    assert slept and max(slept) >= 3


def test_transient_failures_past_the_budget_raise_unavailable(emulator) -> None:
    emulator.options.fault_rate = 1.0
    client = _client(emulator, max_attempts=3, sleep=lambda s: None)
    with pytest.raises(GmailUnavailable):
        client.list_messages(q="")
    with pytest.raises(GmailUnavailable):
        client.get_messages(["a", "b"])


def test_history_below_the_oldest_kept_id_is_expired(emulator) -> None:
    client = _client(emulator)
    start = client.get_profile()["historyId"]
    new = emulator.mailbox.add(_message(datetime(2025, 6, 1, 12, tzinfo=ZoneInfo("UTC"))))
    assert client.list_history(start_history_id=start).message_ids == [new.id]
    emulator.mailbox.expire_history()
    with pytest.raises(HistoryExpired):
        client.list_history(start_history_id=start)


def test_batches_fit_the_quota_and_gmails_limit(emulator, settings) -> None:
    # Four fifths of a second of quota at most, so the last parts are not refused for rounding.
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = None
    settings.GMAIL_QUOTA_MODEL = "2026"  # 98 units a second, 20 a get
    default = _client(emulator, quota=None, key="q2026")
    assert (default.bucket.rate, default.batch_size) == (98.0, 3)
    assert _client(emulator, quota=1000, key="q1000").batch_size == 40
    settings.GMAIL_QUOTA_MODEL = "legacy"  # 250 units a second, 5 a get
    assert _client(emulator, quota=None, key="qlegacy").batch_size == 40
    assert _client(emulator, quota=100, key="q100").batch_size == 16
    assert _client(emulator, quota=10000, key="q10k").batch_size == 50


def test_the_2026_budget_stays_under_the_per_user_minute_and_within_3_percent_of_it() -> None:
    """The client's bucket holds one second of its budget, so any window of W seconds spends at
    most budget x (W + 1): for the 2026 model that must fit 6,000 units in 60 seconds."""
    model = quota.MODELS["2026"]
    assert model.per_user_units_per_second * (model.window_seconds + 1) <= model.per_user_limit
    assert model.per_user_units_per_second >= 0.97 * model.per_user_limit / model.window_seconds
    assert model.cost("messages.get") == 20 and quota.MODELS["legacy"].cost("messages.get") == 5


def test_a_budget_that_fits_a_rolling_window_meets_no_429_and_reaches_its_ceiling() -> None:
    """GIVEN the emulator at the 2026 costs with a per-user limit over a rolling window (scaled
    down from 6,000 units a minute to 200 units in 2 seconds) and a client budgeted by the same
    rule as the model's default (limit / (window + 1), here 65 units a second)
    WHEN it lists and fetches 30 messages
    THEN Gmail never answers 429 and the fetch runs at no less than 90% of 65 / 20 messages a second."""
    box = Mailbox(address="owner@example.com")
    for n in range(30):
        box.add(_message(datetime(2024, 3, 1, 12, tzinfo=ZoneInfo("UTC")), f"n {n}"))
    options = EmulatorOptions(quota_model="2026", quota_units_per_minute=200, quota_window_seconds=2)
    with GmailEmulator(box, options) as emu:
        client = _client(emu, quota=65, key="steady-2026")
        ids = _list_all(client, "", page_size=500)
        started = time.monotonic()
        fetched = client.get_messages(ids)
        elapsed = time.monotonic() - started
    assert len(fetched) == 30 and all(isinstance(v, dict) for v in fetched.values())
    assert emu.rate_limited == 0 and client.stats["retries"] == 0
    assert 30 / elapsed >= 0.9 * 65 / 20, f"{30 / elapsed:.2f} messages a second"


def test_token_bucket_waits_for_units() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, clock=clock, sleep=clock.sleep)
    assert bucket.acquire(100) == 0
    assert bucket.acquire(50) == pytest.approx(0.5)
    clock.now += 0.2
    assert bucket.acquire(20) == pytest.approx(0.0)
    assert bucket.acquire(30) == pytest.approx(0.3)


def test_raw_format_is_the_original_message(emulator) -> None:
    client = _client(emulator)
    message_id = _list_all(client, "")[0]
    resource = client.get_message(message_id, fmt="raw")
    raw = base64.urlsafe_b64decode(resource["raw"])
    assert raw == emulator.mailbox.get(message_id).raw


def test_each_user_has_its_own_mailbox_and_quota() -> None:
    first, second = Mailbox(address="a@example.com"), Mailbox(address="b@example.com")
    first.add(_message(datetime(2024, 3, 1, 12, tzinfo=ZoneInfo("UTC")), "for a"))
    for n in range(3):
        second.add(_message(datetime(2024, 3, 2, 12, tzinfo=ZoneInfo("UTC")), f"for b {n}"))
    with GmailEmulator(first, EmulatorOptions(quota_units_per_second=10)) as emu:
        emu.add_user(second, "token-of-b")
        a = _client(emu, quota=10, key="user-a", sleep=lambda s: None, max_attempts=1)
        b = _client(emu, token="token-of-b", quota=10, key="user-b", sleep=lambda s: None, max_attempts=1)
        assert a.get_profile()["emailAddress"] == "a@example.com"
        assert b.get_profile()["emailAddress"] == "b@example.com"
        assert len(b.list_messages(q="").ids) == 3  # b's own bucket: a's calls did not use it up
        assert len(a.list_messages(q="").ids) == 1


def test_a_batch_that_answers_too_much_is_fetched_in_halves_and_a_message_too_large_alone_is_its_error(settings) -> None:
    """GIVEN GMAIL_BATCH_MAX_MB=1, six messages of about 300 KB and one of 2 MB
    WHEN the client fetches all seven in one call
    THEN every small one arrives whole, the large one is MessageTooLarge, no answer the client
    read was larger than the limit, and later batches start small."""
    settings.GMAIL_BATCH_MAX_MB = 1
    when = datetime(2024, 3, 1, 12, tzinfo=ZoneInfo("UTC"))
    box = Mailbox(address="owner@example.com")
    small = [box.add(_message(when, f"small {i}").replace(b"body", b"x" * 300_000)).id for i in range(6)]
    large = box.add(_message(when, "large").replace(b"body", b"y" * 2_000_000)).id
    with GmailEmulator(box, EmulatorOptions()) as emu:
        client = _client(emu, key="capped")
        fetched = client.get_messages([*small[:3], large, *small[3:]])
        assert isinstance(fetched[large], MessageTooLarge)
        for message_id in small:
            raw = base64.urlsafe_b64decode(fetched[message_id]["raw"] + "==")
            assert raw == box.get(message_id).raw
        assert client.stats["oversized_batches"] >= 3  # 7 → 3 + 4 → ... → the large one alone
        assert client._sized_batch < 7
        assert emu.fetches[large] >= 1 and all(emu.fetches[m] >= 1 for m in small)


def test_the_projects_limit_counts_every_user_together(settings) -> None:
    """GIVEN the emulator's project limit of 12 units a minute over two users, each with no limit
    of its own WHEN each lists once (5 units each) and one lists again THEN the third call is
    refused as Gmail refuses a project over its quota (429 rateLimitExceeded), counted apart."""
    settings.GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND = 1_000_000.0  # the client's own budget lets it through
    first, second = Mailbox(address="a@example.com"), Mailbox(address="b@example.com")
    first.add(_message(datetime(2024, 3, 1, 12, tzinfo=ZoneInfo("UTC")), "for a"))
    second.add(_message(datetime(2024, 3, 2, 12, tzinfo=ZoneInfo("UTC")), "for b"))
    with GmailEmulator(first, EmulatorOptions(quota_project_units_per_minute=12)) as emu:
        emu.add_user(second, "token-of-b")
        a = _client(emu, key="project-a", sleep=lambda s: None, max_attempts=1)
        b = _client(emu, token="token-of-b", key="project-b", sleep=lambda s: None, max_attempts=1)
        assert len(a.list_messages(q="").ids) == 1
        assert len(b.list_messages(q="").ids) == 1
        with pytest.raises(GmailUnavailable):
            a.list_messages(q="")
    assert (emu.rate_limited, emu.project_rate_limited, emu.rate_limited_403) == (1, 1, 0)
