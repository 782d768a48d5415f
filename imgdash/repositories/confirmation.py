"""Double-submit protection for destructive forms.

Each confirmation form carries a signed, single-use token; the first POST that claims it (an
atomic claim shared by all workers, see locks.py) is the only one sent to the cluster.
"""

import secrets

from django.core import signing

from imgdash.clusters import locks

CONFIRMATION_MAX_AGE = 3600


def confirmation_token(user, purpose):
    payload = {"user": user.pk, "purpose": purpose, "nonce": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt="imgdash.confirm", compress=True)


def claim_confirmation(user, purpose, token):
    """True once per valid token; False for a replay, a forged, expired or foreign token."""
    try:
        data = signing.loads(token or "", salt="imgdash.confirm", max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature:
        return False
    if (
        not isinstance(data, dict)
        or data.get("user") != user.pk
        or data.get("purpose") != purpose
        or not data.get("nonce")
    ):
        return False
    return locks.claim(f"confirm-used:{data['nonce']}", timeout=CONFIRMATION_MAX_AGE + 60)
