"""The emulator's mailbox written as Google Takeout writes a Gmail account: one mbox file.

Each message starts with ``From <Gmail id in decimal>@xxx <internal date>`` and carries
``X-GM-THRID`` (the thread's id in decimal) and ``X-Gmail-Labels`` (its labels by their Takeout
names) before its own headers. Spam, trash and drafts are in the export, as in Takeout. Lines in
bodies that begin with ``From `` are left as they are (Takeout does not reliably quote them).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from .mailbox import EmulatedMessage

TAKEOUT_LABEL_NAMES = {"INBOX": "Inbox", "SPAM": "Spam", "TRASH": "Trash", "DRAFT": "Drafts", "SENT": "Sent",
                       "STARRED": "Starred", "IMPORTANT": "Important", "UNREAD": "Unread",
                       "CATEGORY_UPDATES": "Category Updates", "CATEGORY_PROMOTIONS": "Category Promotions",
                       "CATEGORY_SOCIAL": "Category Social", "CATEGORY_PERSONAL": "Category Personal",
                       "CATEGORY_FORUMS": "Category Forums"}
_OWN_LABELS = re.compile(rb"(?im)^X-Gmail-Labels:.*\r?\n(?:[ \t].*\r?\n)*")


def label_names(label_ids: Iterable[str]) -> str:
    names = [TAKEOUT_LABEL_NAMES.get(label, label.removeprefix("Label_")) for label in label_ids]
    return ",".join(names)


def takeout_bytes(message: EmulatedMessage, *, crlf: bool = False) -> bytes:
    """One message as it stands in a Takeout mbox, its From line included."""
    when = datetime.fromtimestamp(message.internal_date_ms / 1000, tz=UTC)
    envelope = f"From {int(message.id, 16)}@xxx {when:%a %b %d %H:%M:%S +0000 %Y}\n".encode()
    headers = b""
    if re.fullmatch(r"[0-9a-f]{1,16}", message.thread_id):
        headers += f"X-GM-THRID: {int(message.thread_id, 16)}\n".encode()
    headers += f"X-Gmail-Labels: {label_names(message.label_ids)}\n".encode()
    raw = _OWN_LABELS.sub(b"", message.raw, count=1)
    text = envelope + headers + raw.rstrip(b"\r\n") + b"\n\n"
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") if crlf else text


def export_takeout(messages: Iterable[EmulatedMessage], path: str | Path, *, crlf: bool = False) -> Path:
    """Write ``messages`` to ``path`` as a Takeout mbox; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for message in messages:
            handle.write(takeout_bytes(message, crlf=crlf))
    return path
