"""Turning one raw RFC 822 message into the text and files the recogniser reads.

Mail in the wild is broken in every way (missing boundaries, bad charsets, malformed
headers); everything here degrades to "less text" rather than raising.
"""
from __future__ import annotations

import ctypes
import email
import email.header
import email.policy
import email.utils
import io
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from functools import cached_property

import fast_mail_parser
import pypdfium2
import pypdfium2.raw as pdfium_c
from selectolax.lexbor import LexborHTMLParser

logger = logging.getLogger(__name__)

PDF_TEXT_PAGES = 5
PDF_TEXT_CHARS_PER_PAGE = 100_000  # a page made of 400,000 text operators gives its first 100,000 characters
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
    date_header: str = ""
    message_id_header: str = ""
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # The email as a standalone page (receipts.rendering.email_html), made where the message is
    # read (the sandbox, under its limits) for a receipt: kept to render when it has no file.
    page: bytes = b""

    @cached_property
    def date(self) -> datetime | None:
        """The Date header, read only when asked: Gmail's own receipt time usually serves."""
        return _parse_date(self.date_header)

    @cached_property
    def pdf_text(self) -> str:
        """The text of the PDF attachments, read only when asked: most mail never needs it."""
        return "\n".join(pdf_text(a.data) for a in self.pdfs)

    @cached_property
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


BLOCK_TAGS = "br,p,div,tr,li,h1,h2,h3,table"


def html_to_text(html: str) -> str:
    """The text a reader sees: scripts, styles and the head dropped, a line break after each block."""
    tree = LexborHTMLParser(html)
    tree.strip_tags(["script", "style", "head"])
    for node in tree.css(BLOCK_TAGS):
        node.insert_after("\n")
    root = tree.root
    text = re.sub(r"[ \t\u00a0]+", " ", root.text(separator=" ") if root is not None else "")
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF's first pages; empty when it has none or cannot be read.

    PDFium reads it (fast, and Hebrew comes out in reading order); pypdf is the second try
    for a file PDFium refuses."""
    if len(data) > PDF_TEXT_MAX_BYTES:
        return ""
    try:
        return _pdfium_text(data)
    except Exception as exc:  # PdfiumError on damaged or unsupported files
        logger.debug("PDFium could not read a PDF (%s); trying pypdf", exc)
    return _pypdf_text(data)


# PDFium is not thread-safe, not even across documents: one thread in it at a time.
_PDFIUM_LOCK = threading.Lock()


def _pdfium_text(data: bytes) -> str:
    """The text of the first pages, through PDFium's own API (pypdfium2.raw): the helper classes
    cost a sixth more per document, registering a finalizer for each object they wrap."""
    chunks = []
    with _PDFIUM_LOCK:
        document = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
        if not document:
            raise pypdfium2.PdfiumError(f"PDFium could not open the file (error {pdfium_c.FPDF_GetLastError()})")
        try:
            for index in range(min(pdfium_c.FPDF_GetPageCount(document), PDF_TEXT_PAGES)):
                page = pdfium_c.FPDF_LoadPage(document, index)
                if not page:
                    raise pypdfium2.PdfiumError(f"PDFium could not load page {index + 1}")
                try:
                    text_page = pdfium_c.FPDFText_LoadPage(page)
                    if not text_page:
                        raise pypdfium2.PdfiumError(f"PDFium could not read the text of page {index + 1}")
                    try:
                        chunks.append(_bounded_text(page, text_page))
                    finally:
                        pdfium_c.FPDFText_ClosePage(text_page)
                finally:
                    pdfium_c.FPDF_ClosePage(page)
        finally:
            pdfium_c.FPDF_CloseDocument(document)
    return "\n".join(chunks)


def _bounded_text(page: object, text_page: object) -> str:
    """The text inside the page's bounding box (media box and crop box), as pypdfium2's
    ``get_text_bounded`` reads it."""
    box = pdfium_c.FS_RECTF()
    if not pdfium_c.FPDF_GetPageBoundingBox(page, box):
        raise pypdfium2.PdfiumError("PDFium could not read the page's bounding box")
    corners = (box.left, box.top, box.right, box.bottom)
    count = pdfium_c.FPDFText_GetBoundedText(text_page, *corners, None, 0)
    if count <= 0:
        return ""
    count = min(count, PDF_TEXT_CHARS_PER_PAGE)
    buffer = (ctypes.c_ushort * count)()
    pdfium_c.FPDFText_GetBoundedText(text_page, *corners, buffer, count)
    return bytes(buffer).decode("utf-16-le", errors="ignore")


def _pypdf_text(data: bytes) -> str:
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
            chunks.append((page.extract_text() or "")[:PDF_TEXT_CHARS_PER_PAGE])
        return "\n".join(chunks)
    except Exception as exc:  # pypdf raises many kinds on damaged files
        logger.debug("pdf text extraction failed: %s", exc)
        return ""


class MessageRefused(ValueError):
    """A message refused before any parser sees it (it is counted as an error, with this reason)."""


# A part's Content-Type header at a line's start: a bound on the number of MIME parts, read off
# the raw bytes in one linear pass, before a parser (whose cost or stack grows with the parts
# and their nesting) is handed the message.
MAX_PARTS = 500
MAX_MESSAGE_BYTES = 60 * 1024 * 1024  # Gmail takes mail of up to 50 MB
_PART_HEADER_RE = re.compile(rb"^content-type[ \t]*:", re.IGNORECASE | re.MULTILINE)


def check_bounds(raw: bytes) -> None:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageRefused(f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
    for count, _ in enumerate(_PART_HEADER_RE.finditer(raw), start=1):
        if count > MAX_PARTS:
            raise MessageRefused(f"more than {MAX_PARTS} MIME parts")


def parse_email(raw: bytes) -> ParsedEmail:
    """Read one message: a fast MIME parse, and the standard library's lenient parser for
    mail the fast parser refuses (broken structure, undecodable headers). A message of more
    than MAX_PARTS parts is refused (``MessageRefused``)."""
    check_bounds(raw)
    try:
        root = fast_mail_parser.parse_email_tree(raw)
    except Exception:  # ParseError and its kinds; any other refusal is read the slow way too
        parsed = _parse_with_stdlib(raw)
    else:
        parsed = _parse_tree(root)
    parsed.subject = " ".join(parsed.subject.split())  # runs of (Unicode) whitespace as one space
    return parsed


def _header(headers: dict[str, list[str]], name: str) -> str:
    for key, values in headers.items():
        if key.lower() == name and values:
            return values[0]
    return ""


# The two shapes nearly every From header has: `Name <user@host>` and a bare `user@host`.
SIMPLE_SENDER_RE = re.compile(r'\s*(?:"(?P<quoted>[^"\\]*)"|(?P<plain>[^"<>(),;:@\\]*?))\s*<(?P<angle>[^<>\s"(),;:@]+@[^<>\s"(),;:@]+)>\s*'
                              r'|\s*(?P<bare>[^<>\s"(),;:@]+@[^<>\s"(),;:@]+)\s*')


def parse_sender(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of a From header; the standard library reads the rarer shapes."""
    match = SIMPLE_SENDER_RE.fullmatch(value)
    if match:
        name = match.group("quoted") if match.group("quoted") is not None else (match.group("plain") or "")
        address = match.group("angle") or match.group("bare")
    else:
        name, address = email.utils.parseaddr(value)
    return name.strip().strip('"'), address.strip().lower()


def _parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parse_tree(root: fast_mail_parser.PyMimePart) -> ParsedEmail:
    headers = root.headers
    parsed = ParsedEmail(subject=_header(headers, "subject"), date_header=_header(headers, "date"),
                         message_id_header=_header(headers, "message-id").strip()[:998])
    parsed.sender_name, parsed.sender_email = parse_sender(_header(headers, "from"))
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
    parsed.sender_name, parsed.sender_email = parse_sender(decode_header(msg.get("From")))
    parsed.date_header = str(msg.get("Date") or "")
    parsed.message_id_header = str(msg.get("Message-ID") or "").strip()[:998]
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
