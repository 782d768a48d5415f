"""One error family for everything that can go wrong talking to a cluster.

Every error carries:

- ``operation``: which API operation failed, e.g. ``"delete repository"``;
- ``status``: the HTTP status, or ``None`` when no answer came;
- ``excerpt``: at most 200 characters of the answer's body, sanitised (HTML tags and
  control characters removed, JSON ``message``/``error``/``details`` preferred, tokens and
  passwords redacted);
- ``message`` (also ``str(err)``): plain text a person can act on, safe to show in a page.

Messages never contain a token or a password: the client redacts them from excerpts and
raises these errors ``from None``, so a traceback does not drag the HTTP library's frames
(whose locals hold the request headers) along as a chained cause.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, TypedDict

import orjson

from .redaction import redact_secrets

# Operation names, as carried in ``ImageManagerError.operation``.
LIST_ENDPOINTS = "list endpoints"
DOCKER_TOKEN = "docker token"  # noqa: S105 - an operation name
LIST_REPOSITORIES = "list repositories"
GET_REPOSITORY = "get repository"
SET_SCOPE = "set scope"
DELETE_REPOSITORY = "delete repository"
SIGN_IN = "sign in"
OIDC_DISCOVERY = "read the sign-in provider's configuration"
OIDC_TOKEN = "redeem the sign-in"  # noqa: S105 - an operation name
OIDC_REFRESH = "renew the token"
OIDC_KEYS = "read the sign-in provider's keys"
OIDC_SIGN_IN = "sign in with the cluster"
# The registry v2 API (registry.py).
READ_MANIFEST = "read manifest"
READ_IMAGE_CONFIG = "read image config"
READ_TAG_DIGEST = "read tag digest"
DELETE_MANIFEST = "delete manifest"

MUTATIONS = frozenset({SET_SCOPE, DELETE_REPOSITORY, DELETE_MANIFEST, SIGN_IN})

EXCERPT_LIMIT = 200


def describe(operation: str, repository: str | None = None) -> str:
    """What was being attempted, in words: ``delete team-a/app``, ``list images``."""
    target = repository or "the repository"
    return {
        LIST_ENDPOINTS: "read the API status",
        DOCKER_TOKEN: "get a registry token",
        LIST_REPOSITORIES: "list images",
        GET_REPOSITORY: f"read {target}",
        SET_SCOPE: f"change the scope of {target}",
        DELETE_REPOSITORY: f"delete {target}",
        SIGN_IN: "sign in",
        READ_MANIFEST: f"read a manifest of {target} from the registry",
        READ_IMAGE_CONFIG: f"read an image config of {target} from the registry",
        READ_TAG_DIGEST: f"read a tag's digest of {target} from the registry",
        DELETE_MANIFEST: f"delete a manifest of {target} from the registry",
    }.get(operation, operation or "call the Image Manager API")


class ErrorFields(TypedDict, total=False):
    """The keyword fields of :class:`ImageManagerError`, for building several alike."""

    operation: str
    status: int | None
    excerpt: str
    repository: str | None
    detail: str


class ImageManagerError(Exception):
    """Base of every error the Image Manager client raises."""

    #: True when a change may or may not have been applied: the user should refresh.
    outcome_unknown = False

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        excerpt: str = "",
        repository: str | None = None,
        detail: str = "",
        outcome_unknown: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.excerpt = excerpt
        self.repository = repository
        #: Technical cause for logs (exception class and text), already free of secrets.
        self.detail = detail
        if outcome_unknown is not None:
            self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(operation={self.operation!r}, status={self.status!r}, "
            f"message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the keyword attributes when pickled (e.g. by a cache or a worker pool).
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(
    cls: type[ImageManagerError], message: str, state: dict[str, Any]
) -> ImageManagerError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class InvalidInput(ImageManagerError, ValueError):
    """An argument was refused before any request was made."""


class InvalidRepositoryName(InvalidInput):
    """The name is not a valid repository path; no request was made."""


class InvalidScope(InvalidInput):
    """The scope is neither ``global`` nor ``namespace``; no request was made."""


class ConfigurationError(ImageManagerError, ValueError):
    """The cluster settings handed to the client are unusable (API URL, CA bundle)."""


class Unauthorized(ImageManagerError):
    """401: the token is missing, expired or not accepted (or sign-in credentials were)."""


class Forbidden(ImageManagerError):
    """403: the cluster's RBAC refused the caller's role."""


class NotFound(ImageManagerError):
    """404: no such repository (or no such API path)."""


class BadRequest(ImageManagerError):
    """400: the cluster rejected the request as malformed."""


class ClientError(ImageManagerError):
    """Any other 4xx: conflict (409), rate limit (429), ..."""


class RateLimited(ClientError):
    """429: too many requests; ``retry_after`` holds the server's hint in seconds, if any."""

    retry_after: int | None = None


class Unavailable(ImageManagerError):
    """The cluster could not be reached or failed: 5xx, refused, DNS, TLS, timeout."""


class TLSError(Unavailable):
    """The TLS handshake failed, most often because the CA bundle does not match."""


class OutcomeUnknown(ImageManagerError):
    """A change was sent but no answer came: it may or may not have been applied."""

    outcome_unknown = True


class ProtocolError(ImageManagerError):
    """The answer is not what the Image Manager API sends: check the cluster's API URL."""


# --------------------------------------------------------------------------------------
# Excerpts

# Every pattern here runs in linear time on any text: a tag is "<" then anything but "<" or
# ">" then ">", so a failed attempt stops at the next "<" instead of searching to the end of
# the body (64 KB of repeated "<title>" took seconds with ".*?" and "[^>]*").
_BLOCK_OPEN_RE = re.compile(r"(?i)<(script|style|title)\b[^<>]*>")
_TITLE_OPEN_RE = re.compile(r"(?i)<title\b[^<>]*>")
_BLOCK_CLOSE_RE = {
    name: re.compile(rf"(?i)</{name}\b[^<>]*>") for name in ("script", "style", "title")
}
_TAG_RE = re.compile(r"<[^<>]*>")
_SPACE_RE = re.compile(r"\s+")
_PREFERRED_KEYS = (
    "message",
    "error_description",
    "details",
    "detail",
    "error",
    "msg",
    "errors",
    "reason",
)
# Only the start of a body is read for an excerpt: its first words are what a person reads.
_MAX_SCAN = 8 * 1024


def _drop_blocks(text: str) -> str:
    """``text`` without ``<script>``, ``<style>`` and ``<title>`` blocks, in one pass.

    A block without its closing tag stays (its tags go later). Once a closing tag is
    missing it is missing for every later block of that name, so it is searched for once.
    """
    kept: list[str] = []
    unclosed: set[str] = set()
    pos = 0
    for match in _BLOCK_OPEN_RE.finditer(text):
        name = match.group(1).lower()
        if match.start() < pos or name in unclosed:
            continue
        close = _BLOCK_CLOSE_RE[name].search(text, match.end())
        if close is None:
            unclosed.add(name)
            continue
        kept += (text[pos : match.start()], " ")
        pos = close.end()
    kept.append(text[pos:])
    return "".join(kept)


def _title(text: str) -> str | None:
    match = _TITLE_OPEN_RE.search(text)
    if match is None:
        return None
    close = _BLOCK_CLOSE_RE["title"].search(text, match.end())
    return text[match.end() : close.start()] if close else None


def _pick_json_text(value: object, depth: int = 0) -> str | None:
    """The most human part of a JSON error body, or None if nothing stands out."""
    if depth > 3:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in _PREFERRED_KEYS:
            text = _pick_json_text(value.get(key), depth + 1)
            if text:
                return text
        return None
    if isinstance(value, list):
        texts = [t for t in (_pick_json_text(v, depth + 1) for v in value[:3]) if t]
        return "; ".join(texts) if texts else None
    if value is None:
        return None
    return str(value)


def _clean(text: str) -> str:
    """Drop control and format characters (newlines become spaces), squeeze spaces."""
    out = []
    for ch in text:
        if ch in "\t\n\r\x0b\x0c":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            continue
        else:
            out.append(ch)
    return _SPACE_RE.sub(" ", "".join(out)).strip()


def sanitise_excerpt(
    body: bytes | bytearray | str | None,
    content_type: str = "",
    *,
    secrets: Iterable[str | None] = (),
    limit: int = EXCERPT_LIMIT,
) -> str:
    """A short, single-line, plain-text excerpt of an answer body, fit for a page or a log."""
    if not body:
        return ""
    if isinstance(body, bytes | bytearray | memoryview):
        text = bytes(body[:_MAX_SCAN]).decode("utf-8", errors="replace")
    else:
        text = body[:_MAX_SCAN]
    stripped = text.strip()
    ctype = content_type.lower()
    picked = None
    if "json" in ctype or stripped[:1] in ("{", "["):
        try:
            picked = _pick_json_text(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            picked = None
        if picked is None and stripped[:1] in ("{", "["):
            picked = stripped
    if picked is None and ("html" in ctype or stripped[:1] == "<"):
        body_text = html.unescape(_TAG_RE.sub(" ", _drop_blocks(stripped)))
        title = _title(stripped)
        if not _clean(body_text) and title:
            body_text = html.unescape(title)
        picked = body_text
    if picked is None:
        picked = stripped
    cleaned = _clean(redact_secrets(picked, secrets))
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned
