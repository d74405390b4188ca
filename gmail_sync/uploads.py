"""Mbox files uploaded from the dashboard: kept (never served) until their import completes."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from .models import GmailAccount, SyncRun
from .services import ActiveRunExists, ImportRefused, import_start


class UploadRefused(ValueError):
    pass


def upload_dir() -> Path:
    return Path(settings.TAKEOUT_UPLOAD_DIR or Path(settings.MEDIA_ROOT) / "takeout-uploads")


def is_upload(path: str | Path) -> bool:
    """Whether ``path`` is a file this module saved (and may delete once imported)."""
    try:
        return Path(path).resolve().parent == upload_dir().resolve()
    except OSError:
        return False


def import_upload(*, account: GmailAccount, upload: UploadedFile[Any], requested_by: Any = None) -> SyncRun:
    """Save ``upload`` and start importing it (to completion); the file is removed when refused."""
    if upload.size is not None and upload.size > settings.TAKEOUT_UPLOAD_MAX_MB * 1024 * 1024:
        raise UploadRefused(f"The file is larger than {settings.TAKEOUT_UPLOAD_MAX_MB} MB: import it on the server "
                            "with manage.py import_takeout.")
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}.mbox"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        return import_start(account=account, path=path, run_to_completion=True, requested_by=requested_by)
    except ImportRefused as exc:
        path.unlink(missing_ok=True)
        raise UploadRefused(str(exc).replace(path.name, upload.name or "the file")) from None
    except ActiveRunExists as exc:
        path.unlink(missing_ok=True)
        raise UploadRefused(f"{exc} Wait for it to end, or cancel it, then upload again.") from None
