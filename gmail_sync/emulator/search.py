"""Gmail's search language (``q``), as much of it as the project sends, with Gmail's meaning.

Terms side by side must all match; ``OR`` (in capitals) between two terms, or ``{a b}``, needs one
of them; ``-term`` negates; ``( ... )`` groups; ``"a phrase"`` matches its words in that order.
Operators: ``after:``/``newer:`` and ``before:``/``older:`` (epoch seconds or a date), ``in:`` and
``label:``, ``has:attachment``, ``from:``, ``subject:`` (a word, a phrase, ``(all of these)`` or
``{any of these}``). A bare word or phrase is looked for in the sender, the recipients, the subject
and the text of the body. Words match whole (Gmail does not match part of a word). Anything else
is refused with a ``QueryError``, as Gmail would answer what it does not understand in a way the
project does not expect.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from functools import cached_property
from html import unescape
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
SYSTEM_LABELS = {"INBOX", "SPAM", "TRASH", "SENT", "DRAFT", "UNREAD", "STARRED", "IMPORTANT",
                 "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES",
                 "CATEGORY_FORUMS"}
# Gmail's ``in:`` names for its system labels.
IN_NAMES = {"inbox": "INBOX", "spam": "SPAM", "trash": "TRASH", "sent": "SENT", "draft": "DRAFT",
            "drafts": "DRAFT", "starred": "STARRED", "important": "IMPORTANT", "chats": "CHAT"}
_DATE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$")
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_TOKEN = re.compile(r'\s*(?:(\()|(\))|(\{)|(\})|("[^"]*")|([^\s(){}"]+))')


class QueryError(ValueError):
    """A ``q`` the emulator does not understand."""


class Searchable:
    """What search reads of one message; the parts that need its text are read on first use (a
    search by date and label alone never parses the mail)."""

    def __init__(self, parse: Callable[[], Message], labels: list[str], internal_date_ms: int) -> None:
        self._parse = parse
        self.labels = set(labels)
        self.internal_date_ms = internal_date_ms

    @cached_property
    def _read(self) -> tuple[str, list[str], list[str], bool]:
        parsed = self._parse()
        sender = _header(parsed, "From")
        recipients = " ".join(_header(parsed, h) for h in ("To", "Cc"))
        subject = _header(parsed, "Subject")
        bodies, attachment = [], False
        try:
            for part in parsed.walk():
                if part.is_multipart():
                    continue
                if part.get_filename() or part.get_content_disposition() == "attachment":
                    attachment = True
                    continue
                if part.get_content_maintype() == "text":
                    payload = part.get_payload(decode=True)
                    if isinstance(payload, bytes):
                        body = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
                        bodies.append(unescape(_TAG.sub(" ", body)) if part.get_content_subtype() == "html" else body)
        except (LookupError, ValueError, RecursionError):  # a charset or a structure the standard library
            pass  # cannot read (nesting deeper than its recursion): searched by what was read, as Gmail indexes it
        return sender.lower(), words(subject), words(" ".join([sender, recipients, subject, *bodies])), attachment

    @property
    def sender(self) -> str:  # the From header, lowercased
        return self._read[0]

    @property
    def subject(self) -> list[str]:  # its words
        return self._read[1]

    @property
    def text(self) -> list[str]:  # sender, recipients, subject and body, as words
        return self._read[2]

    @property
    def has_attachment(self) -> bool:
        return self._read[3]


def _header(parsed: Message, name: str) -> str:
    """A header's text, its RFC 2047 encoded words decoded (Hebrew subjects and names)."""
    value = parsed.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (LookupError, ValueError, UnicodeError):
        return str(value)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _contains(haystack: list[str], needle: list[str]) -> bool:
    """Whether the words of ``needle`` appear in ``haystack`` one after another."""
    if not needle:
        return True
    if len(needle) == 1:
        return needle[0] in haystack
    return f" {' '.join(needle)} " in f" {' '.join(haystack)} "


Predicate = Callable[[Searchable], bool]


@dataclass
class Query:
    matches: Predicate
    # Labels named by ``in:`` or ``label:`` (not negated): in:spam or in:trash lifts Gmail's
    # default of leaving spam and trash out; in:anywhere lifts it whole.
    named_labels: set[str] = field(default_factory=set)
    anywhere: bool = False


def parse_query(q: str) -> Query:
    parser = _Parser(q or "")
    predicate = parser.conjunction(until=None)
    return Query(matches=predicate, named_labels=parser.named_labels, anywhere=parser.anywhere)


def _date_ms(value: str) -> int:
    if value.isdigit():
        return int(value) * 1000
    match = _DATE.match(value)
    if not match:
        raise QueryError(f"Invalid date in query: {value}")
    year, month, day = (int(x) for x in match.groups())
    # Gmail reads a bare date as midnight Pacific time.
    return int(datetime(year, month, day, tzinfo=PACIFIC).timestamp() * 1000)


class _Parser:
    def __init__(self, q: str) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(q):
            match = _TOKEN.match(q, position)
            if not match or match.end() == position:
                if q[position:].strip():
                    raise QueryError(f"Cannot read the query from {q[position:]!r}")
                break
            self.tokens.append(next(group for group in match.groups() if group is not None))
            position = match.end()
        self.position = 0
        self.named_labels: set[str] = set()
        self.anywhere = False
        self.negated = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise QueryError("The query ends too early")
        self.position += 1
        return token

    def conjunction(self, *, until: str | None) -> Predicate:
        """Terms up to ``until`` (or the end), all of which must match."""
        terms: list[Predicate] = []
        while self.peek() != until:
            if self.peek() is None:
                raise QueryError(f"Missing {until!r} in the query")
            terms.append(self.disjunction())
        if until is not None:
            self.take()
        return lambda m: all(term(m) for term in terms)

    def disjunction(self) -> Predicate:
        options = [self.unary()]
        while self.peek() == "OR":
            self.take()
            options.append(self.unary())
        if len(options) == 1:
            return options[0]
        return lambda m: any(option(m) for option in options)

    def unary(self) -> Predicate:
        token = self.peek()
        if token is not None and token.startswith("-"):
            self.take()
            if len(token) > 1:  # -word or -operator:value came as one token
                self.tokens.insert(self.position, token[1:])
            self.negated += 1  # labels named under a negation do not lift the spam and trash default
            try:
                inner = self.unary()
            finally:
                self.negated -= 1
            return lambda m: not inner(m)
        return self.primary()

    def primary(self) -> Predicate:
        token = self.take()
        if token == "(":
            return self.conjunction(until=")")
        if token == "{":
            options: list[Predicate] = []
            while self.peek() != "}":
                if self.peek() is None:
                    raise QueryError("Missing '}' in the query")
                options.append(self.unary())
            self.take()
            return lambda m: any(option(m) for option in options)
        if token in {")", "}", "OR"}:
            raise QueryError(f"Unexpected {token!r} in the query")
        if token.startswith('"'):
            phrase = words(token.strip('"'))
            return lambda m: _contains(m.text, phrase)
        name, colon, value = token.partition(":")
        if not colon:
            word = words(token)
            return lambda m: _contains(m.text, word)
        return self.operator(name.lower(), value)

    def field_words(self, value: str) -> tuple[str, list[list[str]]]:
        """What follows ``subject:``: one word or phrase, or a group ``(…)``/``{…}`` of them."""
        if value:
            return "all", [words(value.strip('"'))]
        opener = self.take()
        closer = {"(": ")", "{": "}"}.get(opener)
        if closer is None:
            return "all", [words(opener.strip('"'))]
        items = []
        while self.peek() != closer:
            if self.peek() is None:
                raise QueryError(f"Missing {closer!r} in the query")
            items.append(words(self.take().strip('"')))
        self.take()
        return ("all" if closer == ")" else "any"), items

    def operator(self, name: str, value: str) -> Predicate:
        if name in {"after", "newer", "before", "older"}:
            ms = _date_ms(value)
            if name in {"after", "newer"}:
                return lambda m: m.internal_date_ms >= ms
            return lambda m: m.internal_date_ms < ms
        if name in {"in", "label"}:
            if name == "in" and value.lower() == "anywhere":
                if not self.negated:
                    self.anywhere = True
                return lambda m: True
            label = IN_NAMES.get(value.lower()) if name == "in" else (
                value.upper() if value.upper() in SYSTEM_LABELS else f"Label_{value}")
            if label is None:
                raise QueryError(f"Unknown in: {value!r}")
            if not self.negated:
                self.named_labels.add(label)
            return lambda m: label in m.labels
        if name == "has":
            if value.lower() != "attachment":
                raise QueryError(f"The emulator supports only has:attachment, not has:{value}")
            return lambda m: m.has_attachment
        if name == "from":
            if not value:
                raise QueryError("from: needs an address or a name")
            needle = value.strip('"').lower()
            return lambda m: needle in m.sender
        if name == "subject":
            mode, items = self.field_words(value)
            test = all if mode == "all" else any
            return lambda m: test(_contains(m.subject, item) for item in items)
        raise QueryError(f"The emulator does not support {name}: in q")


def is_hidden(query: Query, labels: set[str], *, include_spam_trash: bool) -> bool:
    """Gmail leaves spam and trash out of a search unless it names them (or asks for everything)."""
    if include_spam_trash or query.anywhere:
        return False
    return bool(({"SPAM", "TRASH"} - query.named_labels) & labels)

