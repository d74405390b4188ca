"""The production settings: `check --deploy` clean, static files served with DEBUG off, a CSP."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from gmail_sync.accounts import api_user_create

ROOT = Path(__file__).resolve().parent.parent
# The production settings the README documents (a real deployment has its own values).
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false",
    "SECRET_KEY": "h8#kq2!vz6w@t1p$y9m^r4c&x7b(e3n)s5u-a0d+f=gjLQWERTYZ",
    "ENCRYPTION_KEY": "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8=", "REDIS_URL": "redis://127.0.0.1:6379/14",
    "ALLOWED_HOSTS": "receipts.example.com", "DATABASE_URL": "sqlite:////tmp/receipts-deploy-check.sqlite3",
}


def _check_deploy(**changes: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"HTTPS_ONLY", "BEHIND_TLS_PROXY", "SECURE_HSTS_SECONDS"}}
    env.update(PRODUCTION, **changes)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_documented_production_settings() -> None:
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_of_a_deployment_without_a_worker_or_https() -> None:
    result = _check_deploy(REDIS_URL="", HTTPS_ONLY="false")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for check in ("gmail_sync.W001", "security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output, check


@pytest.mark.django_db
def test_with_debug_off_pages_are_styled_from_collected_static_files(settings, tmp_path: Path) -> None:
    """GIVEN DEBUG off and collectstatic run WHEN the admin's sign-in page is read THEN its
    stylesheet has a hashed name and WhiteNoise serves it, long-cached."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()
    page = client.get("/admin/login/").content.decode()
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the admin's stylesheet is not served under a hashed name"
    response = client.get(stylesheet.group(1))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert "immutable" in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_whose_nonce_the_dashboard_script_has() -> None:
    user, _ = api_user_create(username="dana", business_name="Bakery", password="pw-Strong-123")
    client = Client()
    client.force_login(user)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in attributes or "src=" in attributes for attributes in scripts)


@pytest.mark.django_db
def test_swagger_ui_is_served_from_this_server_not_a_cdn() -> None:
    _, token = api_user_create(username="owner", business_name="Bakery")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in source for source in sources)
    assert all(source.startswith("/") for source in sources), sources
    assert "<script>" not in page  # no inline script: the start-up script is a file of its own
