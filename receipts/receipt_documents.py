"""Each receipt's document (its mailed PDF or image, else its email rendered to PDF) and the
thumbnail of the document's first page, both stored content-addressed and made once."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet

from .files import safe_filename, sha256_hex, store_content
from .models import Receipt, ReceiptAttachment
from .rendering import RenderFailed, render_batch, render_pdf, thumbnail_png

logger = logging.getLogger(__name__)

DOCUMENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff",
                  "image/bmp", "image/heic"]


@dataclass(frozen=True)
class Document:
    name: str  # on Django's storage
    content_type: str
    filename: str
    rendered: bool  # made from the email, not mailed

    @property
    def sha256(self) -> str:
        return self.name.rsplit("/", 1)[-1].split(".", 1)[0]


def mailed_document(receipt: Receipt) -> ReceiptAttachment | None:
    """The receipt's own file: its first stored PDF, else its first stored image."""
    stored = [a for a in receipt.attachments.all() if a.file]
    stored.sort(key=lambda a: (DOCUMENT_TYPES.index(a.content_type) if a.content_type in DOCUMENT_TYPES else 99, a.pk))
    return stored[0] if stored else None


def receipt_document(receipt: Receipt, *, render: bool = True) -> Document | None:
    """The receipt's document: its mailed file unchanged, or its email as a PDF (rendered now,
    once, when ``render`` and it is not yet). None when there is none (yet)."""
    attachment = mailed_document(receipt)
    if attachment is not None:
        return Document(attachment.file.name or "", attachment.content_type, attachment.filename, rendered=False)
    name = receipt.rendered_file or (ensure_rendered(receipt) if render else "")
    if not name:
        return None
    return Document(name, "application/pdf", document_filename(receipt), rendered=True)


def document_filename(receipt: Receipt) -> str:
    day = receipt.receipt_date or (receipt.received_at.date() if receipt.received_at else None)
    who = receipt.vendor or receipt.sender_name or receipt.sender_email or "receipt"
    return safe_filename(f"{day or 'undated'} {who}.pdf", "application/pdf")


def ensure_rendered(receipt: Receipt) -> str:
    """Render the receipt's kept email to PDF unless it is already; the PDF's storage name, or ""
    (no kept email, or it could not be rendered: logged, tried again next time)."""
    if receipt.rendered_file or not receipt.body_file:
        return receipt.rendered_file
    try:
        with default_storage.open(receipt.body_file, "rb") as handle:
            page = handle.read()
        pdf = render_pdf(page)
    except (OSError, RenderFailed) as exc:
        logger.warning("receipt %s: its email could not be rendered (%s)", receipt.pk, exc)
        receipt.render_error = str(exc)[:300]
        Receipt.objects.filter(pk=receipt.pk).update(render_error=receipt.render_error)
        return ""
    name = store_content(pdf, sha256_hex(pdf), "documents", ".pdf")
    Receipt.objects.filter(pk=receipt.pk).update(rendered_file=name, render_error="")
    receipt.rendered_file = name
    return name


def ensure_thumbnail(document: Document) -> str:
    """The thumbnail of the document's first page, drawn once; its storage name, or "" when it
    cannot be drawn (a format the drawing cannot read, a broken file)."""
    name = f"thumbnails/{document.sha256[:2]}/{document.sha256}.png"
    if default_storage.exists(name):
        return name
    try:
        with default_storage.open(document.name, "rb") as handle:
            png = thumbnail_png(handle.read())
    except (OSError, RenderFailed) as exc:
        logger.info("no thumbnail for %s (%s)", document.name, exc)
        return ""
    digest = document.sha256
    return store_content(png, digest, "thumbnails", ".png")


RENDER_BATCH = 25


def render_pending(limit: int = 100, queryset: QuerySet[Receipt] | None = None) -> int:
    """Render the emails of receipts that have no document yet, newest first, with their
    thumbnails; how many were. Rendered RENDER_BATCH at a time in one child; a batch whose child
    fails as a whole is rendered one by one. One that failed before is left to a request for its
    document (which tries again)."""
    candidates = queryset if queryset is not None else Receipt.objects.all()
    waiting = list(candidates.filter(~Q(body_file=""), rendered_file="", render_error="").order_by("-id")[:limit])
    done = 0
    for start in range(0, len(waiting), RENDER_BATCH):
        batch, pages = [], []
        for receipt in waiting[start:start + RENDER_BATCH]:
            try:
                with default_storage.open(receipt.body_file, "rb") as handle:
                    pages.append(handle.read())
                batch.append(receipt)
            except OSError as exc:
                logger.warning("receipt %s: its kept email cannot be read (%s)", receipt.pk, exc)
                Receipt.objects.filter(pk=receipt.pk).update(render_error=f"its kept email cannot be read: {exc}"[:300])
        try:
            results = render_batch(pages) if pages else []
        except RenderFailed as exc:
            logger.info("a batch of %s documents failed as a whole (%s); rendering them one by one", len(batch), exc)
            for receipt in batch:
                if ensure_rendered(receipt):
                    done += 1
                    document = receipt_document(receipt, render=False)
                    if document is not None:
                        ensure_thumbnail(document)
            continue
        for receipt, result in zip(batch, results, strict=True):
            if isinstance(result, str):
                logger.warning("receipt %s: its email could not be rendered (%s)", receipt.pk, result)
                Receipt.objects.filter(pk=receipt.pk).update(render_error=result[:300])
                continue
            pdf, png = result
            digest = sha256_hex(pdf)
            name = store_content(pdf, digest, "documents", ".pdf")
            store_content(png, digest, "thumbnails", ".png")
            Receipt.objects.filter(pk=receipt.pk).update(rendered_file=name, render_error="")
            done += 1
    return done
