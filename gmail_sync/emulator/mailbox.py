"""The emulator's mailbox: messages, labels, history ids, and Gmail's views of a message."""
from __future__ import annotations

import base64
import email
import email.header
import email.parser
import email.policy
import hashlib
import mailbox as std_mailbox
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from .search import SYSTEM_LABELS, Searchable, is_hidden, parse_query

# Gmail hands large bodies out by attachment id instead of inline; text parts stay inline.
INLINE_BODY_LIMIT = 200_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")




def decoded_payload(part: Message) -> bytes:
    """A leaf part's body, its transfer encoding undone (empty for a multipart)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""

@dataclass
class EmulatedMessage:
    id: str
    thread_id: str
    raw: bytes
    internal_date_ms: int
    history_id: int
    label_ids: list[str] = field(default_factory=lambda: ["INBOX"])

    _searchable: Searchable | None = field(default=None, repr=False, compare=False)

    @property
    def parsed(self) -> Message:
        return email.message_from_bytes(self.raw, policy=email.policy.compat32)

    def searchable(self) -> Searchable:
        """What a search reads of this message; its labels as they are now."""
        if self._searchable is None:
            self._searchable = Searchable(self._parse_for_search, self.label_ids, self.internal_date_ms)
        self._searchable.labels = set(self.label_ids)
        return self._searchable

    def _parse_for_search(self) -> Message:
        """The message as search reads it; its headers alone when the standard library cannot
        parse it whole (nesting deeper than its recursion), as Gmail still finds such mail."""
        try:
            return self.parsed
        except RecursionError:
            return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(self.raw, headersonly=True)

    def snippet(self) -> str:
        """The first text of the message, or "" for one the standard library cannot walk (Gmail
        serves every message, however it is built)."""
        try:
            return self._snippet()
        except (RecursionError, MemoryError, ValueError, LookupError, TypeError):
            return ""

    def _snippet(self) -> str:
        for part in self.parsed.walk():
            if part.get_content_type() == "text/plain" and not part.get_filename():
                payload = decoded_payload(part)
                try:
                    text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
                except LookupError:  # a charset Python does not know, as in real mail
                    text = payload.decode("utf-8", errors="replace")
                return re.sub(r"\s+", " ", text).strip()[:200]
        return ""

    def resource(self, fmt: str = "full", metadata_headers: list[str] | None = None) -> dict[str, Any]:
        """The Message resource in one of Gmail's formats: full, metadata, minimal or raw."""
        body: dict[str, Any] = {
            "id": self.id,
            "threadId": self.thread_id,
            "labelIds": list(self.label_ids),
            "snippet": self.snippet(),
            "sizeEstimate": len(self.raw),
            "historyId": str(self.history_id),
            "internalDate": str(self.internal_date_ms),
        }
        if fmt == "raw":
            body["raw"] = b64url(self.raw)
        elif fmt == "metadata":
            wanted = {h.lower() for h in (metadata_headers or [])}
            parsed = self.parsed
            headers = [
                {"name": k, "value": str(v)} for k, v in parsed.items() if not wanted or k.lower() in wanted
            ]
            body["payload"] = {"partId": "", "mimeType": parsed.get_content_type(), "filename": "",
                               "headers": headers, "body": {"size": 0}}
        elif fmt == "full":
            body["payload"] = self._part(self.parsed, "")
        return body

    def _part(self, part: Message, part_id: str) -> dict[str, Any]:
        node: dict[str, Any] = {
            "partId": part_id,
            "mimeType": part.get_content_type(),
            "filename": _filename(part),
            "headers": [{"name": k, "value": str(v)} for k, v in part.items()],
        }
        if part.is_multipart():
            node["body"] = {"size": 0}
            children = part.get_payload()
            assert isinstance(children, list)
            prefix = f"{part_id}." if part_id else ""
            node["parts"] = [self._part(child, f"{prefix}{i}") for i, child in enumerate(children)]
            return node
        data = decoded_payload(part)
        if node["filename"] or len(data) > INLINE_BODY_LIMIT:
            node["body"] = {"attachmentId": attachment_id(self.id, part_id), "size": len(data)}
        else:
            node["body"] = {"size": len(data), **({"data": b64url(data)} if data else {})}
        return node

    def attachment(self, part_id: str) -> bytes | None:
        """The decoded bytes of the part ``part_id``, or None when there is no such leaf."""
        node: Message = self.parsed
        if part_id:
            for index in part_id.split("."):
                children = node.get_payload() if node.is_multipart() else None
                if not isinstance(children, list) or not index.isdigit() or int(index) >= len(children):
                    return None
                child = children[int(index)]
                if not isinstance(child, Message):
                    return None
                node = child
        if node.is_multipart():
            return None
        return decoded_payload(node)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # malformed RFC 2231 parameters
        return ""
    if not name:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(name)))
    except Exception:
        return str(name)


def attachment_id(message_id: str, part_id: str) -> str:
    return "ANGj" + b64url(f"{message_id}:{part_id}".encode()).rstrip("=")


def parse_attachment_id(value: str) -> tuple[str, str] | None:
    if not value.startswith("ANGj"):
        return None
    token = value[4:]
    try:
        message_id, part_id = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    return message_id, part_id


def _internal_date_ms(msg: Message, fallback_ms: int) -> int:
    value = msg.get("Date")
    if value:
        try:
            parsed = parsedate_to_datetime(str(value))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return fallback_ms


def _labels(msg: Message) -> list[str]:
    header = msg.get("X-Gmail-Labels")
    if not header:
        return ["INBOX"]
    labels = []
    for name in str(header).split(","):
        name = name.strip()
        if not name:
            continue
        upper = name.upper()
        labels.append(upper if upper in SYSTEM_LABELS else f"Label_{name}")
    return labels or ["INBOX"]


HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")


@dataclass
class HistoryRecord:
    id: int
    kind: str  # one of HISTORY_TYPES
    message_id: str
    thread_id: str
    labels: list[str]  # a label change's labels
    message_labels: list[str]  # the message's labels after the change


class Mailbox:
    """The messages of one Gmail user, with history ids as Gmail keeps them.

    Thread-safe: the emulator serves requests from several threads, and a test may add mail
    while a sync runs.
    """

    def __init__(self, address: str = "demo@example.com") -> None:
        self.address = address
        self._lock = threading.RLock()
        self._messages: dict[str, EmulatedMessage] = {}
        self._history: list[HistoryRecord] = []  # every change, oldest first, as history.list reads it
        self._history_id = 1000
        self.oldest_history_id = 1000

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | Path, address: str = "demo@example.com") -> Mailbox:
        path = Path(path)
        box = cls(address)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.eml") if p.is_file())
            for index, file in enumerate(files):
                box.add(file.read_bytes(), fallback_ms=index * 1000)
        elif path.is_file():
            for index, msg in enumerate(std_mailbox.mbox(str(path), create=False)):
                box.add(msg.as_bytes(), fallback_ms=index * 1000)
        else:
            raise FileNotFoundError(f"No mailbox at {path}")
        box.oldest_history_id = 1000
        return box

    def add(self, raw: bytes, *, fallback_ms: int = 0, labels: list[str] | None = None,
            internal_date_ms: int | None = None) -> EmulatedMessage:
        """Deliver a message; it gets the next history id, as new mail does in Gmail."""
        # Only the headers: a message of any depth or size is delivered, as Gmail delivers it.
        parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
        # mbox "From " lines and Gmail's own label header are not part of the delivered message.
        label_ids = labels or _labels(parsed)
        when = internal_date_ms if internal_date_ms is not None else _internal_date_ms(parsed, fallback_ms)
        with self._lock:
            digest = hashlib.sha1(raw + str(len(self._messages)).encode()).hexdigest()
            message_id = format(int(digest[:16], 16), "x")  # Gmail's ids: a 64-bit number in hex, unpadded
            self._history_id += 1
            message = EmulatedMessage(
                id=message_id,
                thread_id=_thread_id(parsed, message_id),
                raw=raw,
                internal_date_ms=when,
                history_id=self._history_id,
                label_ids=label_ids,
            )
            self._messages[message_id] = message
            self._history.append(HistoryRecord(self._history_id, "messageAdded", message_id, message.thread_id,
                                               [], list(label_ids)))
            return message

    def delete(self, message_id: str) -> None:
        """Delete a message for good (not to the trash), as messages.delete does."""
        with self._lock:
            message = self._messages.pop(message_id)
            self._history_id += 1
            self._history.append(HistoryRecord(self._history_id, "messageDeleted", message_id, message.thread_id,
                                               [], []))

    def modify(self, message_id: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Change a message's labels (into or out of SPAM or TRASH, say), as messages.modify does:
        one history record per kind of change."""
        with self._lock:
            message = self._messages[message_id]
            added = [label for label in add if label not in message.label_ids]
            removed = [label for label in remove if label in message.label_ids]
            message.label_ids = [label for label in message.label_ids if label not in removed] + added
            for kind, labels in (("labelAdded", added), ("labelRemoved", removed)):
                if labels:
                    self._history_id += 1
                    message.history_id = self._history_id
                    self._history.append(HistoryRecord(self._history_id, kind, message_id, message.thread_id,
                                                       labels, list(message.label_ids)))

    def expire_history(self) -> None:
        """Forget all history before now, as Gmail does after about a week."""
        with self._lock:
            self.oldest_history_id = self._history_id
            self._history = []

    # -- reading -------------------------------------------------------------------------
    @property
    def history_id(self) -> int:
        return self._history_id

    def get(self, message_id: str) -> EmulatedMessage | None:
        with self._lock:
            return self._messages.get(message_id)

    def __len__(self) -> int:
        return len(self._messages)

    def all(self) -> list[EmulatedMessage]:
        with self._lock:
            return list(self._messages.values())

    def search(self, *, q: str = "", label_ids: list[str] | None = None,
               include_spam_trash: bool = False) -> list[EmulatedMessage]:
        """Matching messages, newest first, as messages.list orders them."""
        query = parse_query(q)
        with self._lock:
            found = []
            for message in self._messages.values():
                labels = set(message.label_ids)
                if is_hidden(query, labels, include_spam_trash=include_spam_trash):
                    continue
                if label_ids and not set(label_ids) <= labels:
                    continue
                if q and not query.matches(message.searchable()):
                    continue
                found.append(message)
        found.sort(key=lambda m: (-m.internal_date_ms, m.id))
        return found

    def history_since(self, start_history_id: int, *, types: list[str] | None = None,
                      label_id: str | None = None) -> list[HistoryRecord]:
        """Records after ``start_history_id`` of the given types (all when None), of messages
        that carry ``label_id`` after the change when it is given; KeyError when the id is too old
        to know."""
        with self._lock:
            if start_history_id < self.oldest_history_id:
                raise KeyError(start_history_id)
            return [record for record in self._history if record.id > start_history_id
                    and (not types or record.kind in types)
                    and (label_id is None or label_id in record.message_labels)]


def _thread_id(msg: Message, fallback: str) -> str:
    root = msg.get("References", "").split()[:1] or msg.get("In-Reply-To", "").split()[:1]
    if root:
        return hashlib.sha1(root[0].encode()).hexdigest()[:16]
    return fallback


