"""Changing a registry: every write is logged as intent before it is sent, then its outcome.

PUT and DELETE are never retried (the client guarantees it); a write whose answer never came
has outcome "unknown" and the user is asked to refresh rather than told it failed.
"""

import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache

from imgdash.audit.log import record_intent, record_outcome
from imgdash.imagemanager import (
    ImageManagerError,
    NotFound,
    OutcomeUnknown,
    ProtocolError,
    Unavailable,
)

CONFIRMATION_MAX_AGE = 3600


@dataclass
class Outcome:
    """What happened to one write, in the action log's words."""

    outcome: str  # ok | refused | failed | unknown
    error: ImageManagerError | None = None

    @property
    def ok(self):
        return self.outcome == "ok"

    @property
    def gone(self):
        return isinstance(self.error, NotFound)

    @property
    def message(self):
        if self.error is None:
            return ""
        if self.outcome == "unknown":
            return (
                "Outcome unknown: the request was sent but no answer came, so it may or may "
                "not have been applied. Refresh to check; it was not retried."
            )
        return self.error.message


def classify(error):
    if isinstance(error, OutcomeUnknown):
        return "unknown"
    if isinstance(error, Unavailable | ProtocolError) or error.status is None:
        return "failed"
    if error.status >= 500:
        return "failed"
    return "refused"


def perform(request, cluster, action, target, details, send):
    """Log the intent (committed), call send(), log the outcome whatever happens."""
    intent = record_intent(request, action, cluster=cluster, target=target, details=details)
    try:
        send()
    except ImageManagerError as error:
        result = Outcome(classify(error), error)
        record_outcome(
            intent,
            result.outcome,
            status=error.status,
            message=result.message,
            details={"error": error.excerpt} if error.excerpt else None,
        )
        return result
    except BaseException as error:
        # A bug of ours between sending and answering: the call may have gone out.
        record_outcome(intent, "unknown", message=f"imgdash error: {type(error).__name__}")
        raise
    record_outcome(intent, "ok", status=200)
    return Outcome("ok")


# Double-submit protection: each confirmation form carries a signed, single-use token; the
# first POST that claims it (an atomic cache add, shared by all workers) is the only one sent.


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
    return cache.add(f"confirm-used:{data['nonce']}", 1, timeout=CONFIRMATION_MAX_AGE + 60)
