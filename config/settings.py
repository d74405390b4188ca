"""Settings, read from the environment with django-environ.

Every variable is listed with its default in ``.env.example`` and the README. Values that
would make the service unsafe (no encryption key outside DEBUG, a malformed key) stop
start-up with a message that names the variable.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Django's generic classes (ModelAdmin[Receipt], Serializer[...]) subscriptable at run time, as
# the type checker reads them.
django_stubs_ext.monkeypatch()

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="").strip()  # blank is unset
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS ------------------------------------------------------------------------------
# Outside DEBUG the site is served over HTTPS only: plain HTTP is redirected, cookies are sent
# only over HTTPS, and browsers are told (HSTS) to use nothing else for a year.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Behind a proxy that ends TLS (a load balancer, a PaaS router), the proxy's X-Forwarded-Proto
# says whether the request came over HTTPS; trust it only where such a proxy is in front.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Being on browsers' HSTS preload list is a decision for the domain's owner, not this app's.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp): scripts only from this server or inline with the
# request's nonce; no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}


def _encryption_keys(raw: str) -> list[str]:
    """Validate ``ENCRYPTION_KEY``: one or more comma-separated Fernet keys, first encrypts."""
    from cryptography.fernet import Fernet

    keys = [part.strip() for part in raw.split(",") if part.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEY is malformed: key #{position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)."
            ) from exc
    return keys


_raw_encryption_key = env.str("ENCRYPTION_KEY", default="")
if _raw_encryption_key.strip():
    ENCRYPTION_KEYS = _encryption_keys(_raw_encryption_key)
elif DEBUG:
    # Development only: a key derived from SECRET_KEY, so tokens are still encrypted.
    ENCRYPTION_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]
else:
    raise ImproperlyConfigured(
        "ENCRYPTION_KEY must be set when DEBUG is false: it encrypts Gmail refresh tokens at rest."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",  # Swagger UI served from this server, not a CDN
    "csp",
    "django_celery_results",
    "django_celery_beat",
    "gmail_sync",
    "receipts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, from STATIC_ROOT (collectstatic)
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out sign-in
]
# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for a username from one
# address, that pair is refused for AXES_COOLOFF_MINUTES; the admin lists and clears attempts.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Jerusalem")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names and compressed copies, written by collectstatic and served by WhiteNoise.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
# Empty is unset: an empty path would be the working directory (with .env and the database in it).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="").strip() or BASE_DIR / "media")

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Google and Gmail -------------------------------------------------------------------
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
GOOGLE_OAUTH_REDIRECT_URI = env.str("GOOGLE_OAUTH_REDIRECT_URI", default="")
GMAIL_API_ROOT_URL = env.str("GMAIL_API_ROOT_URL", default="https://gmail.googleapis.com/")
if not GMAIL_API_ROOT_URL.endswith("/"):
    GMAIL_API_ROOT_URL += "/"
GOOGLE_TOKEN_URI = env.str("GOOGLE_TOKEN_URI", default="https://oauth2.googleapis.com/token")
GOOGLE_AUTH_URI = env.str("GOOGLE_AUTH_URI", default="https://accounts.google.com/o/oauth2/auth")
GOOGLE_REVOKE_URI = env.str("GOOGLE_REVOKE_URI", default="https://oauth2.googleapis.com/revoke")
# Gmail's quota model (gmail_sync/quota.py): "2026" (6,000 units per user per minute, get 20)
# or "legacy" (250 units per user per second, get 5). The per-user budget comes from the model
# unless GMAIL_QUOTA_UNITS_PER_SECOND overrides it.
GMAIL_QUOTA_MODEL = env.str("GMAIL_QUOTA_MODEL", default="2026")
if GMAIL_QUOTA_MODEL not in {"2026", "legacy"}:
    raise ImproperlyConfigured("GMAIL_QUOTA_MODEL must be 2026 or legacy.")


def _optional_rate(name: str) -> float | None:
    """A positive number of units per second, or None when the variable is unset or empty."""
    text = env.str(name, default="").strip()
    try:
        value = float(text) if text else None
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a positive number, or empty.") from None
    if value is not None and not value > 0:
        raise ImproperlyConfigured(f"{name} must be a positive number, or empty.")
    return value


GMAIL_QUOTA_UNITS_PER_SECOND = _optional_rate("GMAIL_QUOTA_UNITS_PER_SECOND")
# The budget every account of this Google project shares, across every worker process and
# machine (through Redis when REDIS_URL is set): the model's unless this overrides it.
GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND = _optional_rate("GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND")
# The most one batch of messages.get may answer: a larger answer is dropped unread and its
# messages fetched in halves (one message alone that large is that message's error).
GMAIL_BATCH_MAX_MB = env.int("GMAIL_BATCH_MAX_MB", default=100)
if GMAIL_BATCH_MAX_MB < 1:
    raise ImproperlyConfigured("GMAIL_BATCH_MAX_MB must be at least 1.")

# --- Sync runs --------------------------------------------------------------------------
RUN_TO_COMPLETION = env.bool("RUN_TO_COMPLETION", default=False)
MAX_SECONDS_PER_RUN = env.int("MAX_SECONDS_PER_RUN", default=120)
if MAX_SECONDS_PER_RUN <= 0:
    raise ImproperlyConfigured("MAX_SECONDS_PER_RUN must be a positive number of seconds.")
# The dashboard's upload form takes mbox files up to this size; larger ones are imported on the
# server with `manage.py import_takeout`. Uploads wait in TAKEOUT_UPLOAD_DIR (never served) until
# their import completes.
TAKEOUT_UPLOAD_MAX_MB = env.int("TAKEOUT_UPLOAD_MAX_MB", default=100)
if TAKEOUT_UPLOAD_MAX_MB < 1:
    raise ImproperlyConfigured("TAKEOUT_UPLOAD_MAX_MB must be at least 1.")
TAKEOUT_UPLOAD_DIR = env.str("TAKEOUT_UPLOAD_DIR", default="").strip()  # empty: MEDIA_ROOT/takeout-uploads
# A range scan reads the mail most likely to be receipts first (gmail_sync/likely.py), then the rest.
SYNC_RECEIPTS_FIRST = env.bool("SYNC_RECEIPTS_FIRST", default=True)
# A running run whose heartbeat is older than this is taken to be orphaned by a dead worker.
SYNC_STALE_AFTER_SECONDS = env.int("SYNC_STALE_AFTER_SECONDS", default=300)
# A Celery task runs a run for at most this long before handing it on to the next task.
SYNC_TASK_SOFT_TIME_LIMIT = env.int("SYNC_TASK_SOFT_TIME_LIMIT", default=3600)
if SYNC_TASK_SOFT_TIME_LIMIT < 60:
    raise ImproperlyConfigured("SYNC_TASK_SOFT_TIME_LIMIT must be at least 60 seconds.")
# Without REDIS_URL (no worker), a sync started from the API or the dashboard runs in a background
# thread of the web process, so that no request runs a sync (a server's request timeout would kill
# it midway). False runs it inside the request that started it.
RUN_SYNCS_IN_THREAD = env.bool("RUN_SYNCS_IN_THREAD", default=not env.str("REDIS_URL", default=""))
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024)
ATTACHMENTS_MAX_PER_RECEIPT = env.int("ATTACHMENTS_MAX_PER_RECEIPT", default=20)
if ATTACHMENTS_MAX_PER_RECEIPT < 1:
    raise ImproperlyConfigured("ATTACHMENTS_MAX_PER_RECEIPT must be at least 1.")
# Each message is parsed and recognised in a child process with these limits (receipts/sandbox.py):
# a message that needs more memory or time, or crashes the parser, is one error and the run goes on.
EXAMINE_IN_SANDBOX = env.bool("EXAMINE_IN_SANDBOX", default=True)
SANDBOX_MEMORY_MB = env.int("SANDBOX_MEMORY_MB", default=1024)
SANDBOX_SECONDS_PER_MESSAGE = env.float("SANDBOX_SECONDS_PER_MESSAGE", default=30.0)
if SANDBOX_MEMORY_MB < 256:
    raise ImproperlyConfigured("SANDBOX_MEMORY_MB must be at least 256 (the reader's libraries need about 150).")
if SANDBOX_SECONDS_PER_MESSAGE <= 0:
    raise ImproperlyConfigured("SANDBOX_SECONDS_PER_MESSAGE must be a positive number of seconds.")

# --- Celery -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A slice is acknowledged only when it ends; a worker killed mid-slice leaves it queued.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis re-delivers an unacknowledged task after this many seconds; it must be well above
# the longest slice (MAX_SECONDS_PER_RUN) so a live slice is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": max(3600, MAX_SECONDS_PER_RUN * 4)}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
SYNC_SWEEP_EVERY_SECONDS = env.int("SYNC_SWEEP_EVERY_SECONDS", default=60)
# Minutes between automatic incremental syncs of every connected account; 0 turns them off.
PERIODIC_INCREMENTAL_SYNC_MINUTES = env.int("PERIODIC_INCREMENTAL_SYNC_MINUTES", default=0)
# Seconds between renderings of the documents of receipts that are only an email (0: only on request).
RENDER_DOCUMENTS_EVERY_SECONDS = env.int("RENDER_DOCUMENTS_EVERY_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-sync-runs": {"task": "gmail_sync.sweep_stale_runs", "schedule": float(SYNC_SWEEP_EVERY_SECONDS)},
}
if RENDER_DOCUMENTS_EVERY_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["render-documents"] = {"task": "receipts.render_documents",
                                                "schedule": float(RENDER_DOCUMENTS_EVERY_SECONDS)}
if PERIODIC_INCREMENTAL_SYNC_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["incremental-sync-all"] = {
        "task": "gmail_sync.incremental_sync_all",
        "schedule": PERIODIC_INCREMENTAL_SYNC_MINUTES * 60.0,
    }

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gmail_sync.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["config.api.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.UserThrottle"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # `format` is the export's own parameter (?format=csv), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
}
# API tokens (knox): stored as SHA-512 digests, shown once, valid this many days.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
if API_TOKEN_TTL_DAYS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_DAYS must be at least 1.")
REST_KNOX = {"AUTH_HEADER_PREFIX": "Bearer", "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS)}
# Requests per user (DRF's rate syntax, e.g. 600/min; empty: no limit), and sync starts per user.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min") or None
SYNC_START_THROTTLE_RATE = env.str("SYNC_START_THROTTLE_RATE", default="20/hour") or None
SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Receipts sync API",
    "DESCRIPTION": "Sync receipts and invoices from Gmail; watch runs; browse and export receipts.",
    "VERSION": "1.0.0",
}

# --- Mail ---------------------------------------------------------------------------------
# Only for password resets, which are offered only when EMAIL_HOST is set.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="receipts-sync@localhost")

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "gmail_sync": {"level": LOG_LEVEL},
        "receipts": {"level": LOG_LEVEL},
        # Damaged PDFs in mail are common; pypdf's complaints about them are noise.
        "pypdf": {"level": "ERROR"},
    },
}
