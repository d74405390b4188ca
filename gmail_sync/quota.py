"""Gmail's quota models, in one place: what each method costs and what a user may spend.

``2026`` is what Google gives projects created since 1 May 2026 (and every project from 1 April
2027): 6,000 units per user per rolling minute and 1,200,000 per project per minute, with
``messages.get`` at 20 units. ``legacy`` is the older 250 units per user per second, get at 5.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuotaModel:
    name: str
    costs: dict[str, int]
    per_user_units_per_second: float  # what the client budgets: under the per-user limit in any window
    per_user_limit: float  # Gmail's per-user limit, in units per ``window_seconds``
    window_seconds: float
    per_project_units_per_minute: float | None = None  # Gmail's per-project limit
    per_project_units_per_second: float | None = None  # what the deployment budgets: under that limit

    def cost(self, method: str) -> int:
        return self.costs[method]


MODELS = {
    "2026": QuotaModel(
        name="2026",
        costs={"messages.list": 5, "messages.get": 20, "messages.attachments.get": 20, "history.list": 2,
               "getProfile": 1},
        # 98 a second with a one-second burst spends at most 98 * 61 = 5,978 units in any minute.
        per_user_units_per_second=98.0,
        per_user_limit=6000.0,
        window_seconds=60.0,
        per_project_units_per_minute=1_200_000.0,
        # 19,500 a second with a one-second burst spends at most 1,189,500 units in any minute: a
        # margin of 1% for the time between a reservation and the call reaching Gmail.
        per_project_units_per_second=19_500.0,
    ),
    "legacy": QuotaModel(
        name="legacy",
        costs={"messages.list": 5, "messages.get": 5, "messages.attachments.get": 5, "history.list": 2,
               "getProfile": 1},
        per_user_units_per_second=250.0,
        per_user_limit=250.0,
        window_seconds=1.0,
    ),
}


def current() -> QuotaModel:
    return MODELS[settings.GMAIL_QUOTA_MODEL]


def per_user_budget() -> float:
    """Units per second the client spends per account: the override, or the model's."""
    return settings.GMAIL_QUOTA_UNITS_PER_SECOND or current().per_user_units_per_second


def per_project_budget() -> float | None:
    """Units per second that every account of the project spends together, or None (no limit)."""
    if settings.GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND:
        return float(settings.GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND)
    return current().per_project_units_per_second


# A token bucket in one Redis hash: refilled at ``rate`` a second up to ``capacity`` (one second
# of it), by Redis's own clock, so every process and machine of the deployment draws on the same
# units. A caller reserves what it needs at once (the balance may go below zero) and is told how
# long to wait before spending it: one round trip per call, and callers are served in the order
# they asked, a batch of 40 gets as surely as one list call. In any window of T seconds at most
# capacity + rate * T units are spent.
_RESERVE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate) - cost
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class SharedBudget:
    """The project's quota, shared through Redis by every worker of the deployment.

    Gmail's per-project limit counts every account and every process together, so no process
    can keep it alone. Without Redis (``REDIS_URL`` unset, every task in one process) or while
    Redis cannot be reached, each process keeps the budget by itself and says so in its log:
    Gmail then answers the excess with 429s, which the client waits out.
    """

    KEY = "receipts-sync:gmail-project-quota"

    def __init__(self, rate: float, *, redis_url: str = "", local: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = float(rate)
        self.redis_url = redis_url
        self.local = local
        self._sleep = sleep
        self.key = f"{self.KEY}:{self.rate:g}"
        self._script: Any = None
        self._unreachable_until = 0.0

    def _reserve(self, cost: float) -> float | None:
        """Reserve ``cost`` units in Redis; the seconds to wait, or None when Redis cannot answer
        (then it is not asked again for a minute, so that each call does not wait for a timeout)."""
        import redis

        if time.monotonic() < self._unreachable_until:
            return None
        try:
            if self._script is None:
                client = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
                self._script = client.register_script(_RESERVE)
            return float(self._script(keys=[self.key], args=[self.rate, self.rate, cost]))
        except redis.RedisError as exc:
            logger.warning("the project's Gmail quota is kept by this process alone for a minute: Redis is "
                           "unreachable (%s)", type(exc).__name__)
            self._unreachable_until = time.monotonic() + 60
            return None

    def acquire(self, cost: float, *, on_wait: Callable[[float], None] | None = None) -> float:
        """Take ``cost`` units, waiting as long as the budget says; returns the seconds waited.
        ``on_wait`` hears of every wait before it starts (a run's heartbeat)."""
        wait = self._reserve(cost) if self.redis_url else None
        if wait is None:
            return self.local.acquire(cost) if self.local is not None else 0.0
        waited = 0.0
        while wait > 0:  # in steps, so that a long wait still shows the run alive
            step = min(wait, 10.0)
            if on_wait is not None:
                on_wait(step)
            self._sleep(step)
            waited += step
            wait -= step
        return waited


_project_budgets: dict[tuple[float, str], SharedBudget] = {}
_project_lock = threading.Lock()


def project_budget(local_bucket: Callable[[float], Any]) -> SharedBudget | None:
    """This process's handle on the project's budget (None when the model has no project limit).
    ``local_bucket(rate)`` makes the bucket used without Redis."""
    rate = per_project_budget()
    if rate is None:
        return None
    redis_url = settings.REDIS_URL
    with _project_lock:
        budget = _project_budgets.get((rate, redis_url))
        if budget is None:
            budget = _project_budgets[(rate, redis_url)] = SharedBudget(rate, redis_url=redis_url,
                                                                        local=local_bucket(rate))
        return budget
