"""Gmail's quota models, in one place: what each method costs and what a user may spend.

``2026`` is what Google gives projects created since 1 May 2026 (and every project from 1 April
2027): 6,000 units per user per rolling minute and 1,200,000 per project per minute, with
``messages.get`` at 20 units. ``legacy`` is the older 250 units per user per second, get at 5.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class QuotaModel:
    name: str
    costs: dict[str, int]
    per_user_units_per_second: float  # what the client budgets: under the per-user limit in any window
    per_user_limit: float  # Gmail's per-user limit, in units per ``window_seconds``
    window_seconds: float
    per_project_units_per_minute: float | None = None

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
