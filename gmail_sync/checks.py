"""Deployment checks of our own, run by ``manage.py check --deploy`` beside Django's."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def syncs_have_a_worker(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Without REDIS_URL there is no Celery worker: syncs run in threads of the web process,
    which a restart or a recycled server process ends (the sweeper cannot resume them without beat)."""
    if settings.REDIS_URL:
        return []
    return [Warning(
        "REDIS_URL is not set: syncs run in threads of the web server, not in Celery workers.",
        hint="Set REDIS_URL and run `celery -A config worker` and `celery -A config beat` (make worker, make beat).",
        id="gmail_sync.W001",
    )]
