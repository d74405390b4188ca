"""The Celery application.

Without ``REDIS_URL`` tasks run eagerly in the calling process, one after another, so the
demo and the tests need no broker. With it, slices are acknowledged late and re-queued if
the worker dies, so a SIGKILLed worker never swallows a slice.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("receipts_sync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
