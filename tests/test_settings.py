"""Start-up refuses unsafe settings with a message naming the variable."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _start(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"ENCRYPTION_KEY", "DEBUG", "SECRET_KEY"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_encryption_key_outside_debug_stops_start_up() -> None:
    result = _start({"SECRET_KEY": "s", "DEBUG": "false"})
    assert result.returncode != 0
    assert "ENCRYPTION_KEY must be set" in result.stderr


def test_malformed_encryption_key_stops_start_up_even_in_debug() -> None:
    result = _start({"SECRET_KEY": "s", "DEBUG": "true", "ENCRYPTION_KEY": "not-a-fernet-key"})
    assert result.returncode != 0
    assert "ENCRYPTION_KEY is malformed" in result.stderr


def test_second_rotation_key_is_validated_too() -> None:
    good = "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8="
    result = _start({"SECRET_KEY": "s", "ENCRYPTION_KEY": f"{good},short"})
    assert result.returncode != 0
    assert "key #2 is not a Fernet key" in result.stderr


def test_valid_key_starts() -> None:
    result = _start({"SECRET_KEY": "s", "ENCRYPTION_KEY": "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8="})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_contract_defaults_when_variables_are_unset() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "from gmail_sync import quota; "
        "print(s.RUN_TO_COMPLETION, s.MAX_SECONDS_PER_RUN, s.GMAIL_QUOTA_MODEL, s.GMAIL_QUOTA_UNITS_PER_SECOND, "
        "quota.per_user_budget(), s.TIME_ZONE, "
        "s.GMAIL_API_ROOT_URL, s.GOOGLE_TOKEN_URI, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    unset = {"RUN_TO_COMPLETION", "MAX_SECONDS_PER_RUN", "GMAIL_QUOTA_MODEL", "GMAIL_QUOTA_UNITS_PER_SECOND", "TIME_ZONE",
             "GMAIL_API_ROOT_URL", "GOOGLE_TOKEN_URI", "DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset | {"ENCRYPTION_KEY", "DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "s",
                "ENCRYPTION_KEY": "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8="})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "120", "2026", "None", "98.0", "Asia/Jerusalem", "https://gmail.googleapis.com/",
        "https://oauth2.googleapis.com/token", "django.db.backends.sqlite3", "memory://",
    ]


@pytest.mark.parametrize(("redis_url", "expected"), [("", "True"), ("redis://127.0.0.1:6379/15", "False")])
def test_without_redis_a_started_sync_runs_in_a_thread_by_default(redis_url: str, expected: str) -> None:
    """No request runs a sync: without a worker (no REDIS_URL) it gets a thread of its own."""
    env = {k: v for k, v in os.environ.items() if k not in {"RUN_SYNCS_IN_THREAD", "REDIS_URL", "DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "s", "REDIS_URL": redis_url,
                "ENCRYPTION_KEY": "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8="})
    code = "import django; django.setup(); from django.conf import settings as s; print(s.RUN_SYNCS_IN_THREAD)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected]
