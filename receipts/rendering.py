"""A document for every receipt, and a thumbnail of each document's first page.

A receipt that came with a PDF or an image has that file as its document, its bytes unchanged
(a signed Israeli computerised document must stay as it came). One that is only an email keeps
the email, reduced to a standalone HTML page (its headers, then its body, scripts and forms
removed), stored content-addressed when the receipt is stored; WeasyPrint renders that page to
PDF later (a periodic task, or the first request for the document), right to left when the text
is mostly Hebrew, and never fetches a remote image or style sheet.

Rendering and thumbnails read what a sender wrote, so they run in a child process
(``python -m receipts.rendering``) under a memory and a time limit, like the sandbox's reading.
"""
from __future__ import annotations

import html
import logging
import pickle
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from selectolax.lexbor import LexborHTMLParser

from .parsing import ParsedEmail

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
BODY_MAX_CHARS = 1_000_000  # of the HTML kept for rendering: far beyond any receipt
RENDER_SECONDS = 60.0
RENDER_MEMORY_BYTES = 1536 << 20
THUMBNAIL_WIDTH = 240
THUMBNAIL_MAX_HEIGHT = 480
IMAGE_MAX_PIXELS = 60_000_000  # a decompression bomb is refused before it is decoded

UNSAFE_TAGS = ["script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
               "button", "select", "textarea", "link", "meta", "base", "audio", "video", "source", "svg", "math"]
_HEBREW = re.compile(r"[\u0590-\u05ff]")
_LATIN = re.compile(r"[A-Za-z]")
PAGE_STYLE = """
@page { size: A4; margin: 14mm; }
body { font-family: "DejaVu Sans", "Noto Sans Hebrew", sans-serif; font-size: 10pt; line-height: 1.35; }
.receipt-email-headers { border-bottom: 1px solid #999; margin-bottom: 10pt; padding-bottom: 6pt; font-size: 9pt; }
.receipt-email-headers th { text-align: start; padding-inline-end: 8pt; color: #555; font-weight: normal; }
img { max-width: 100%; height: auto; }
table { max-width: 100%; }
pre { white-space: pre-wrap; word-wrap: break-word; font-family: inherit; }
"""


class RenderFailed(Exception):
    """The child could not render or thumbnail a document (its reason: timeout, memory, or the error)."""


def direction(text: str) -> str:
    """``rtl`` when the text has more Hebrew letters than Latin ones."""
    sample = text[:20000]
    return "rtl" if len(_HEBREW.findall(sample)) > len(_LATIN.findall(sample)) else "ltr"


def email_html(parsed: ParsedEmail) -> bytes:
    """The email as one standalone, inert HTML page: its headers, then its body (the HTML part
    with scripts, forms, frames and embedded objects removed, or the plain text)."""
    if parsed.html:
        tree = LexborHTMLParser(parsed.html[:BODY_MAX_CHARS])
        tree.strip_tags(UNSAFE_TAGS)
        for node in tree.css("[style*='url(' i], [background]"):
            attrs = node.attrs
            if "background" in attrs:
                del attrs["background"]
        body_node = tree.body
        body = body_node.inner_html if body_node is not None and body_node.inner_html else ""
        styles = "".join(node.html or "" for node in tree.css("head style"))
        text = parsed.html_text
    else:
        body = f"<pre>{html.escape(parsed.text[:BODY_MAX_CHARS])}</pre>"
        styles = ""
        text = parsed.text
    side = direction(f"{parsed.subject}\n{text}")
    rows = [("From", f"{parsed.sender_name} <{parsed.sender_email}>" if parsed.sender_name else parsed.sender_email),
            ("Date", parsed.date_header), ("Subject", parsed.subject)]
    header = "".join(f"<tr><th>{name}</th><td dir=\"auto\">{html.escape(value)}</td></tr>" for name, value in rows if value)
    page = (f'<!DOCTYPE html><html dir="{side}"><head><meta charset="utf-8"><style>{PAGE_STYLE}</style>{styles}</head>'
            f'<body><table class="receipt-email-headers" dir="ltr">{header}</table><div dir="{side}">{body}</div>'
            "</body></html>")
    return page.encode("utf-8", "replace")


@dataclass(frozen=True)
class Limits:
    seconds: float = RENDER_SECONDS
    memory_bytes: int = RENDER_MEMORY_BYTES


def render_pdf(page: bytes, limits: Limits | None = None) -> bytes:
    """The page (from ``email_html``) as a PDF, rendered in a child under limits."""
    return _in_child("pdf", page, limits or Limits())


def thumbnail_png(document: bytes, limits: Limits | None = None) -> bytes:
    """A PNG of the document's first page (a PDF) or of the image, THUMBNAIL_WIDTH wide."""
    return _in_child("thumbnail", document, limits or Limits())


def render_batch(pages: list[bytes], limits: Limits | None = None) -> list[tuple[bytes, bytes] | str]:
    """Several pages rendered in one child (WeasyPrint's start-up, half a second, paid once):
    for each, its PDF and the PNG of its first page, or why it failed. ``RenderFailed`` when
    the child as a whole ran out of time or memory: the caller then renders them one by one."""
    limits = limits or Limits()
    budget = Limits(seconds=limits.seconds + 2.0 * len(pages), memory_bytes=limits.memory_bytes)
    answer = pickle.loads(_in_child("batch", pickle.dumps(pages, protocol=pickle.HIGHEST_PROTOCOL), budget))
    return cast(list[tuple[bytes, bytes] | str], answer)


def _in_child(kind: str, data: bytes, limits: Limits) -> bytes:
    command = [sys.executable, "-m", "receipts.rendering", kind, str(limits.memory_bytes), str(int(limits.seconds) + 1)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=limits.seconds, cwd=str(ROOT),
                              check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"timeout: more than {limits.seconds:g} s") from None
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"code {done.returncode}"]
        raise RenderFailed(reason[0][:300])
    return done.stdout


def _child_pdf(page: bytes) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # Embedded ``data:`` images only: nothing is fetched from anywhere (a remote image is a read receipt).
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    document = weasyprint.HTML(string=page.decode("utf-8", "replace"), url_fetcher=fetcher)
    return document.write_pdf()  # type: ignore[no-any-return]


def _child_thumbnail(document: bytes) -> bytes:
    import io

    from PIL import Image

    if document[:1024].find(b"%PDF-") >= 0:
        import pypdfium2

        pdf = pypdfium2.PdfDocument(document)
        page = pdf[0]
        width, height = page.get_size()
        scale = min(THUMBNAIL_WIDTH / max(width, 1.0), THUMBNAIL_MAX_HEIGHT / max(height, 1.0))
        image = page.render(scale=scale).to_pil()
    else:
        Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS
        image = Image.open(io.BytesIO(document))
        if image.width * image.height > IMAGE_MAX_PIXELS:
            raise ValueError("the image is too large to draw")
        image.draft("RGB", (THUMBNAIL_WIDTH * 2, THUMBNAIL_MAX_HEIGHT * 2))
        image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _serve(kind: str, memory_bytes: int, cpu_seconds: int) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    data = sys.stdin.buffer.read()
    if kind == "batch":
        results: list[tuple[bytes, bytes] | str] = []
        for page in pickle.loads(data):
            try:
                pdf = _child_pdf(page)
                results.append((pdf, _child_thumbnail(pdf)))
            except MemoryError:
                results.append("memory: more than the renderer's memory limit")
            except Exception as exc:  # this page's trouble: the others are rendered
                results.append(f"{type(exc).__name__}: {exc}"[:300])
        sys.stdout.buffer.write(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
        return 0
    try:
        out = _child_pdf(data) if kind == "pdf" else _child_thumbnail(data)
    except MemoryError:
        print("memory: more than the renderer's memory limit", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}"[:300], file=sys.stderr)
        return 1
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
