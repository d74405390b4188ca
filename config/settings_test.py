"""Settings for the test suite: the base settings with a fixed test key and fast hashing."""
import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")
# A fixed Fernet key for tests only; production keys come from the environment.
os.environ.setdefault("ENCRYPTION_KEY", "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8=")
# The test servers speak plain HTTP (the production settings' HTTPS is checked by test_deploy_check).
os.environ.setdefault("HTTPS_ONLY", "false")

from .settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files as the apps hold them (WhiteNoise finds them there), without collectstatic.
STATIC_ROOT = None  # type: ignore[assignment]
WHITENOISE_USE_FINDERS = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not SQLite's shared in-memory cache: threads of the live server and of background
    # syncs then wait for each other's locks (the 30-second timeout) instead of failing at once
    # with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}  # noqa: F405
