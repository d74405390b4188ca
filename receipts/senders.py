"""Sender rules as plain data: which rule covers a sender, and what it makes of a verdict.

Kept free of Django: the sandbox's child, which has no database, needs the matching too (to
send back the whole message of a sender whose mail is always a receipt).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TypeVar

from .recognition import Recognition

T = TypeVar("T")

RECEIPT = "receipt"
NOT_RECEIPT = "not_receipt"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,63}}$")
_LOCAL = re.compile(r"^[^\s@<>()\[\],;:\"]{1,64}$")


def normalise_sender(value: str) -> str:
    """A rule's sender as stored: an address (``billing@vendor.com``) or a domain
    (``@vendor.com``; ``vendor.com`` is read as the domain), lower case. ``ValueError`` with
    what is wrong otherwise."""
    text = value.strip().lower()
    if text.startswith("@"):
        text = text[1:]
        if not _DOMAIN.match(text):
            raise ValueError("Not a domain: give an address (billing@vendor.com) or a domain (@vendor.com).")
        return "@" + text
    local, at, domain = text.rpartition("@")
    if not at:
        if _DOMAIN.match(text):
            return "@" + text
        raise ValueError("Not an address or a domain: give billing@vendor.com or @vendor.com.")
    if not _LOCAL.match(local) or not _DOMAIN.match(domain):
        raise ValueError("Not an address: give billing@vendor.com or @vendor.com.")
    return f"{local}@{domain}"


def covering(sender_email: str) -> list[str]:
    """The rule senders that cover an address, the most specific first: the address itself,
    then its domain and each parent domain (``@mail.vendor.com``, ``@vendor.com``)."""
    address = sender_email.strip().lower()
    _, at, domain = address.rpartition("@")
    if not at or not domain:
        return []
    labels = domain.split(".")
    return [address, *("@" + ".".join(labels[i:]) for i in range(len(labels) - 1))]


def rule_for(sender_email: str, rules: Mapping[str, T]) -> T | None:
    """The most specific of ``rules`` (keyed by rule sender) that covers ``sender_email``."""
    if not rules:
        return None
    for key in covering(sender_email):
        if key in rules:
            return rules[key]
    return None


def apply_rule(recognition: Recognition, decision: str, vendor: str, sender: str) -> Recognition:
    """The verdict once a sender rule has had its say (before the recogniser's)."""
    changes: dict[str, object] = {}
    reasons: list[str] = []  # the rule's first: it decided
    if decision == RECEIPT and not recognition.is_receipt:
        changes["is_receipt"] = True
        reasons.append(f"sender rule: mail from {sender} is a receipt")
    elif decision == NOT_RECEIPT and recognition.is_receipt:
        changes["is_receipt"] = False
        reasons.append(f"sender rule: mail from {sender} is not a receipt")
    if vendor and recognition.vendor != vendor:
        changes["vendor"] = vendor
        reasons.append(f"sender rule: vendor {vendor}")
    if not changes:
        return recognition
    return dataclasses.replace(recognition, reasons=[*reasons, *recognition.reasons], **changes)  # type: ignore[arg-type]
