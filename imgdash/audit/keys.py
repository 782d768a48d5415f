"""The action log's MAC keys: IMGDASH_AUDIT_KEY, the first signs new rows, all verify.

A row names the key that signed it by a key id: an HMAC of a fixed text under the key, so the
id says which key without saying anything about it. Keys are never stored in the database.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

_KEY_ID_TEXT = b"imgdash action log key id"


def audit_keys():
    """IMGDASH_AUDIT_KEY, or on a local installation without it its own key file.

    The file is made on first use, readable by its owner only, beside the local database: the
    demo's and a developer's log then stays verifiable across restarts without any set-up.
    """
    if settings.AUDIT_KEYS or not settings.LOCAL:
        return list(settings.AUDIT_KEYS)
    key_file = settings.AUDIT_KEY_FILE
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(32) + "\n")
    return [line.strip() for line in key_file.read_text().splitlines() if line.strip()]


def key_id(key):
    return hmac.new(key.encode(), _KEY_ID_TEXT, hashlib.sha256).hexdigest()[:16]


def signing_key():
    """(key id, key bytes) of the key that signs new rows."""
    key = audit_keys()[0]
    return key_id(key), key.encode()


def verifying_keys():
    """{key id: key bytes} of every configured key."""
    return {key_id(key): key.encode() for key in audit_keys()}
