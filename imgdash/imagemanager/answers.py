"""The cluster's answer to one call, and how an operation reads it.

An answer that is not what the Image Manager API sends (a login page from a proxy,
invalid JSON, an object without the expected fields) is a :class:`ProtocolError` that
says to check the cluster's API URL: the usual cause is a URL pointing somewhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .claims import describe_token
from .errors import (
    DOCKER_TOKEN,
    OIDC_REFRESH,
    OIDC_TOKEN,
    SIGN_IN,
    ProtocolError,
    describe,
    sanitise_excerpt,
)
from .results import DockerToken, IdentityToken

_WEB_PAGE_TYPES = ("text/html", "application/xhtml+xml")
_JSON_FRIENDLY_TYPES = ("", "text/plain", "application/octet-stream")
# The Docker token specification's lifetime for a token that states none.
DOCKER_TOKEN_DEFAULT_TTL = 60
# A stated lifetime longer than this is not believed: the token is taken to last this long
# (10**19 s does not fit a date, and nothing a cluster issues is meant to outlive a year).
MAX_TOKEN_LIFETIME = 366 * 24 * 3600
# An issue time further than this from our clock is not believed either: now is used.
MAX_CLOCK_SKEW = timedelta(days=1)


@dataclass(slots=True)
class Answer:
    """An answer to one call, its body read under the size cap."""

    operation: str
    repository: str | None
    status: int
    media_type: str
    body: bytearray = field(default_factory=bytearray, repr=False)  # may hold tokens
    elapsed: float = 0.0
    attempts: int = 1
    # This client's token, to redact from excerpts (a session.Secrets, hidden from repr).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The answer's headers, by lower-case name (the registry's digest travels in one).
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def what(self) -> str:
        return describe(self.operation, self.repository)

    @property
    def is_web_page(self) -> bool:
        return self.media_type in _WEB_PAGE_TYPES


def protocol_error(answer: Answer, message: str, *, outcome_unknown: bool = False) -> ProtocolError:
    if answer.operation in (SIGN_IN, DOCKER_TOKEN, OIDC_TOKEN, OIDC_REFRESH):
        excerpt = ""  # a successful answer to these carries fresh tokens: quote none of it
    else:
        excerpt = sanitise_excerpt(answer.body, answer.media_type, secrets=answer.secrets)
    return ProtocolError(
        message,
        operation=answer.operation,
        status=answer.status,
        excerpt=excerpt,
        repository=answer.repository,
        outcome_unknown=outcome_unknown,
    )


def shape_error(answer: Answer, expected: str) -> ProtocolError:
    return protocol_error(
        answer,
        f"The cluster's answer to {answer.what} is not {expected}: check the cluster's "
        "API URL and the image manager's version.",
    )


def json_of(answer: Answer) -> object:
    """The answer's body as JSON; a ProtocolError when it is not JSON."""
    check_json_type(answer)
    try:
        return orjson.loads(answer.body)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).split(":", 1)[0]
        raise protocol_error(
            answer,
            f"The cluster's answer to {answer.what} is not valid JSON ({reason}): check the "
            "cluster's API URL; if it is right, the image manager may be failing.",
        ) from None


def check_json_type(answer: Answer) -> None:
    """A ProtocolError when the answer says it is not JSON (a sign-in page, say)."""
    media_type = answer.media_type
    if not (media_type.endswith("json") or media_type in _JSON_FRIENDLY_TYPES):
        raise protocol_error(
            answer,
            f"The cluster answered the request to {answer.what} with {media_type} "
            "instead of JSON: check the cluster's API URL (a sign-in page or a proxy "
            "may have answered).",
        )


def check_confirmation(answer: Answer) -> None:
    """A 2xx to PUT/DELETE means applied, unless the answer is plainly not the API's."""
    body = bytes(answer.body).strip()
    if answer.is_web_page:
        problem = f"a web page ({answer.media_type})"
    elif body and body.upper() != b"OK" and answer.media_type.endswith("json"):
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            problem = "invalid JSON"
        else:
            return
    else:
        return  # "OK", "OK\n", empty, or some other short text: the API's answers
    raise protocol_error(
        answer,
        f"The cluster answered the request to {answer.what} with {problem} instead of the "
        "API's confirmation: check the cluster's API URL. The change may or may not have "
        "been applied — refresh to check.",
        outcome_unknown=True,
    )


def _lifetime(data: dict[str, Any]) -> int | None:
    """``expires_in`` in whole seconds, at most a year; None when it is not a number >= 0."""
    expires_in = data.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return None
    if not math.isfinite(expires_in) or expires_in < 0:
        return None
    return int(min(expires_in, MAX_TOKEN_LIFETIME))


def _parse_rfc3339(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _issued_at(value: object) -> datetime:
    """The stated issue time when it is within a day of our clock, else now."""
    now = datetime.now(UTC)
    parsed = _parse_rfc3339(value)
    if parsed is None or abs(parsed - now) > MAX_CLOCK_SKEW:
        return now
    return parsed


def docker_token_from(data: object) -> DockerToken | None:
    """Operation 2's ``{"token": …, "expires_in": …, "issued_at": …}``, or None."""
    if not isinstance(data, dict):
        return None
    value = data.get("token") or data.get("access_token")
    if not isinstance(value, str) or not value:
        return None
    expires_in = _lifetime(data)
    return DockerToken(
        token=value,
        expires_in=DOCKER_TOKEN_DEFAULT_TTL if expires_in is None else expires_in,
        issued_at=_issued_at(data.get("issued_at")),
    )


def identity_token_from(data: object) -> IdentityToken | None:
    """The identity provider's ``{"id_token": …, "expires_in": …}``, or None."""
    if not isinstance(data, dict):
        return None
    value = data.get("id_token")
    if not isinstance(value, str) or not value:
        return None
    expires_in = _lifetime(data)
    subject, expires_at = describe_token(value)
    if expires_at is None and expires_in is not None:
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    return IdentityToken(
        id_token=value, expires_in=expires_in, expires_at=expires_at, subject=subject
    )
