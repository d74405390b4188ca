"""Reading a Google Takeout mbox (or any mbox) from a byte offset, one message at a time.

Takeout writes a Gmail account's mail as one mbox file, often tens of gigabytes. It is read in
fixed-size chunks, so memory stays flat whatever the file's size: a message is held whole only up
to ``MAX_MESSAGE_BYTES`` (a larger one is passed over unread and reported as such). Each message
starts at a ``From `` line; a line in a body that only begins with ``From `` (Takeout does not
always quote them as ``>From ``) is told apart by the envelope's shape: an address and an
``asctime`` date. Lines may end in LF or CRLF, and a last message cut short is read as far as it
goes.

Takeout keeps Gmail's own ids: the number in each ``From `` line is the message's Gmail id in
decimal (``X-GM-MSGID``), whose hexadecimal spelling is the id the Gmail API uses, and
``X-GM-THRID`` is the thread's. An import therefore stores a receipt under the same id as an API
sync does, and the receipts' unique constraint on (account, message id) makes the two the same
receipt. Mail from other mbox files has no Gmail id: it gets a stable one from its Message-ID,
date and sender (or from its bytes when it has no Message-ID), prefixed ``mbox-`` so that it can
never collide with Gmail's.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from receipts.parsing import MAX_MESSAGE_BYTES

CHUNK_BYTES = 1 << 20
_DAYS = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTHS = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# "From <sender> <asctime>", the date as Takeout (``Wed Mar 01 12:00:00 +0000 2023``) or mbox
# writers (``Wed Mar  1 12:00:00 2023``) write it.
ENVELOPE = re.compile(
    rb"From (\S+) +(" + _DAYS + rb" +" + _MONTHS + rb" +\d{1,2} +\d{1,2}:\d\d(?::\d\d)?(?: +[+-]\d{4})? +\d{4})"
    rb"[^\r\n]{0,80}\r?\n"
)
_GMAIL_ID = re.compile(rb"^(\d{1,20})@xxx$")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# Labels that keep a message out of the range, as the API scan leaves out spam, the trash,
# drafts (never received) and chats (Takeout writes chat transcripts as messages).
OUT_OF_RANGE_LABELS = frozenset({"spam", "trash", "drafts", "draft", "chat", "chats"})


class NotAnMbox(ValueError):
    """The file does not begin like an mbox file."""


@dataclass
class MboxMessage:
    start: int  # byte offset of its From line
    end: int  # byte offset just past it: the next message's start
    envelope_sender: bytes
    envelope_date: bytes
    raw: bytes | None  # None when larger than the limit: passed over unread

    @property
    def size(self) -> int:
        return self.end - self.start


def check_mbox(path: Path) -> None:
    """Raise ``NotAnMbox`` unless ``path`` begins with an mbox ``From `` line."""
    with path.open("rb") as handle:
        head = handle.read(400)
    if not ENVELOPE.match(head):
        raise NotAnMbox(
            f"{path.name} is not an mbox file: it does not begin with a 'From ' line. Google Takeout puts "
            "the mail in an .mbox file inside its archive; unpack the archive and give that file."
        )


def read_mbox(path: Path, offset: int = 0, *, max_message_bytes: int = MAX_MESSAGE_BYTES,
              chunk_bytes: int = CHUNK_BYTES) -> Iterator[MboxMessage]:
    """The messages of ``path`` from ``offset`` (the start of a message's From line) to its end.
    Raises ``NotAnMbox`` when no message begins there."""
    with path.open("rb") as handle:
        handle.seek(offset)
        buffer = bytearray()
        base = offset  # the file offset of buffer[0]
        current: tuple[int, bytes, bytes] | None = None  # (start, sender, date) of the message being read
        body_from = 0  # where in buffer the current message's bytes start
        dropped = False  # the current message outgrew the limit: its bytes are not kept
        search_at = 0  # where in buffer the search for the next From line goes on
        eof = checked = False
        while True:
            data = handle.read(chunk_bytes)
            eof = not data
            buffer += data
            if not checked and (eof or len(buffer) >= 400):
                checked = True
                if not ENVELOPE.match(buffer):
                    if offset == 0 and not buffer:
                        return  # an empty file holds no mail
                    where = "begin with a 'From ' line" if offset == 0 else f"have a message at byte {offset}"
                    raise NotAnMbox(
                        f"{path.name} is not an mbox file: it does not {where}. Google Takeout puts the mail in "
                        "an .mbox file inside its archive; unpack the archive and give that file.")
            if not checked:
                continue
            while True:
                found, search_at = _next_envelope(buffer, search_at, eof, at_start=current is None)
                if found is None:
                    break
                if current is not None:
                    yield _message(current, base + found.start(), bytes(buffer[body_from:found.start()]), dropped)
                current = (base + found.start(), found.group(1), found.group(2))
                body_from = search_at = found.end()
                dropped = False
            if eof:
                if current is not None:
                    yield _message(current, base + len(buffer), bytes(buffer[body_from:]), dropped)
                return
            keep_from = search_at
            if current is not None and not dropped:
                if len(buffer) - body_from > max_message_bytes:
                    dropped = True  # passed over from here on: memory stays bounded
                else:
                    keep_from = body_from
            if keep_from > 0:
                del buffer[:keep_from]
                base += keep_from
                search_at -= keep_from
                body_from = max(0, body_from - keep_from)


def _next_envelope(buffer: bytearray, start: int, eof: bool, *, at_start: bool) -> tuple[re.Match[bytes] | None, int]:
    """The next From line at a line's start in ``buffer`` from ``start``, and where the search
    goes on; no match when there is none yet (a candidate line may go on in the next chunk).
    ``at_start``: ``buffer`` begins where the reading began, at a line's start."""
    position = start
    while True:
        if position == 0 and at_start and buffer.startswith(b"From "):
            candidate = 0
        else:
            newline = buffer.find(b"\nFrom ", max(position - 1, 0))
            if newline < 0:
                return None, max(position, len(buffer) - 6)  # a "\nFrom " may straddle the chunks
            candidate = newline + 1
        match = ENVELOPE.match(buffer, candidate)
        if match:
            return match, match.end()
        if not eof and buffer.find(b"\n", candidate) < 0:
            return None, candidate  # its line is not complete yet: looked at again with more bytes
        position = candidate + 1


def _message(current: tuple[int, bytes, bytes], end: int, body: bytes, dropped: bool) -> MboxMessage:
    start, sender, date = current
    if dropped:
        return MboxMessage(start, end, sender, date, None)
    # The line end before the next From line belongs to the separator, not to the message.
    if body.endswith(b"\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n"):
        body = body[:-1]
    return MboxMessage(start, end, sender, date, body)


# -- what a message says about itself ----------------------------------------------------------
@dataclass
class Identity:
    message_id: str  # Gmail's id (hexadecimal), or a stable ``mbox-`` id
    thread_id: str
    labels: list[str]
    received_at: datetime | None

    @property
    def out_of_range(self) -> bool:
        return any(label.lower() in OUT_OF_RANGE_LABELS for label in self.labels)


def _header_block(raw: bytes) -> bytes:
    end = _HEADER_END.search(raw, 0, 256 * 1024)
    return raw[: end.start()] if end else raw[: 256 * 1024]


def _header(block: bytes, name: bytes) -> bytes | None:
    """One header's value, its folded lines joined, or None."""
    match = re.search(rb"(?im)^" + re.escape(name) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", block)
    if match is None:
        return None
    return re.sub(rb"\r?\n[ \t]+", b" ", match.group(1)).strip()


def identify(message: MboxMessage) -> Identity:
    raw = message.raw or b""
    block = _header_block(raw)
    labels_value = _header(block, b"X-Gmail-Labels")
    labels = [label.strip() for label in labels_value.decode("utf-8", "replace").split(",")] if labels_value else []
    received = envelope_date(message.envelope_date)
    gmail = _GMAIL_ID.match(message.envelope_sender)
    if gmail and int(gmail.group(1)) < 1 << 64:
        thread = _header(block, b"X-GM-THRID") or b""
        thread_id = format(int(thread), "x") if thread.isdigit() and int(thread) < 1 << 64 else ""
        return Identity(format(int(gmail.group(1)), "x"), thread_id, [label for label in labels if label], received)
    return Identity(stable_id(block, raw), "", [label for label in labels if label], received)


def stable_id(block: bytes, raw: bytes) -> str:
    """An id for mail without a Gmail id: the same message gives the same id in any file."""
    rfc_id = _header(block, b"Message-ID")
    if rfc_id:
        key = b"\x00".join([rfc_id, _header(block, b"Date") or b"", _header(block, b"From") or b""])
    else:
        key = raw
    return "mbox-" + hashlib.sha256(key).hexdigest()[:40]


def envelope_date(value: bytes) -> datetime | None:
    """The From line's date (UTC unless it gives an offset), or None."""
    text = " ".join(value.decode("ascii", "replace").split())
    for pattern in ("%a %b %d %H:%M:%S %z %Y", "%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M %Y"):
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
