"""When no usable answer came: requests/urllib3 exceptions and oversized bodies as our errors.

Each failure becomes one of the errors in :mod:`.errors` with a message a person can act
on; the exception's own text goes only into ``detail``, with secrets redacted. (An answer
with an error status is :mod:`.statuses`' business.)
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Unpack
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)

from .errors import (
    LIST_REPOSITORIES,
    ConfigurationError,
    ErrorFields,
    ImageManagerError,
    OutcomeUnknown,
    ProtocolError,
    TLSError,
    Unavailable,
    describe,
    sanitise_excerpt,
)
from .redaction import redact_secrets

# Whose lost answer leaves the outcome unknown (POST is only the sign-in: nothing changes).
MUTATING_METHODS = frozenset({"PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class Call:
    """One request, as much of it as an error message needs."""

    operation: str
    method: str
    repository: str | None
    api_url: str
    connect_timeout: float
    read_timeout: float
    # What to redact from excerpts and details (a session.Secrets, hidden from repr).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The whole call's wall-clock limit in seconds (see session.Deadline).
    deadline: float | None = None

    @property
    def mutation(self) -> bool:
        return self.method in MUTATING_METHODS

    @property
    def what(self) -> str:
        return describe(self.operation, self.repository)

    @property
    def host(self) -> str:
        return urlsplit(self.api_url).netloc

    def excerpt(self, body: bytes | bytearray | str | None, media_type: str = "") -> str:
        return sanitise_excerpt(body, media_type, secrets=self.secrets)


# --------------------------------------------------------------------------------------
# Exceptions -> errors


def _reason_chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (requests -> urllib3 -> socket/ssl), outermost first."""
    chain: list[BaseException] = []
    current: object = exc
    while isinstance(current, BaseException) and current not in chain and len(chain) < 8:
        chain.append(current)
        if isinstance(current, MaxRetryError):
            current = current.reason
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        elif len(current.args) > 1 and isinstance(current.args[1], BaseException):
            current = current.args[1]  # urllib3 ProtocolError("Connection aborted.", err)
        else:
            current = current.__cause__ or current.__context__
    return chain


def _tls_failure(exc: BaseException) -> tuple[bool, str]:
    """(whether the certificate was refused, the reason in words) for a TLS failure."""
    for item in _reason_chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return True, item.verify_message or "certificate verify failed"
        if isinstance(item, ssl.SSLError):
            return False, (item.reason or str(item)).replace("_", " ").lower()
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return True, "certificate verify failed"
    return False, "handshake failed"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _tls_error(call: Call, exc: BaseException, **common: Unpack[ErrorFields]) -> TLSError:
    refused_certificate, reason = _tls_failure(exc)
    if refused_certificate:
        return TLSError(
            f"TLS verification of {call.host} failed ({reason}). Check the cluster's CA "
            "bundle: it must be the CA that signed the cluster's certificate "
            "(icp-router.crt on the boot node), and the API URL's host must be a name "
            "or address on that certificate.",
            **common,
        )
    return TLSError(
        f"The TLS handshake with {call.host} failed ({reason}). Check that the "
        "cluster's API URL has the right scheme and port (https, usually 8443) "
        "and that the cluster's CA bundle is right.",
        **common,
    )


def transport_error(
    call: Call, exc: requests.RequestException, answered: int | None = None
) -> ImageManagerError:
    """Map a requests exception to our error.

    ``answered`` is the status when the answer's headers came and its body then broke.
    """
    common: ErrorFields = {
        "operation": call.operation,
        "status": answered,
        "repository": call.repository,
        "detail": redact_secrets(f"{type(exc).__name__}: {exc}", call.secrets)[:500],
    }
    chain = _reason_chain(exc)
    read_timed_out = isinstance(exc, requests.exceptions.ReadTimeout) or any(
        isinstance(item, ReadTimeoutError | TimeoutError) for item in chain
    )

    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_error(call, exc, **common)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Unavailable(
            f"Could not connect to the cluster at {call.host} within "
            f"{_seconds(call.connect_timeout)}. Check that the cluster is up and "
            "reachable from this server, and the cluster's API URL.",
            **common,
        )
    if read_timed_out:
        if call.mutation:
            return OutcomeUnknown(
                f"The request to {call.what} was sent but no answer came within "
                f"{_seconds(call.read_timeout)}; it may or may not have been applied "
                "— refresh to check.",
                **common,
            )
        return Unavailable(
            f"The cluster did not answer within {_seconds(call.read_timeout)} while "
            f"trying to {call.what}. Try again; for a very large registry, raise the "
            "read timeout for this cluster.",
            **common,
        )
    if any(isinstance(item, NameResolutionError) for item in chain):
        return Unavailable(
            f"Could not resolve the cluster's host name {urlsplit(call.api_url).hostname}. "
            "Check the cluster's API URL and this server's DNS.",
            **common,
        )
    if any(isinstance(item, NewConnectionError) for item in chain):
        refused = any(isinstance(item, ConnectionRefusedError) for item in chain)
        why = "the connection was refused" if refused else "the network is unreachable"
        return Unavailable(
            f"Could not connect to the cluster at {call.host}: {why}. Check that the "
            "cluster is up and its API URL (host and port) is right.",
            **common,
        )
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.InvalidSchema
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidHeader,
    ):
        return ConfigurationError(
            f"The request to {call.what} could not be made: check the cluster's API URL.",
            **common,
        )
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        # The connection broke after the request went out (reset, closed, cut short).
        if call.mutation:
            return OutcomeUnknown(
                f"The request to {call.what} was sent but no answer came (the connection "
                "was cut); it may or may not have been applied — refresh to check.",
                **common,
            )
        return Unavailable(
            f"The connection to the cluster at {call.host} broke before a complete "
            f"answer came while trying to {call.what}. Try again; if it persists, check "
            "the network path and the management ingress.",
            **common,
        )
    return Unavailable(
        f"The request to {call.what} failed: {type(exc).__name__}. Try again later.",
        **common,
    )


def deadline_passed(call: Call, answered: int | None = None) -> ImageManagerError:
    """The call's deadline passed before its answer was complete (``answered``: its status)."""
    seconds = _seconds(call.deadline or 0)
    common: ErrorFields = {
        "operation": call.operation,
        "status": answered,
        "repository": call.repository,
        "detail": f"deadline of {seconds} passed",
    }
    if call.mutation:
        return OutcomeUnknown(
            f"The request to {call.what} was sent but no complete answer came within "
            f"{seconds}; it may or may not have been applied — refresh to check.",
            **common,
        )
    if call.operation == LIST_REPOSITORIES:
        hint = (
            "If the registry is very large or the cluster far away, raise the list "
            "deadline (IMGDASH_LIST_DEADLINE)."
        )
    else:
        hint = "If it persists, check the cluster's load and the network path to it."
    return Unavailable(
        f"The cluster's answer took longer than {seconds} while trying to {call.what}, so "
        f"imgdash stopped waiting. Try again in a minute. {hint}",
        **common,
    )


def too_large(call: Call, status: int, size: int | None, limit: int) -> ProtocolError:
    """The answer is over the size cap (``size`` when the server declared it)."""
    shown = f" ({size:,} bytes)" if size else ""
    if call.mutation:
        return ProtocolError(
            f"The cluster answered the request to {call.what} with an unexpectedly large "
            f"body{shown} instead of a short confirmation: check the cluster's API URL. The "
            "change may or may not have been applied — refresh to check.",
            operation=call.operation,
            status=status,
            repository=call.repository,
            outcome_unknown=True,
        )
    return ProtocolError(
        f"The cluster's answer to {call.what} is larger than the response size limit of "
        f"{limit:,} bytes{shown}. If the registry really is that large, raise the limit for "
        "this cluster; otherwise check the cluster's API URL.",
        operation=call.operation,
        status=status,
        repository=call.repository,
    )


def undecodable(call: Call, status: int) -> ProtocolError:
    return ProtocolError(
        f"The cluster's answer to {call.what} could not be decompressed: check the "
        "cluster's API URL.",
        operation=call.operation,
        status=status,
        repository=call.repository,
        outcome_unknown=call.mutation and 200 <= status < 300,
    )
