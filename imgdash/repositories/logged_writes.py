"""Changing a registry: every write is logged as intent before it is sent, then its outcome.

PUT and DELETE are never retried (the client guarantees it); a write whose answer never came
has outcome "unknown" and the user is asked to refresh rather than told it failed.
"""

from dataclasses import dataclass

from imgdash.audit.log import record_intent, record_outcome
from imgdash.imagemanager import (
    ImageManagerError,
    NotFound,
    OutcomeUnknown,
    ProtocolError,
    Unavailable,
)


@dataclass
class WriteResult:
    """What happened to one write: its `outcome` in the action log's words, and the error."""

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
    """The action log's outcome for a failed call: unknown, failed or refused."""
    if isinstance(error, OutcomeUnknown):
        return "unknown"
    if isinstance(error, Unavailable | ProtocolError) or error.status is None:
        return "failed"
    if error.status >= 500:
        return "failed"
    return "refused"


def perform(request, cluster, action, target, details, send, before_send=None):
    """Log the intent (committed), call send(), log the outcome whatever happens.

    `request` may be an audit Origin (work running outside the request that asked for it).
    `before_send(intent)`, if given, runs after the intent is committed and before the call.
    """
    intent = record_intent(request, action, cluster=cluster, target=target, details=details)
    if before_send is not None:
        try:
            before_send(intent)
        except BaseException as error:
            message = f"Not sent: imgdash error {type(error).__name__}"
            record_outcome(intent, "failed", message=message)
            raise
    try:
        send()
    except ImageManagerError as error:
        result = WriteResult(classify(error), error)
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
    return WriteResult("ok")
