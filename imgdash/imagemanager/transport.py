"""Sending one call to a cluster and reading its answer, or turning its failure into an error.

Every call goes through one ``requests.Session`` (:mod:`.session`) whose adapter fills in
a (connect, read) timeout, so no call can hang (zulip's ``outgoing_http`` pattern), and runs
under a wall-clock deadline (:class:`.session.Deadline`), so no call can drag on either:
``call_deadline`` for small calls, ``list_deadline`` for the repository list. Bodies are
streamed under a size cap, redirects are never followed, GETs retry briefly on connection
errors and 502/503/504, and PUT, DELETE and POST are never retried.

Errors are raised ``from None`` so that a traceback does not chain in the HTTP library's
frames (whose locals hold the request headers), and an answer's body is kept only where
its repr hides it: an error page may echo a password.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, Self
from urllib.parse import urlsplit

import requests

from . import retries
from .answers import Answer
from .errors import LIST_REPOSITORIES, ConfigurationError, ImageManagerError
from .failures import Call, deadline_passed, too_large, transport_error, undecodable
from .session import (
    BearerAuth,
    Deadline,
    Secrets,
    cluster_session,
    normalise_api_url,
    ssl_context_from_pem,
)
from .statuses import status_error

log = logging.getLogger("imgdash.imagemanager")

DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_REPOSITORIES = 200_000
# Error pages and mutation answers ("OK", or nothing) are read only this far.
SMALL_BODY_LIMIT = 64 * 1024
_CHUNK = 256 * 1024

#: Told the bytes of a body received so far, and the total when the answer declared it.
OnReceived = Callable[[int, "int | None"], None]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What an observer learns of one finished call: never a URL, header, body or token.

    ``status`` is the HTTP status, or ``None`` when no answer came; ``outcome`` is ``ok``
    (2xx), ``refused`` (an answer of 300 or more) or the error's class name.
    """

    operation: str
    method: str
    status: int | None
    outcome: str
    seconds: float
    attempts: int


#: Called with a CallRecord after every call, in the calling thread.
CallObserver = Callable[[CallRecord], None]
_observers: list[CallObserver] = []


def add_call_observer(observer: CallObserver) -> None:
    """Have ``observer`` told of every call from now on (metrics, structured logs).

    An observer that raises is logged and skipped: watching a call never breaks it.
    """
    if observer not in _observers:
        _observers.append(observer)


def remove_call_observer(observer: CallObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


def _tell_observers(record: CallRecord) -> None:
    for observer in tuple(_observers):
        try:
            observer(record)
        except Exception:
            log.exception("A call observer failed")


class ListProgress(Protocol):
    """What a caller may learn while the repository list arrives (see ``list_repositories``).

    ``receiving`` is called as the body arrives, about every 256 KiB and once at its end;
    ``indexing`` once the whole body is in (``None``), then with the number of repositories
    once it is parsed. Both run in the calling thread and should return quickly.
    """

    def receiving(self, received: int, total: int | None) -> None: ...

    def indexing(self, repositories: int | None) -> None: ...


def _check_settings(
    seconds: dict[str, object],
    counts: dict[str, object],
    get_retries: object,
    backoff: object,
) -> None:
    for label, value in seconds.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(f"{label} must be a positive number of seconds.")
    for label, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"{label} must be a whole number.")
        if value <= 0:
            raise ConfigurationError(f"{label} must be positive.")
    if isinstance(get_retries, bool) or not isinstance(get_retries, int) or get_retries < 0:
        raise ConfigurationError("get_retries must be 0 or more.")
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
        raise ConfigurationError("backoff must be 0 or more seconds.")


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


# --------------------------------------------------------------------------------------
# Sending one call


class ClusterTransport:
    """HTTP to one cluster with one bearer token: what every API operation is sent through.

    ``api_url`` is the API base, e.g. ``https://master:8443/image-manager/api/v1``.
    TLS: ``ca_pem`` (PEM text of the cluster's CA) makes that CA the only trust anchor;
    without it the usual public CAs apply; ``verify=False`` (only when passed explicitly,
    and then ``ca_pem`` is ignored) turns verification off.

    Time: ``connect_timeout`` bounds connecting, ``read_timeout`` each wait for data, and
    ``call_deadline`` (``list_deadline`` for the repository list) a whole call, retries
    included. ``max_repositories`` caps the entries of the repository list.
    """

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        *,
        verify: bool = True,
        ca_pem: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        get_retries: int = 2,
        backoff: float = 0.2,
        call_deadline: float = 15.0,
        list_deadline: float = 60.0,
        max_repositories: int = DEFAULT_MAX_REPOSITORIES,
    ) -> None:
        self._auth = BearerAuth(token) if token else None
        del token  # from here on only the auth object holds it (tracebacks show locals)
        self.api_url = normalise_api_url(api_url)
        parts = urlsplit(self.api_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.verify = verify is not False
        _check_settings(
            {
                "connect_timeout": connect_timeout,
                "read_timeout": read_timeout,
                "call_deadline": call_deadline,
                "list_deadline": list_deadline,
            },
            {"max_response_bytes": max_response_bytes, "max_repositories": max_repositories},
            get_retries,
            backoff,
        )
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.call_deadline = float(call_deadline)
        self.list_deadline = float(list_deadline)
        self.max_response_bytes = max_response_bytes
        self.max_repositories = max_repositories
        self.get_retries = get_retries
        self.backoff = float(backoff)

        ssl_context = ssl_context_from_pem(ca_pem) if (self.verify and ca_pem) else None
        self.ca_pinned = ssl_context is not None

        self._session = cluster_session(
            self._auth,
            verify=self.verify,
            ssl_context=ssl_context,
            timeout=(self.connect_timeout, self.read_timeout),
            retries=retries.get_retries(self.get_retries, self.backoff),
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        token = "set" if self._auth is not None else "none"
        tls = "off" if not self.verify else ("cluster CA" if self.ca_pinned else "public CAs")
        return f"<{type(self).__name__} {self.api_url} token={token} verify={tls}>"

    def _secrets(self, extra: tuple[str, ...] = ()) -> Secrets:
        """What to redact from excerpts and details: ``extra`` and this client's token."""
        token = self._auth._token if self._auth is not None else None
        return Secrets((*extra, token) if token else extra)

    def _call(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        repository: str | None = None,
        params: list[tuple[str, str]] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        secrets: tuple[str, ...] = (),
        on_received: OnReceived | None = None,
    ) -> Answer:
        """Send one request (GETs: retried by the adapter), read the body, map failures.

        ``on_received(bytes so far, declared total or None)`` is called for each chunk of a
        successful answer's body (at most every 256 KiB) and once when it is complete.
        """
        call = Call(
            operation,
            method,
            repository,
            self.api_url,
            self.connect_timeout,
            self.read_timeout,
            self._secrets(secrets),
            self.list_deadline if operation == LIST_REPOSITORIES else self.call_deadline,
        )
        where = urlsplit(url)
        target = f"{where.netloc}{where.path}"
        started = time.perf_counter()
        with Deadline(call.deadline or self.call_deadline) as deadline:
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=auth,
                    stream=True,
                    allow_redirects=False,  # the adapter fills in the (connect, read) timeout
                )
            except requests.RequestException as exc:
                err = deadline_passed(call) if deadline.expired else transport_error(call, exc)
                _log_failure(call, target, err, started, None)
                raise err from None

            with response:
                try:
                    answer = self._read(call, response, deadline, on_received)
                except ImageManagerError as err:
                    _log_failure(call, target, err, started, response.status_code)
                    raise
            answer.elapsed = time.perf_counter() - started
            answer.attempts = retries.attempts_made(response)
            record = CallRecord(
                operation,
                method,
                answer.status,
                "ok" if answer.status < 300 else "refused",
                answer.elapsed,
                answer.attempts,
            )
            log.info(
                "%s %s -> %d, %d bytes in %.3f s (attempt %d)",
                method,
                target,
                answer.status,
                len(answer.body),
                answer.elapsed,
                answer.attempts,
                extra=_fields(record),
            )
            _tell_observers(record)
            if answer.status >= 300:
                refusal = self._status_error(call, answer, response.headers)
                log.warning(
                    "%s %s failed: %s", method, target, refusal.message, extra=_fields(record)
                )
                raise refusal
            return answer

    def _status_error(
        self, call: Call, answer: Answer, headers: Mapping[str, str]
    ) -> ImageManagerError:
        """The error for an answer of HTTP 300 or more, in the words its log line uses too;
        a transport for another API rewords it here."""
        return status_error(call, answer, headers)

    def _read(
        self,
        call: Call,
        response: requests.Response,
        deadline: Deadline,
        on_received: OnReceived | None = None,
    ) -> Answer:
        """Read the body under the size cap and the deadline; a broken read is a transport
        failure."""
        status = response.status_code
        if status >= 300:
            limit, strict = SMALL_BODY_LIMIT, False  # only an excerpt is wanted
        elif call.mutation:
            limit, strict = min(SMALL_BODY_LIMIT, self.max_response_bytes), True
        else:
            limit, strict = self.max_response_bytes, True
        declared = response.headers.get("Content-Length", "")
        if strict and declared.isdigit() and int(declared) > limit:
            raise too_large(call, status, int(declared), limit)
        # A compressed answer's length is not the length of what we count: then no total.
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        total = int(declared) if declared.isdigit() and not encoded else None
        if status >= 300:
            on_received = None  # an error page is no progress
        # The body sits only in the answer, whose repr hides it: it may echo secrets.
        answer = Answer(
            call.operation,
            call.repository,
            status,
            _media_type(response),
            secrets=self._secrets(),
            headers={name.lower(): value for name, value in response.headers.items()},
        )
        try:
            for chunk in response.iter_content(chunk_size=_CHUNK):
                answer.body += chunk
                if len(answer.body) > limit:
                    if strict:
                        raise too_large(call, status, None, limit)
                    del answer.body[limit:]
                    break
                if on_received is not None:
                    on_received(len(answer.body), total)
        except requests.exceptions.ContentDecodingError:
            if deadline.expired and status < 300:
                raise deadline_passed(call, answered=status) from None
            raise undecodable(call, status) from None
        except requests.RequestException as exc:
            if status < 300:  # an error page cut short still tells us the status
                if deadline.expired:
                    raise deadline_passed(call, answered=status) from None
                err = transport_error(call, exc, answered=status)
                raise err from None
        # A body without a length that was cut at the deadline looks complete: it is not.
        if deadline.expired and status < 300:
            raise deadline_passed(call, answered=status)
        if on_received is not None:
            on_received(len(answer.body), len(answer.body))
        return answer


def _fields(record: CallRecord) -> dict[str, object]:
    """A call's fields for a structured log line (``extra``)."""
    return {
        "upstream_operation": record.operation,
        "upstream_method": record.method,
        "upstream_status": record.status,
        "upstream_outcome": record.outcome,
        "duration_ms": round(record.seconds * 1000, 1),
    }


def _log_failure(
    call: Call, target: str, err: ImageManagerError, started: float, status: int | None
) -> None:
    seconds = time.perf_counter() - started
    record = CallRecord(call.operation, call.method, status, type(err).__name__, seconds, 1)
    log.warning(
        "%s %s failed after %.3f s: %s [%s]",
        call.method,
        target,
        seconds,
        type(err).__name__,
        err.detail or err.message,
        extra=_fields(record),
    )
    _tell_observers(record)
