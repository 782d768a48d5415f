"""Cluster tokens at rest: MultiFernet over IMGDASH_TOKEN_KEYS (first encrypts, all decrypt)."""

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def token_keys():
    """IMGDASH_TOKEN_KEYS, or on a local installation without them its own key file.

    The file is made on first use, readable by its owner only, beside the local database: a
    developer's or the demo's tokens then survive restarts without any set-up.
    """
    if settings.TOKEN_KEYS or not settings.LOCAL:
        return settings.TOKEN_KEYS
    key_file = settings.TOKEN_KEYS_FILE
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(Fernet.generate_key().decode() + "\n")
    return [line.strip() for line in key_file.read_text().splitlines() if line.strip()]


def _fernet():
    return MultiFernet([Fernet(key) for key in token_keys()])


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    """The plain token; raises InvalidToken when no configured key can read it."""
    return _fernet().decrypt(ciphertext.encode()).decode()


def reencrypt(ciphertext: str) -> str:
    """The same token under the first (newest) key."""
    return _fernet().rotate(ciphertext.encode()).decode()


def fingerprint(token: str) -> str:
    """A short, stable, non-reversible name for a token that can be shown to its owner."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


__all__ = ["InvalidToken", "decrypt_token", "encrypt_token", "fingerprint", "reencrypt"]
