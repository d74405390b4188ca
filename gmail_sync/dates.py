"""Date ranges as the business means them (inclusive calendar days in TIME_ZONE) and as Gmail
needs them (epoch seconds: Gmail reads ``after:YYYY/MM/DD`` as midnight Pacific time, which is
the wrong day for most of the world).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

# Gmail opened on 1 April 2004; a range that starts before it holds no mail, and a date far
# before it (year 1) makes the search's epoch seconds meaningless.
EARLIEST = date(2004, 1, 1)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    return timezone.localdate(timezone=zone())


def day_start_epoch(day: date) -> int:
    """Epoch seconds of midnight at the start of ``day`` in TIME_ZONE."""
    return int(datetime(day.year, day.month, day.day, tzinfo=zone()).timestamp())


def window(from_date: date, to_date: date) -> tuple[int, int]:
    """``[start, end)`` in epoch seconds covering ``from_date``..``to_date`` inclusive."""
    return day_start_epoch(from_date), day_start_epoch(to_date + timedelta(days=1))


def gmail_query(from_date: date, to_date: date) -> str:
    """The ``q`` of messages.list for an inclusive range of days.

    ``after:`` is given one second early and ``before:`` at the next midnight, so the range is
    whole whether Gmail treats the bounds as inclusive or not; the sync drops the rare message
    that lands exactly on a bound of a neighbouring window by its ``internalDate``.
    """
    start, end = window(from_date, to_date)
    return f"after:{start - 1} before:{end}"


def months_back_range(months_back: int, *, end: date | None = None) -> tuple[date, date]:
    """``months_back`` months ending today (inclusive), e.g. 36 months to 2026-11-30 starts 2023-12-01."""
    end = end or today()
    start = end - relativedelta(months=months_back) + timedelta(days=1)
    return start, end


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_between(from_date: date, to_date: date) -> list[str]:
    """Month keys ``YYYY-MM`` from the first to the last, oldest first."""
    keys = []
    cursor = from_date.replace(day=1)
    while cursor <= to_date:
        keys.append(month_key(cursor))
        cursor += relativedelta(months=1)
    return keys


def month_bounds(month: str, from_date: date, to_date: date) -> tuple[date, date]:
    """The days of ``month`` (``YYYY-MM``) that lie within ``from_date``..``to_date``."""
    year, number = (int(x) for x in month.split("-"))
    first = date(year, number, 1)
    last = first + relativedelta(months=1) - timedelta(days=1)
    return max(first, from_date), min(last, to_date)
