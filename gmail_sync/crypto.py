"""Encryption of secrets at rest (Gmail refresh tokens) with Fernet.

``settings.ENCRYPTION_KEYS`` holds one or more keys: the first encrypts, every one of them
decrypts, so a key is rotated by putting the new key first and keeping the old one second
until every stored value has been re-encrypted with ``rotate``. There is no plaintext fallback: a value
that no key decrypts is an error, never returned as-is.
"""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """No configured ENCRYPTION_KEY decrypts the stored value."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the first key; the result is ASCII text safe for a column."""
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    """Decrypt with any configured key, or raise ``DecryptionError``."""
    try:
        return _current().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError(
            "The stored token cannot be decrypted with any ENCRYPTION_KEY; "
            "restore the old key (second in the list) or reconnect the account."
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt a value under the first key (it may have been written under an older one)."""
    try:
        return _current().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("The stored token cannot be decrypted with any ENCRYPTION_KEY.") from exc
