"""Attachment files: content sniffing, safe names, content-addressed storage."""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"BM", 0, "image/bmp"),
]
STORED_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff",
                "image/heic", "image/bmp"}
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
              "image/webp": ".webp", "image/tiff": ".tif", "image/heic": ".heic", "image/bmp": ".bmp"}


def sniff_content_type(data: bytes) -> str:
    """The type the bytes really are, whatever the mail claimed; octet-stream when unknown."""
    head = data[:64]
    # PDFs may carry junk before the header; readers accept it within the first KB.
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    for signature, offset, kind in SIGNATURES:
        if head[offset:offset + len(signature)] == signature:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in {b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"}:
        return "image/heic"
    return "application/octet-stream"


def safe_filename(name: str, content_type: str = "", max_length: int = 150) -> str:
    """A filename safe on any disk and in a header: no path, no control characters, bounded."""
    name = unicodedata.normalize("NFC", name or "")
    name = PureWindowsPath(PurePosixPath(name.replace("\x00", "")).name).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"/\\|?*]', "_", name).strip(" .")
    if not name or set(name) <= {"_", "."}:
        name = "attachment"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    expected = EXTENSIONS.get(content_type, "")
    if expected and ("." + ext.lower()) not in {expected, ".jpeg", ".tiff"}:
        stem, ext = name, expected.lstrip(".")
    ext = ext[:10]
    room = max_length - (len(ext) + 1 if ext else 0)
    return f"{stem[:room]}.{ext}" if ext else stem[:max_length]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_content(data: bytes, digest: str, folder: str = "attachments", suffix: str = "") -> str:
    """Save the bytes under their digest (once: identical files share one copy); return the name."""
    name = f"{folder}/{digest[:2]}/{digest}{suffix}"
    if isinstance(default_storage, FileSystemStorage):
        _write_once(default_storage, name, data)
    elif not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # a concurrent writer stored the same bytes first
            default_storage.delete(saved)
    return name


def _write_once(storage: FileSystemStorage, name: str, data: bytes) -> None:
    """Write a file that is there whole or not at all: the bytes go to a temporary file beside it,
    which is then renamed into place. A worker killed mid-write leaves no cut-short file under
    the name (which the next sync would take as already stored), and concurrent writers of the
    same bytes cannot harm each other. Plain system calls: Django's ``save`` costs four times as
    much CPU, finding a free name that a content-addressed file never needs."""
    path = storage.path(name)
    if os.path.exists(path):
        return
    folder = os.path.dirname(path)
    if storage.directory_permissions_mode is not None:
        old_umask = os.umask(0o777 & ~storage.directory_permissions_mode)
        try:
            os.makedirs(folder, storage.directory_permissions_mode, exist_ok=True)
        finally:
            os.umask(old_umask)
    else:
        os.makedirs(folder, exist_ok=True)
    partial = f"{path}.{secrets.token_hex(6)}.part"
    try:
        with open(partial, "xb") as handle:
            handle.write(data)
        if storage.file_permissions_mode is not None:
            os.chmod(partial, storage.file_permissions_mode)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
