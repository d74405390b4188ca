from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from gmail_sync import crypto
from gmail_sync.models import GmailAccount
from tests.factories import GmailAccountFactory

TOKEN = "1//0gSECRET-refresh-token-value"


def test_encrypt_round_trips_and_hides_the_token() -> None:
    sealed = crypto.encrypt(TOKEN)
    assert TOKEN not in sealed
    assert crypto.decrypt(sealed) == TOKEN


def test_rotation_new_key_first_still_decrypts_old_tokens(settings) -> None:
    old_key = settings.ENCRYPTION_KEYS[0]
    sealed_under_old = crypto.encrypt(TOKEN)
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    assert crypto.decrypt(sealed_under_old) == TOKEN
    # New writes use the new key: the new key alone decrypts them.
    sealed_under_new = crypto.encrypt(TOKEN)
    settings.ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(sealed_under_new) == TOKEN
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed_under_old)


def test_rotate_re_encrypts_under_the_first_key(settings) -> None:
    old_key = settings.ENCRYPTION_KEYS[0]
    sealed = crypto.encrypt(TOKEN)
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    rotated = crypto.rotate(sealed)
    settings.ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == TOKEN


@pytest.mark.parametrize("stored", [TOKEN, "MS8vMGdTRUNSRVQ=", ""])
def test_no_plaintext_or_base64_fallback(stored: str) -> None:
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(stored or "gAAAA")


@pytest.mark.django_db
def test_account_stores_only_ciphertext() -> None:
    account = GmailAccountFactory(refresh_token=TOKEN)
    row = GmailAccount.objects.values("refresh_token_encrypted").get(pk=account.pk)
    assert TOKEN not in row["refresh_token_encrypted"]
    assert GmailAccount.objects.get(pk=account.pk).refresh_token == TOKEN
