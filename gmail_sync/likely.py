"""The search that finds likely receipts, read first by a receipts-first range scan.

Reading a message costs 20 quota units, listing 500 ids costs 5: a scan that reads the likely
receipts of the whole range first saves most of them in its first minutes, then reads the rest
of the range through the same search negated. The two searches are disjoint and together are
the whole range, so every message is still examined exactly once. The query is fixed when a run
starts (``SyncRun.likely_query``): the senders known as vendors may grow while it runs, and the
rest must stay the complement of what was read first.

Everything here is one flat ``{...}`` of simple terms (Gmail's OR): an attachment, a document or
payment word in the subject or the text in English or Hebrew, a sender this business already
has receipts from that the words would miss, or an invoicing service that mails for its vendors.
"""
from __future__ import annotations

import re

from django.db.models import Count

from receipts.models import Receipt

from .models import GmailAccount

# Words and phrases of a receipt's subject (whole words, as Gmail matches them).
SUBJECT_TERMS = (
    "receipt", "receipts", "invoice", "invoices", "paid", "charged", "renewal", "renewed", "refund", "refunded",
    "transaction", "order", "purchase", "subscription", "trip", "ride", "tickets", "confirmed", "payment received", "payment confirmation", "payment successful", "order confirmation",
    "thanks for your order", "thank you for your order", "your purchase", "booking confirmation",
    "your trip", "your ride", "credit note", "statement of account",
    "קבלה", "קבלות", "הקבלה", "חשבונית", "חשבוניות", "החשבונית", "זיכוי", "אישור תשלום", "אישור הזמנה",
    "אישור עסקה", "חשבון עסקה", "התקבל תשלום", "חיוב", "הזמנה",
)
# Phrases that a receipt's body carries even when its subject does not say so.
BODY_TERMS = (
    '"total paid"', '"amount paid"', '"amount charged"', '"you paid"', '"tax invoice"', '"payment received"',
    '"order number"', '"total charged"',
    '"charged to"', '"grand total"', '"חשבונית מס"', '"סכום ששולם"', "אסמכתא",
)
# Services that send invoices and receipts in their clients' names (Israel first, then the world).
INVOICING_SENDERS = (
    "greeninvoice.co.il", "icount.co.il", "invoice4u.co.il", "ezcount.co.il", "rivhit.co.il", "cardcom.co.il",
    "sumit.co.il", "yeshinvoice.co.il", "tranzila.com", "paypal.com", "stripe.com", "paddle.com",
    "fastspring.com", "intuit.com", "freshbooks.com", "xero.com", "zohoinvoice.com", "chargebee.com",
)
_WORD = re.compile(r"\w+")
_SUBJECT_WORDS = tuple(" ".join(_WORD.findall(term)) for term in SUBJECT_TERMS)
# Senders already known to the business as vendors, most receipts first; the query stays short
# enough for Gmail (its search box takes a few thousand characters).
KNOWN_SENDERS_MAX = 100
QUERY_MAX_CHARS = 2500


def known_senders(account: GmailAccount) -> list[str]:
    """Addresses this account's business has receipts from that the words alone would miss (one
    of their receipts has no attachment and no subject term), most receipts first. A vendor whose
    receipts the words find already adds nothing but its newsletters to the likely search."""
    rows = (Receipt.objects.filter(account__business_id=account.business_id).exclude(sender_email="")
            .values("sender_email").annotate(n=Count("id")).order_by("-n", "sender_email")[:KNOWN_SENDERS_MAX * 3])
    senders = [row["sender_email"] for row in rows if _plain_address(row["sender_email"])]
    missed: set[str] = set()
    receipts = (Receipt.objects.filter(account__business_id=account.business_id, sender_email__in=senders)
                .annotate(files=Count("attachments")).values_list("sender_email", "subject", "files")
                .order_by("-id")[:20 * len(senders)])
    for sender, subject, files in receipts:
        if not files and not subject_matches(subject):
            missed.add(sender)
    return [sender.lower() for sender in senders if sender in missed][:KNOWN_SENDERS_MAX]


def subject_matches(subject: str) -> bool:
    """Whether a subject holds one of SUBJECT_TERMS as whole words (as Gmail matches them)."""
    words = f" {' '.join(_WORD.findall(subject.lower()))} "
    return any(f" {term} " in words for term in _SUBJECT_WORDS)


def _plain_address(address: str) -> bool:
    """An address that can stand in a query as it is (no spaces, quotes or braces)."""
    return "@" in address and not any(ch in address for ch in ' "(){}\\') and len(address) <= 120


def _subject(term: str) -> str:
    return f'subject:"{term}"' if " " in term else f"subject:{term}"


def likely_query(senders: list[str]) -> str:
    """The likely-receipts search for a business that knows ``senders`` as vendors."""
    return "{" + " ".join(likely_terms(senders)) + "}"


def likely_terms(senders: list[str]) -> list[str]:
    """The terms of the likely-receipts search, any one of which makes a message likely."""
    terms = ["has:attachment", *map(_subject, SUBJECT_TERMS), *BODY_TERMS,
             *(f"from:{domain}" for domain in INVOICING_SENDERS)]
    length = sum(len(term) + 1 for term in terms)
    for address in senders:
        term = f"from:{address}"
        if length + len(term) + 1 > QUERY_MAX_CHARS:
            break
        terms.append(term)
        length += len(term) + 1
    return terms


def query_for_account(account: GmailAccount) -> str:
    return likely_query(known_senders(account))


def phase_filter(phase: str, query: str) -> str:
    """The part of ``q`` that selects a phase's mail: the likely ones, or all the others."""
    if not query or not phase:
        return ""
    return query if phase == "likely" else f"-{query}"
