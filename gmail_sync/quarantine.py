"""Poison messages: each failure to read or store a message is kept, and a message that failed
``QuarantinedMessage.QUARANTINE_AFTER_FAILURES`` times is never fetched or read again: a resumed,
swept or later run counts it as one error of its own and goes on."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import GmailAccount, QuarantinedMessage, SyncRun

logger = logging.getLogger(__name__)


def record_failure(*, account: GmailAccount, run: SyncRun | None, message_id: str, reason: str) -> int:
    """Count one failure of a message (in a transaction of its own, so that it is kept even if
    the worker dies before its commit group); returns its failures so far."""
    reason = reason[:200]
    rows = QuarantinedMessage.objects.filter(account=account, gmail_message_id=message_id)
    with transaction.atomic():
        if not rows.update(failures=F("failures") + 1, reason=reason, last_run=run):
            try:
                with transaction.atomic():
                    QuarantinedMessage.objects.create(account=account, gmail_message_id=message_id, reason=reason,
                                                      last_run=run)
            except IntegrityError:  # another worker recorded it first
                rows.update(failures=F("failures") + 1, reason=reason, last_run=run)
    failures = rows.values_list("failures", flat=True).first() or 1
    if failures >= QuarantinedMessage.QUARANTINE_AFTER_FAILURES:
        logger.warning("message %s of account %s is quarantined after %d failures (%s)", message_id, account.pk,
                       failures, reason)
    return failures


def quarantined(*, account: GmailAccount, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are quarantined for ``account``."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(QuarantinedMessage.objects.filter(
        account=account, gmail_message_id__in=wanted, failures__gte=QuarantinedMessage.QUARANTINE_AFTER_FAILURES,
    ).values_list("gmail_message_id", flat=True))
