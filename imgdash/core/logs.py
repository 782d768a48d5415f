"""Log records that say which request they belong to, as plain text or one JSON object a line.

The request id, user and cluster of the request being answered live in a context variable
(set by `RequestLogMiddleware`), so a line written deep in the upstream client still names
them. Imported by the LOGGING setting before the apps are ready: no models here.
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

from imgdash.imagemanager.redaction import redact_secrets

#: {"request_id", "user", "cluster", "secrets"} of the request this thread is answering;
#: "secrets" (its cookie values and Authorization header) are redacted, never written.
request_context: ContextVar[dict | None] = ContextVar("request_context", default=None)

CONTEXT_FIELDS = ("request_id", "user", "cluster")
# The fields a caller may add with `extra=`: anything else passed that way is left out of
# the JSON line, so a careless `extra={"headers": ...}` cannot carry a secret into the log.
EXTRA_FIELDS = (
    "method",
    "path",
    "view",
    "status",
    "duration_ms",
    "upstream_operation",
    "upstream_method",
    "upstream_status",
    "upstream_outcome",
)
# Words that are never a field name in a line, whatever a caller passes.
SECRET_WORDS = ("token", "password", "cookie", "authorization", "secret", "csrf", "session")


# `password=…`, `token: …`, `Cookie: …` and the like in free text: the value is redacted.
_SECRET_VALUE_RE = re.compile(
    r"(?i)\b(password|passwd|token|secret|cookie|sessionid|csrftoken|authorization)"
    r"([\"']?\s*[=:]\s*[\"']?)(?!\[redacted\])[^\s;,&\"']+"
)


def redact(text, known=()):
    """`text` with known secrets, JWT-shaped text, credentials after Bearer/Basic and the
    values of secret-named fields replaced by [redacted]."""
    text = redact_secrets(text, known)
    return _SECRET_VALUE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


def request_secrets(request):
    """What a request carries that no log line may show: its cookie values and its
    Authorization header."""
    found = [value for value in request.COOKIES.values() if len(value) >= 8]
    authorization = request.headers.get("Authorization", "")
    if authorization:
        found.append(authorization)
        found.extend(part for part in authorization.split() if len(part) >= 8)
    return tuple(found)


class RequestContextFilter(logging.Filter):
    """Puts the current request's id, user and cluster on every record ("" outside one)."""

    def filter(self, record):
        context = request_context.get() or {}
        for name in CONTEXT_FIELDS:
            if not getattr(record, name, ""):
                setattr(record, name, context.get(name, ""))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's context and
    the known fields; the message and any traceback with tokens and credentials redacted."""

    def format(self, record):
        known = (request_context.get() or {}).get("secrets", ())
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), known),
        }
        for name in (*CONTEXT_FIELDS, *EXTRA_FIELDS):
            value = getattr(record, name, None)
            if value not in (None, "") and not any(w in name for w in SECRET_WORDS):
                line[name] = redact(value, known) if isinstance(value, str) else value
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info), known)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain line (the default format), redacted as the JSON lines are: a cluster that
    echoes a request's cookie or token back in an error body must not put it in any log."""

    def format(self, record):
        known = (request_context.get() or {}).get("secrets", ())
        return redact(super().format(record), known)
