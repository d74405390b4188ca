"""Turning one raw RFC 822 message into the text and files the recogniser reads.

Mail in the wild is broken in every way (missing boundaries, bad charsets, malformed
headers); everything here degrades to "less text" rather than raising.
"""
from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from functools import cached_property

import fast_mail_parser
from bs4 import BeautifulSoup

logger = logging.getLogger(__name__)

PDF_TEXT_PAGES = 5
PDF_TEXT_MAX_BYTES = 15 * 1024 * 1024
MAX_DEPTH = 20
EMBEDDED_MESSAGE_TYPES = {"message/rfc822", "message/news", "message/global"}


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    subject: str = ""
    sender_name: str = ""
    sender_email: str = ""
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    @cached_property
    def pdf_text(self) -> str:
        """The text of the PDF attachments, read only when asked: most mail never needs it."""
        return "\n".join(pdf_text(a.data) for a in self.pdfs)

    @property
    def pdfs(self) -> list[Attachment]:
        return [a for a in self.attachments if is_pdf(a.filename, a.content_type, a.data)]

    @cached_property
    def html_text(self) -> str:
        """The HTML part as text, worked out only when asked: most mail has a plain part too."""
        if not self.html:
            return ""
        try:
            return html_to_text(self.html)
        except Exception:
            return ""

    @property
    def body(self) -> str:
        """The readable body: the plain part, or the HTML's text when the plain part is a stub of it."""
        plain = self.text.strip()
        # A plain part much shorter than the HTML is a stub ("view this in HTML"); read the HTML then.
        if not plain or (len(self.html) > 3 * len(plain) + 200 and len(self.html_text) > 2 * len(plain) + 40):
            return self.html_text
        return self.text


def decode_header(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value)))).strip()
    except Exception:
        return str(value).strip()


def _decode_payload(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    for br in soup.find_all(["br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"]):
        br.insert_after("\n")
    text = soup.get_text(" ")
    return re.sub(r"[ \t\u00a0]+", " ", re.sub(r"\n\s*\n+", "\n", text)).strip()


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF's first pages; empty when it has none or cannot be read."""
    if len(data) > PDF_TEXT_MAX_BYTES:
        return ""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                return ""
        chunks = []
        for page in reader.pages[:PDF_TEXT_PAGES]:
            chunks.append(page.extract_text() or "")
        return "\n".join(chunks)
    except Exception as exc:  # pypdf raises many kinds on damaged files
        logger.debug("pdf text extraction failed: %s", exc)
        return ""


def parse_email(raw: bytes) -> ParsedEmail:
    """Read one message: a fast MIME parse, and the standard library's lenient parser for
    mail the fast parser refuses (broken structure, undecodable headers)."""
    try:
        root = fast_mail_parser.parse_email_tree(raw)
    except Exception:  # ParseError and its kinds; any other refusal is read the slow way too
        parsed = _parse_with_stdlib(raw)
    else:
        parsed = _parse_tree(root)
    parsed.subject = re.sub(r"\s+", " ", parsed.subject).strip()
    return parsed


def _header(headers: dict[str, list[str]], name: str) -> str:
    for key, values in headers.items():
        if key.lower() == name and values:
            return values[0]
    return ""


def _parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parse_tree(root: fast_mail_parser.PyMimePart) -> ParsedEmail:
    headers = root.headers
    parsed = ParsedEmail(subject=_header(headers, "subject"), date=_parse_date(_header(headers, "date")))
    name, address = email.utils.parseaddr(_header(headers, "from"))
    parsed.sender_name = name.strip().strip('"')
    parsed.sender_email = address.strip().lower()
    texts: list[str] = []
    htmls: list[str] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        content_type = (node.content_type or "text/plain").lower()
        children = node.children
        if not children and content_type in EMBEDDED_MESSAGE_TYPES and node.content:
            try:  # a forwarded message the parser left as a leaf: read it as the message it is
                children = [fast_mail_parser.parse_email_tree(node.content)]
            except Exception:
                children = []
        if children:
            if depth < MAX_DEPTH:
                stack.extend((child, depth + 1) for child in reversed(children))
            continue
        if node.is_message or node.content is None or content_type in EMBEDDED_MESSAGE_TYPES:
            continue
        filename = node.filename or ""
        if "=?" in filename:
            filename = decode_header(filename)
        if filename or (node.disposition or "").lower() == "attachment":
            parsed.attachments.append(Attachment(filename or "attachment", content_type, node.content))
        elif content_type == "text/plain":
            texts.append(_decode_text(node.content, _charset(node.headers)))
        elif content_type == "text/html":
            htmls.append(_decode_text(node.content, _charset(node.headers)))
    parsed.text = "\n".join(texts)
    parsed.html = "\n".join(htmls)
    return parsed


CHARSET_RE = re.compile(r"charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


def _charset(headers: dict[str, list[str]]) -> str:
    match = CHARSET_RE.search(_header(headers, "content-type"))
    return match.group(1) if match else "utf-8"


def _decode_text(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _parse_with_stdlib(raw: bytes) -> ParsedEmail:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parsed = ParsedEmail(subject=decode_header(msg.get("Subject")))
    name, address = email.utils.parseaddr(decode_header(msg.get("From")))
    parsed.sender_name = name.strip().strip('"')
    parsed.sender_email = address.strip().lower()
    parsed.date = _parse_date(str(msg.get("Date") or ""))
    texts: list[str] = []
    htmls: list[str] = []
    for part in _walk(msg):
        content_type = part.get_content_type()
        disposition = str(part.get("Content-Disposition", "")).lower()
        filename = _filename(part)
        if content_type == "message/rfc822":
            continue
        if filename or "attachment" in disposition:
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                parsed.attachments.append(Attachment(filename or "attachment", content_type, data))
            continue
        if content_type == "text/plain":
            texts.append(_decode_payload(part))
        elif content_type == "text/html":
            htmls.append(_decode_payload(part))
    parsed.text = "\n".join(texts)
    parsed.html = "\n".join(htmls)
    return parsed


def _walk(msg: Message, depth: int = 0):  # type: ignore[no-untyped-def]
    """Leaves of the MIME tree, forwarded messages included, with a depth bound for hostile mail."""
    if depth > MAX_DEPTH:
        return
    if msg.is_multipart():
        payload = msg.get_payload()
        if isinstance(payload, list):
            for child in payload:
                if isinstance(child, Message):
                    yield from _walk(child, depth + 1)
        return
    yield msg


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return decode_header(name) if name else ""


def is_pdf(filename: str, content_type: str, data: bytes) -> bool:
    return data[:5] == b"%PDF-" or content_type == "application/pdf" or filename.lower().endswith(".pdf")
