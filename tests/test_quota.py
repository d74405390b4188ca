"""The project's Gmail quota, one budget for every account, worker and machine (through Redis)."""
from __future__ import annotations

import logging
import os
import socket

import pytest

from gmail_sync import quota
from gmail_sync.client import TokenBucket
from tests.fakes import FakeClock

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                 reason="needs Redis (REDIS_URL); .ci/run sets it")


def _fresh(rate: float, **kwargs) -> quota.SharedBudget:
    budget = quota.SharedBudget(rate, redis_url=os.environ["REDIS_URL"], **kwargs)
    import redis

    redis.Redis.from_url(budget.redis_url).delete(budget.key)
    return budget


def test_the_project_budget_comes_from_the_model_and_fits_its_minute(settings) -> None:
    """At 1,200,000 units a minute, spent with a one-second burst, no minute spends more, with a
    margin of about 1% (the time a reserved call takes to reach Gmail) and no more than 3%."""
    settings.GMAIL_QUOTA_MODEL, settings.GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND = "2026", None
    rate = quota.per_project_budget()
    assert rate is not None and 0.97 * 1_200_000 <= rate * 60 and rate * 61 <= 0.995 * 1_200_000
    settings.GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND = 500.0
    assert quota.per_project_budget() == 500.0
    settings.GMAIL_QUOTA_MODEL, settings.GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND = "legacy", None
    assert quota.per_project_budget() is None


@needs_redis
def test_two_holders_of_the_budget_draw_on_the_same_units() -> None:
    """GIVEN two handles on a 100-units-a-second budget, as two worker processes have
    WHEN one spends the second's burst THEN the other waits for the refill, and each wait is
    what the units asked for need, in the order they were asked."""
    slept: list[float] = []
    first = _fresh(100, sleep=slept.append)
    second = quota.SharedBudget(100, redis_url=first.redis_url, sleep=slept.append)
    assert first.acquire(100) == 0
    assert second.acquire(50) == pytest.approx(0.5, abs=0.05)
    # Reserved, not retried: the next caller queues behind the first one's 50 units.
    assert first.acquire(50) == pytest.approx(1.0, abs=0.05)
    assert sum(slept) == pytest.approx(1.5, abs=0.1)


@needs_redis
def test_a_long_wait_for_the_project_budget_keeps_the_run_alive() -> None:
    """A wait is slept in steps of at most ten seconds, each announced first (the run's heartbeat)."""
    heard: list[float] = []
    budget = _fresh(10, sleep=lambda seconds: None)
    budget.acquire(10)
    assert budget.acquire(250, on_wait=heard.append) == pytest.approx(25, abs=0.1)
    assert len(heard) == 3 and max(heard) <= 10


def test_without_redis_the_budget_is_kept_by_the_process_and_said_so(caplog) -> None:
    """GIVEN a Redis that does not answer WHEN units are taken THEN the process's own bucket keeps
    the budget (the run goes on), the log says so once, and Redis is not asked again at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    clock = FakeClock()
    local = TokenBucket(100, clock=clock, sleep=clock.sleep)
    budget = quota.SharedBudget(100, redis_url=f"redis://127.0.0.1:{port}/0", local=local)
    with caplog.at_level(logging.WARNING, logger="gmail_sync.quota"):
        assert budget.acquire(100) == 0
        assert budget.acquire(50) == pytest.approx(0.5, abs=0.05)
    assert clock.slept and [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "Redis is unreachable" in caplog.records[0].message
