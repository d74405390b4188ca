"""Sender rules: reading a business's rules for a sync, and applying one to what is stored."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import ExaminedMessage, Receipt, SenderRule
from .senders import NOT_RECEIPT, RECEIPT

logger = logging.getLogger(__name__)

# "Apply to stored" fetches each skipped message a RECEIPT rule now covers: at most this many a
# call (about 10 seconds of one mailbox's Gmail quota at the 2026 limit: a request, not a job); the answer
# says how many are left.
APPLY_FETCH_MAX = 50


@dataclass(frozen=True)
class RuleView:
    decision: str
    vendor: str
    sender: str


def rules_of_business(business_id: int) -> dict[str, RuleView]:
    """The business's rules by sender, as a sync applies them (read once a slice)."""
    return {rule.sender: RuleView(rule.decision, rule.vendor, rule.sender)
            for rule in SenderRule.objects.filter(business_id=business_id)}


def sender_q(sender: str, field_name: str = "sender_email") -> Q:
    """Rows whose sender the rule's sender covers: the address, or the domain and its subdomains."""
    if sender.startswith("@"):
        return Q(**{f"{field_name}__iendswith": sender}) | Q(**{f"{field_name}__iendswith": "." + sender[1:]})
    return Q(**{f"{field_name}__iexact": sender})


@dataclass
class Applied:
    """What applying a rule to stored mail changed."""

    rejected: int = 0
    renamed: int = 0
    stored: int = 0
    already_receipts: int = 0
    not_fetchable: int = 0
    failed: int = 0
    remaining: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rejected": self.rejected, "renamed": self.renamed, "stored": self.stored,
                "already_receipts": self.already_receipts, "not_fetchable": self.not_fetchable,
                "failed": self.failed, "remaining": self.remaining, "errors": self.errors[:10]}


def rule_apply(*, rule: SenderRule, client_factory: Callable[..., Any] | None = None,
               fetch_max: int = APPLY_FETCH_MAX) -> Applied:
    """Re-decide what is already stored by the rule, fetching nothing that is a receipt already.

    - ``not_receipt``: the sender's pending receipts are rejected (a person's approval stands).
    - ``receipt``: the sender's skipped messages (the ledger's) that are not receipts are fetched
      once each and stored (at most ``fetch_max`` a call; ``remaining`` says how many are left).
    - a vendor: the sender's receipts take it, unless a person edited their vendor.
    """
    from gmail_sync.services import AccountNotConnected, NotFetchable, mark_as_receipt

    applied = Applied()
    receipts = Receipt.objects.filter(account__business_id=rule.business_id).filter(sender_q(rule.sender))
    now = timezone.now()
    if rule.decision == NOT_RECEIPT:
        applied.rejected = receipts.filter(review_status=Receipt.ReviewStatus.PENDING).update(
            review_status=Receipt.ReviewStatus.REJECTED, reviewed_at=now, updated_at=now)
    if rule.vendor:
        applied.renamed = _rename(receipts, rule.vendor)
    if rule.decision == RECEIPT:
        skipped = _skipped_not_stored(rule)
        from_files = Q(gmail_message_id__startswith="mbox-") | Q(gmail_message_id__startswith="byte:")
        applied.not_fetchable = skipped.filter(from_files).count()  # mail of an mbox file: not in Gmail to fetch
        skipped = skipped.exclude(from_files)
        applied.remaining = max(0, skipped.count() - fetch_max)
        for entry in skipped[:fetch_max]:
            try:
                receipt, created = mark_as_receipt(entry=entry, client_factory=client_factory, approve=False,
                                                reason=f"sender rule: mail from {rule.sender} is a receipt")
            except NotFetchable:
                applied.not_fetchable += 1
                continue
            except AccountNotConnected as exc:
                applied.failed += 1
                applied.errors.append(str(exc))
                continue
            except Exception as exc:  # one message's trouble (gone from Gmail, unreadable): the rest go on
                logger.warning("sender rule %s: message %s could not be stored (%s)", rule.pk, entry.gmail_message_id,
                               type(exc).__name__)
                applied.failed += 1
                applied.errors.append(f"{entry.gmail_message_id}: {type(exc).__name__}")
                continue
            if created:
                applied.stored += 1
            else:
                applied.already_receipts += 1
            if rule.vendor and "vendor" not in receipt.edited_fields and receipt.vendor != rule.vendor:
                Receipt.objects.filter(pk=receipt.pk).update(vendor=rule.vendor)
    return applied


def _rename(receipts: QuerySet[Receipt], vendor: str) -> int:
    """Give the receipts the rule's vendor, except those whose vendor a person edited."""
    ids = [pk for pk, edited in receipts.exclude(vendor=vendor).values_list("pk", "edited_fields")
           if "vendor" not in edited]
    with transaction.atomic():
        return Receipt.objects.filter(pk__in=ids).update(vendor=vendor, updated_at=timezone.now())


def _skipped_not_stored(rule: SenderRule) -> QuerySet[ExaminedMessage]:
    """The newest ledger row of each skipped message from the rule's sender that is not a receipt."""
    stored = Receipt.objects.filter(account__business_id=rule.business_id).values("account_id", "gmail_message_id")
    rows = (ExaminedMessage.objects.filter(account__business_id=rule.business_id, verdict="skipped")
            .filter(sender_q(rule.sender))
            .exclude(gmail_message_id__in=stored.values("gmail_message_id")))
    newest = rows.order_by("account_id", "gmail_message_id", "-id")
    seen: set[tuple[int, str]] = set()
    ids: list[int] = []
    for pk, account_id, message_id in newest.values_list("pk", "account_id", "gmail_message_id").iterator():
        if (account_id, message_id) not in seen:
            seen.add((account_id, message_id))
            ids.append(pk)
    return ExaminedMessage.objects.filter(pk__in=ids).select_related("account").order_by("-received_at", "-id")
