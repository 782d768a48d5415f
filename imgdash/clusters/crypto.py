"""Cluster tokens at rest: MultiFernet over IMGDASH_TOKEN_KEYS (first encrypts, all decrypt)."""

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet():
    return MultiFernet([Fernet(key) for key in settings.TOKEN_KEYS])


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
