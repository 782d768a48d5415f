"""The requests Session a cluster is called through, and the objects carrying secrets into it.

Secrets: the token lives in a small auth object whose ``repr`` hides it, the password only
in a body object whose ``repr`` hides it (a traceback's locals show both).

Deadlines: the (connect, read) timeout bounds each wait on the socket, so a server that
sends one byte a second is never timed out. :class:`Deadline` bounds a whole call instead:
the session's connections report to the deadline running in their thread, and when it
passes, the connection's socket is shut down, which ends any read or write in progress.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from .errors import ConfigurationError


def _version() -> str:
    try:
        return metadata.version("imgdash")
    except metadata.PackageNotFoundError:
        import imgdash

        return getattr(imgdash, "__version__", "0+unknown")


USER_AGENT = f"imgdash/{_version()} (Image Manager client; python-requests/{requests.__version__})"


# --------------------------------------------------------------------------------------
# Secrets that must not show up in a repr or a traceback's locals


class BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer …`` at send time; its repr never shows the token."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<bearer token hidden>"


class NoAuth(requests.auth.AuthBase):
    """Per-request override so the sign-in call does not carry the session's token."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


class SecretBody(bytes):
    """A request body holding a password: bytes to requests, hidden from repr."""

    def __repr__(self) -> str:
        return f"<request body hidden, {len(self)} bytes>"


class Secrets(tuple[str, ...]):
    """Strings to redact from excerpts; hidden from repr (it sits in frames' locals)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} secrets hidden>"


# --------------------------------------------------------------------------------------
# Deadlines

_running = threading.local()


class Deadline:
    """A wall-clock limit on one call, from sending to the last byte of the answer.

    ``with Deadline(15) as deadline:`` around the call; afterwards ``deadline.expired`` says
    whether it passed (then the call failed because its connection was cut, or the answer
    may be incomplete). Calls run in the caller's thread, so the deadline is found through
    a thread-local; one watchdog thread per process (:class:`_Watchdog`) cuts the connection
    when the time is up.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._connection: HTTPConnection | None = None
        self._over = False

    def __enter__(self) -> Deadline:
        _running.deadline = self
        _watchdog.watch(self, time.monotonic() + self.seconds)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _running.deadline = None
        with self._lock:
            self._over = True  # the watchdog drops it when its time comes
            self._connection = None

    def watch(self, connection: HTTPConnection) -> None:
        """``connection`` now carries this call (a retry may move it to another)."""
        with self._lock:
            self._connection = connection
            expired = self.expired
        if expired:
            _cut(connection)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            connection = self._connection
        if connection is not None:
            _cut(connection)


class _Watchdog:
    """Expires every running Deadline of this process at its time, from one thread.

    A timer thread per call cost a thread start and stop on every call to a cluster; this
    keeps the deadlines in a heap instead. The thread starts with the first deadline in each
    process (a forked worker starts its own: threads do not survive a fork).
    """

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Deadline]] = []
        self._added = threading.Condition()
        self._count = itertools.count()
        self._pid = 0

    def watch(self, deadline: Deadline, when: float) -> None:
        with self._added:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._due = []
                threading.Thread(
                    target=self._run, name="imagemanager-deadlines", daemon=True
                ).start()
            heapq.heappush(self._due, (when, next(self._count), deadline))
            if self._due[0][2] is deadline:
                self._added.notify()

    def _run(self) -> None:
        while True:
            with self._added:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._added.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _when, _n, deadline = heapq.heappop(self._due)
            deadline._expire()  # outside the lock: cutting a socket may take a moment


_watchdog = _Watchdog()


def _cut(connection: HTTPConnection) -> None:
    """Shut the connection's socket down: a read or write blocked on it returns at once."""
    sock = connection.sock
    if sock is None:
        return
    # The plain socket's shutdown, also for TLS: it acts on the descriptor, from any thread.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _report_to_deadline(connection: HTTPConnection) -> None:
    deadline = getattr(_running, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        _report_to_deadline(self)
        super().connect()
        _report_to_deadline(self)  # cut now if the deadline passed while connecting

    def request(self, *args: Any, **kwargs: Any) -> None:
        _report_to_deadline(self)  # a kept-alive connection is not connected again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        _report_to_deadline(self)
        super().connect()
        _report_to_deadline(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _report_to_deadline(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


# --------------------------------------------------------------------------------------
# The session


class _ClusterAdapter(HTTPAdapter):
    """An HTTPAdapter with a default timeout and, optionally, the cluster's own CA.

    With ``ssl_context`` set, that context (built from the cluster's PEM bundle, nothing
    else) is the only trust anchor: requests' own CA bundle is kept out of the pool.
    """

    def __init__(
        self, timeout: tuple[float, float], ssl_context: ssl.SSLContext | None, retries: Retry
    ) -> None:
        self._timeout = timeout
        self._ssl_context = ssl_context
        super().__init__(pool_connections=4, pool_maxsize=10, max_retries=retries)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        # Connections that a running Deadline can cut.
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPConnectionPool,
            "https": _WatchedHTTPSConnectionPool,
        }

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        cert: str | tuple[str, str] | None = None,
    ) -> tuple[Any, Any]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if self._ssl_context is not None:
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
            pool_kwargs["ssl_context"] = self._ssl_context
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        if self._ssl_context is None:
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
            return
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if timeout is None:
            timeout = self._timeout
        return super().send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )


class _Session(requests.Session):
    """A Session that never follows redirects, nor reads a redirect's body to prepare one.

    (With ``allow_redirects=False`` a plain Session still reads the whole body of a 3xx
    answer, uncapped; the client reports redirects from the status and Location instead.)
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def ssl_context_from_pem(ca_pem: str) -> ssl.SSLContext:
    """A verifying client context trusting exactly the PEM certificates in ``ca_pem``."""
    try:
        context = ssl.create_default_context(cadata=ca_pem)
    except (ssl.SSLError, ValueError, TypeError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise ConfigurationError(
            f"The cluster's CA bundle could not be read ({reason}). Paste the PEM text of "
            "the CA certificate, starting with -----BEGIN CERTIFICATE-----.",
            operation="configure",
        ) from None
    # Python 3.13 turned on strict X.509 checks by default; cluster CAs made by older
    # installers lack extensions those checks demand, and they are still the right CA.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    return context


def normalise_api_url(api_url: object) -> str:
    """The API base URL without a trailing slash; ConfigurationError when unusable."""
    if not isinstance(api_url, str) or not api_url.strip():
        raise ConfigurationError("The cluster's API URL is empty.", operation="configure")
    text = api_url.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ConfigurationError(
            "The cluster's API URL contains spaces or control characters.", operation="configure"
        )
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigurationError(
            "The cluster's API URL has an invalid port.", operation="configure"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "The cluster's API URL must look like https://<master host>:8443/image-manager/api/v1.",
            operation="configure",
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "The cluster's API URL must not contain a user name or password.",
            operation="configure",
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            "The cluster's API URL must not contain '?' or '#'.", operation="configure"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def cluster_session(
    auth: BearerAuth | None,
    *,
    verify: bool,
    ssl_context: ssl.SSLContext | None,
    timeout: tuple[float, float],
    retries: Retry,
) -> requests.Session:
    """A Session for one cluster: its TLS, a default (connect, read) timeout, its retry
    rules (see :mod:`.retries`), and no redirects."""
    session = _Session()
    # No proxy variables, .netrc or REQUESTS_CA_BUNDLE from the environment: the token
    # goes exactly where the admin-registered URL says, verified as configured here.
    session.trust_env = False
    session.verify = verify
    session.auth = auth
    session.headers.update(
        {"User-Agent": USER_AGENT, "Accept": "application/json, text/plain;q=0.9"}
    )
    adapter = _ClusterAdapter(timeout, ssl_context, retries)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
