"""Settings for the test suite: the base settings with a fixed test key and fast hashing."""
import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")
# A fixed Fernet key for tests only; production keys come from the environment.
os.environ.setdefault("ENCRYPTION_KEY", "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8=")

from .settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not SQLite's shared in-memory cache: threads of the live server and of background
    # syncs then wait for each other's locks (the 30-second timeout) instead of failing at once
    # with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}  # noqa: F405
