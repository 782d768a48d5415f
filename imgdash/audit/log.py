"""The action log's one API: record_event, record_intent, record_outcome.

    record_event(request, "credential.disconnect", cluster=cluster, target=..., message=...)

    intent = record_intent(request, "repository.delete", cluster=cluster, target=name)
    ... the upstream call (committed intent first, so a crash leaves a visible trace) ...
    record_outcome(intent, "ok" | "refused" | "failed" | "unknown", status=..., message=...)

Every row is appended to a keyed hash chain (chain.py) under a lock that serialises writers
across processes (PostgreSQL: an advisory transaction lock; SQLite: `BEGIN IMMEDIATE`, set in
settings), and its head anchored outside the database when due (anchors.py).
Recorded text is escaped (no raw control characters or newlines) and scrubbed of anything that
looks like a token or password; callers still must never pass secrets.
"""

import ipaddress
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from imgdash.audit.actions import INTENT, OUTCOMES
from imgdash.audit.anchors import anchor_if_due
from imgdash.audit.chain import GENESIS, seal
from imgdash.audit.models import AuditEvent
from imgdash.imagemanager import HIDDEN_CHARACTERS, redact_secrets, visible_text

logger = logging.getLogger("imgdash.audit")

# pg_advisory_xact_lock key for the chain's head ("imgd" in ASCII).
CHAIN_LOCK = 0x696D6764

MAX_TARGET = 500
MAX_MESSAGE = 1000
MAX_USERNAME = 150
MAX_USER_AGENT = 300
MAX_DETAIL_TEXT = 2000
MAX_DETAILS_JSON = 16000

REDACTED = "[redacted]"
REDACTED_TOKEN = "[redacted token]"  # noqa: S105 - the replacement text
_SECRET_KEY = re.compile(r"token|passw|secret|authori[sz]ation|cookie|api[_-]?key", re.IGNORECASE)
# fullmatch: "$" would let a trailing newline through.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def clean_text(value, limit):
    """Text safe to store and show: tokens scrubbed, control characters escaped, length capped."""
    if value is None:
        return ""
    text = redact_secrets(str(value), token_text=REDACTED_TOKEN)
    # Anything that could break a log line or make displayed text lie about what it says.
    text = visible_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_value(value):
    if isinstance(value, dict):
        return {
            clean_text(key, 200): REDACTED if _SECRET_KEY.search(str(key)) else _clean_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean_value(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # PostgreSQL's jsonb gives 1e+20 back as 100000000000000000000: keep the hash stable.
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    return clean_text(value, MAX_DETAIL_TEXT)


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def clean_details(details):
    """A JSON object safe to store: secrets by key name redacted, text cleaned, size capped."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        details = {"value": details}
    plain = json.loads(json.dumps(details, cls=_Encoder))
    cleaned = _clean_value(plain)
    text = json.dumps(cleaned, ensure_ascii=False)
    if len(text) > MAX_DETAILS_JSON:
        return {"truncated": clean_text(text, MAX_DETAIL_TEXT)}
    return cleaned


def valid_request_id(value):
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


def client_ip(request):
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n the address the n-th proxy saw.

    X-Forwarded-For is client-controlled except for the entries our own proxies appended, so
    only the n-th entry from the right is trusted, and only when the setting says n proxies
    stand in front of imgdash.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return ""


@dataclass(frozen=True)
class Origin:
    """Who asked for some work, from where, in which request: kept with work that runs later
    (a job in a worker), so the rows it logs name the same actor, client IP and request id.

    Pass it wherever the log's functions take a request.
    """

    user: object
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


def origin_of(request):
    """The Origin of `request`: its user and the facts the log records about it."""
    return Origin(user=request.user, **_request_facts(request))


def _request_facts(request):
    if request is None:
        return {"ip": "", "user_agent": "", "request_id": ""}
    if isinstance(request, Origin):
        request_id = request.request_id
        return {
            "ip": request.ip,
            "user_agent": clean_text(request.user_agent, MAX_USER_AGENT),
            "request_id": request_id if valid_request_id(request_id) else "",
        }
    request_id = getattr(request, "request_id", "")
    return {
        "ip": client_ip(request),
        "user_agent": clean_text(request.META.get("HTTP_USER_AGENT", ""), MAX_USER_AGENT),
        "request_id": request_id if valid_request_id(request_id) else "",
    }


def _actor(request, actor):
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is None:
        return None, ""
    return actor, clean_text(actor.get_username(), MAX_USERNAME)


def _lock_chain():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
    # SQLite: the settings open every transaction with BEGIN IMMEDIATE, which already holds
    # the database's write lock.


def _append(event, durable=False):
    """Insert `event` at the head of the chain, serialised against every other writer."""
    with transaction.atomic(durable=durable):
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.prev_hash = last or GENESIS
        # Taken under the lock, so time order follows chain order (clock steps aside).
        event.created_at = datetime.now(UTC)
        seal(event)
        event.save()
        anchor_if_due(event)
    logger.info(
        "audit %s %s actor=%s cluster=%s target=%s status=%s request=%s",
        event.action,
        event.outcome,
        event.actor_username or "-",
        event.cluster_name or "-",
        event.target or "-",
        event.status if event.status is not None else "-",
        event.request_id or "-",
    )
    return event


def _check_outcome(outcome):
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown audit outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")


def _check_action(action):
    if not action or len(action) > 64 or HIDDEN_CHARACTERS.search(action):
        raise ValueError(f"Bad audit action name {action!r}")


def _build(request, action, *, outcome, cluster, target, status, message, details, actor):
    _check_action(action)
    _check_outcome(outcome)
    actor, username = _actor(request, actor)
    return AuditEvent(
        actor=actor,
        actor_username=username,
        cluster=cluster,
        cluster_name=clean_text(cluster.name, 100) if cluster is not None else "",
        action=action,
        target=clean_text(target, MAX_TARGET),
        outcome=outcome,
        status=status if isinstance(status, int) and 0 <= status < 1000 else None,
        message=clean_text(message, MAX_MESSAGE),
        details=clean_details(details),
        **_request_facts(request),
    )


def record_event(
    request,
    action,
    *,
    outcome="ok",
    cluster=None,
    target="",
    status=None,
    message="",
    details=None,
    actor=None,
):
    """Append one finished event to the log and return it.

    `request` may be None (commands, signals without a request): the actor then comes from
    `actor=` or stays empty. Inside an outer transaction the row commits (or rolls back) with it.
    """
    event = _build(
        request,
        action,
        outcome=outcome,
        cluster=cluster,
        target=target,
        status=status,
        message=message,
        details=details,
        actor=actor,
    )
    return _append(event)


def record_intent(request, action, *, cluster=None, target="", details=None):
    """Commit the intent to mutate before the upstream call; returns it for record_outcome.

    It is committed when this returns: calling it inside transaction.atomic() is an error
    (RuntimeError), because a rollback would erase the trace of a call that did go out.
    """
    event = _build(
        request,
        action,
        outcome=INTENT,
        cluster=cluster,
        target=target,
        status=None,
        message="",
        details=details,
        actor=None,
    )
    return _append(event, durable=True)


def record_outcome(intent, outcome, *, status=None, message="", details=None):
    """Append the outcome of `intent` as a new row linked to it (rows are never updated)."""
    if not isinstance(intent, AuditEvent) or intent.outcome != INTENT or intent.pk is None:
        raise TypeError("record_outcome needs the event record_intent returned")
    if outcome == INTENT:
        raise ValueError("An outcome cannot be another intent")
    _check_outcome(outcome)
    event = AuditEvent(
        actor_id=intent.actor_id,
        actor_username=intent.actor_username,
        cluster_id=intent.cluster_id,
        cluster_name=intent.cluster_name,
        action=intent.action,
        target=intent.target,
        outcome=outcome,
        status=status if isinstance(status, int) and 0 <= status < 1000 else None,
        message=clean_text(message, MAX_MESSAGE),
        details=clean_details(details),
        intent=intent,
        ip=intent.ip,
        user_agent=intent.user_agent,
        request_id=intent.request_id,
    )
    return _append(event)
