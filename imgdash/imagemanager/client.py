"""The Image Manager API client: one method per API operation, typed results.

One :class:`ImageManagerClient` is bound to one cluster (API base URL, CA bundle or an
explicit verify-off, timeouts) and one bearer token. Every call goes through one
``requests.Session`` whose adapter fills in a (connect, read) timeout, so no call can
hang (zulip's ``outgoing_http`` pattern); bodies are streamed under a size cap, redirects
are never followed, GETs retry briefly on connection errors and 502/503/504, and PUT,
DELETE and POST are never retried.

Secrets: the token lives in a small auth object whose ``repr`` hides it, the password only
in a body object whose ``repr`` hides it, and errors are raised ``from None`` so that a
traceback does not chain in the HTTP library's frames (whose locals hold the headers).
Views that hold a token still need ``@sensitive_variables``.
"""

from __future__ import annotations

import logging
import re
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)

from . import errors as E
from .claims import describe_token
from .errors import (
    ConfigurationError,
    ImageManagerError,
    InvalidInput,
    InvalidScope,
    OutcomeUnknown,
    ProtocolError,
    TLSError,
    Unavailable,
    error_for_status,
    sanitise_excerpt,
)
from .names import repository_path, validate_repository_name
from .redaction import redact_secrets
from .results import ApiBanner, DockerToken, IdentityToken, Repository

log = logging.getLogger("imgdash.imagemanager")

SCOPES = ("global", "namespace")
RETRY_STATUSES = frozenset({502, 503, 504})
# Whose lost answer leaves the outcome unknown (POST is only the sign-in: nothing changes).
_MUTATING = frozenset({"PUT", "DELETE"})
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
# Error pages and mutation answers ("OK", or nothing) are read only this far.
SMALL_BODY_LIMIT = 64 * 1024
IDENTITY_TOKEN_PATH = "/idprovider/v1/auth/identitytoken"  # noqa: S105 - a path
# The Docker token specification's lifetime for a token that states none.
DOCKER_TOKEN_DEFAULT_TTL = 60
_CHUNK = 256 * 1024
_BANNER_LINE_RE = re.compile(r"^\s*(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\s+(/\S*)\s*$")
_JSON_FRIENDLY_TYPES = ("", "text/plain", "application/octet-stream")


def _version() -> str:
    try:
        return metadata.version("imgdash")
    except metadata.PackageNotFoundError:
        import imgdash

        return getattr(imgdash, "__version__", "0+unknown")


USER_AGENT = f"imgdash/{_version()} (Image Manager client; python-requests/{requests.__version__})"


# --------------------------------------------------------------------------------------
# Secrets that must not show up in a repr or a traceback's locals


class _BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer …`` at send time; its repr never shows the token."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<bearer token hidden>"


class _NoAuth(requests.auth.AuthBase):
    """Per-request override so the sign-in call does not carry the session's token."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


class _SecretBody(bytes):
    """A request body holding a password: bytes to requests, hidden from repr."""

    def __repr__(self) -> str:
        return f"<request body hidden, {len(self)} bytes>"


class _Secrets(tuple):
    """Strings to redact from excerpts; hidden from repr (it sits in frames' locals)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} secrets hidden>"


# --------------------------------------------------------------------------------------
# Transport


class _ClusterAdapter(HTTPAdapter):
    """An HTTPAdapter with a default timeout and, optionally, the cluster's own CA.

    With ``ssl_context`` set, that context (built from the cluster's PEM bundle, nothing
    else) is the only trust anchor: requests' own CA bundle is kept out of the pool.
    """

    def __init__(self, timeout: tuple[float, float], ssl_context: ssl.SSLContext | None):
        self._timeout = timeout
        self._ssl_context = ssl_context
        super().__init__(pool_connections=4, pool_maxsize=10, max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if self._ssl_context is not None:
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
            pool_kwargs["ssl_context"] = self._ssl_context
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):
        if self._ssl_context is None:
            super().cert_verify(conn, url, verify, cert)
            return
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
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

    def get_redirect_target(self, resp):
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


def _normalise_api_url(api_url: object) -> str:
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


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    return media_type.endswith("json") or media_type in _JSON_FRIENDLY_TYPES


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


@dataclass(slots=True)
class _Answer:
    status: int
    media_type: str
    body: bytes | bytearray = field(repr=False)  # may hold fresh tokens
    elapsed: float
    attempts: int


def _parse_rfc3339(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------
# The client


class ImageManagerClient:
    """A client for one cluster's Image Manager API and one bearer token.

    ``api_url`` is the API base, e.g. ``https://master:8443/image-manager/api/v1``.
    TLS: ``ca_pem`` (PEM text of the cluster's CA) makes that CA the only trust anchor;
    without it the usual public CAs apply; ``verify=False`` (only when passed explicitly,
    and then ``ca_pem`` is ignored) turns verification off.
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
    ) -> None:
        self._auth = _BearerAuth(token) if token else None
        del token  # from here on only the auth object holds it (tracebacks show locals)
        self.api_url = _normalise_api_url(api_url)
        parts = urlsplit(self.api_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.verify = verify is not False
        for label, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"{label} must be a positive number of seconds.")
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
            raise ConfigurationError("max_response_bytes must be a whole number of bytes.")
        if max_response_bytes <= 0:
            raise ConfigurationError("max_response_bytes must be positive.")
        if isinstance(get_retries, bool) or not isinstance(get_retries, int) or get_retries < 0:
            raise ConfigurationError("get_retries must be 0 or more.")
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise ConfigurationError("backoff must be 0 or more seconds.")
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.max_response_bytes = max_response_bytes
        self.get_retries = get_retries
        self.backoff = float(backoff)

        ssl_context = ssl_context_from_pem(ca_pem) if (self.verify and ca_pem) else None
        self.ca_pinned = ssl_context is not None

        session = _Session()
        # No proxy variables, .netrc or REQUESTS_CA_BUNDLE from the environment: the token
        # goes exactly where the admin-registered URL says, verified as configured here.
        session.trust_env = False
        session.verify = self.verify
        session.auth = self._auth
        session.headers.update(
            {"User-Agent": USER_AGENT, "Accept": "application/json, text/plain;q=0.9"}
        )
        adapter = _ClusterAdapter((self.connect_timeout, self.read_timeout), ssl_context)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> ImageManagerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        token = "set" if self._auth is not None else "none"
        tls = "off" if not self.verify else ("cluster CA" if self.ca_pinned else "public CAs")
        return f"<ImageManagerClient {self.api_url} token={token} verify={tls}>"

    @property
    def has_token(self) -> bool:
        return self._auth is not None

    # -- operations --------------------------------------------------------------------

    def endpoints(self) -> ApiBanner:
        """Operation 1, *List endpoints*: ``GET <base>``; the plain-text banner.

        Doubles as the cluster's API status check: ``elapsed`` is the round trip in seconds.
        """
        answer = self._call(E.LIST_ENDPOINTS, "GET", self.api_url)
        if answer.media_type in ("text/html", "application/xhtml+xml"):
            raise self._protocol(
                E.LIST_ENDPOINTS,
                "The cluster answered with a web page instead of the Image Manager banner: "
                "check the cluster's API URL (it should end in /image-manager/api/v1).",
                answer,
            )
        text = bytes(answer.body).decode("utf-8", errors="replace")
        found = [m.groups() for m in map(_BANNER_LINE_RE.match, text.splitlines()) if m]
        return ApiBanner(text=text, endpoints=found, elapsed=answer.elapsed)

    def docker_token(
        self, scopes: Iterable[str] = (), service: str = "token-service"
    ) -> DockerToken:
        """Operation 2, *Get JWT tokens*: ``GET <base>/auth/token?service=…&scope=…``.

        A token for ``docker login`` against the cluster's registry (port 8500). Without
        a scope it grants nothing; see :func:`names.repository_scope` and
        :data:`names.CATALOG_SCOPE`.
        """
        if isinstance(scopes, str):
            scopes = [scopes]
        scope_list = list(scopes)
        for scope in scope_list:
            if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
                raise InvalidInput(
                    f"{scope!r} is not a registry scope (e.g. repository:team-a/app:pull).",
                    operation=E.DOCKER_TOKEN,
                )
        params: list[tuple[str, str]] = [("service", service)]
        params += [("scope", scope) for scope in scope_list]
        answer = self._call(E.DOCKER_TOKEN, "GET", f"{self.api_url}/auth/token", params=params)
        data = self._json(E.DOCKER_TOKEN, answer)
        if not isinstance(data, dict):
            raise self._shape(E.DOCKER_TOKEN, "an object with a token", answer)
        value = data.get("token") or data.get("access_token")
        if not isinstance(value, str) or not value:
            raise self._shape(E.DOCKER_TOKEN, "an object with a token", answer)
        expires_in = data.get("expires_in")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 0:
            expires_in = DOCKER_TOKEN_DEFAULT_TTL
        issued_at = _parse_rfc3339(data.get("issued_at")) or datetime.now(UTC)
        return DockerToken(token=value, expires_in=expires_in, issued_at=issued_at)

    def list_repositories(self) -> list[Repository]:
        """Operation 3, *List repositories*: ``GET <base>/repositories``, sorted by name.

        The API returns every repository the token may see, every tag's manifest included,
        in one answer; tags are parsed lazily (see :class:`Repository`).
        """
        answer = self._call(E.LIST_REPOSITORIES, "GET", f"{self.api_url}/repositories")
        data = self._json(E.LIST_REPOSITORIES, answer)
        items = data.get("repositories", ...) if isinstance(data, dict) else ...
        if items is None:
            items = []
        if not isinstance(items, list):
            raise self._shape(E.LIST_REPOSITORIES, 'an object with a "repositories" list', answer)
        repositories = [repo for repo in map(Repository.from_api, items) if repo is not None]
        if len(repositories) != len(items):
            log.warning(
                "list repositories: skipped %d entries without a usable name",
                len(items) - len(repositories),
            )
        repositories.sort(key=lambda repo: repo.name)
        return repositories

    def get_repository(self, name: str) -> Repository:
        """Operation 4, *List specified repository*: ``GET <base>/repositories/<name>``."""
        url = self._repository_url(name)
        answer = self._call(E.GET_REPOSITORY, "GET", url, repository=name)
        data = self._json(E.GET_REPOSITORY, answer, repository=name)
        if isinstance(data, dict) and "name" not in data:
            data = {**data, "name": name}
        repository = Repository.from_api(data)
        if repository is None:
            raise self._shape(E.GET_REPOSITORY, "a repository object", answer, repository=name)
        return repository

    def set_scope(self, name: str, scope: str) -> None:
        """Operation 5, *Update repository metadata*: ``PUT <base>/repositories/<name>``.

        ``scope`` is ``"global"`` (pullable from every namespace) or ``"namespace"``.
        Never retried: if no answer comes, :class:`OutcomeUnknown` is raised.
        """
        url = self._repository_url(name)
        if scope not in SCOPES:
            raise InvalidScope(
                f"{scope!r} is not a scope: use 'global' or 'namespace'.",
                operation=E.SET_SCOPE,
                repository=name,
            )
        body = orjson.dumps({"scope": scope})
        answer = self._call(
            E.SET_SCOPE,
            "PUT",
            url,
            repository=name,
            data=body,
            headers={"Content-Type": "application/json"},
        )
        self._check_mutation_answer(E.SET_SCOPE, answer, repository=name)

    def delete_repository(self, name: str) -> None:
        """Operation 6, *Delete repository*: ``DELETE <base>/repositories/<name>``.

        Removes the repository with every tag. Never retried: if no answer comes,
        :class:`OutcomeUnknown` is raised.
        """
        url = self._repository_url(name)
        answer = self._call(E.DELETE_REPOSITORY, "DELETE", url, repository=name)
        self._check_mutation_answer(E.DELETE_REPOSITORY, answer, repository=name)

    def sign_in(self, username: str, password: str) -> IdentityToken:
        """Sign in on the cluster's identity provider and get an ID token.

        ``POST <origin>/idprovider/v1/auth/identitytoken`` with
        ``grant_type=password&username=…&password=…&scope=openid`` (form-encoded). Works
        without a token; the password is never logged or put in an error.
        """
        if not (isinstance(username, str) and username and isinstance(password, str) and password):
            raise InvalidInput("Enter both a user name and a password.", operation=E.SIGN_IN)
        body = _SecretBody(
            urlencode(
                {
                    "grant_type": "password",
                    "username": username,
                    "password": password,
                    "scope": "openid",
                }
            ).encode()
        )
        # Redact it as typed, as form-encoded, and the whole form, should a server echo it.
        secrets = _Secrets((password, quote_plus(password), body.decode()))
        del password
        answer = self._call(
            E.SIGN_IN,
            "POST",
            self.origin + IDENTITY_TOKEN_PATH,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=_NoAuth(),
            secrets=secrets,
        )
        del secrets, body
        result = _identity_token(self._json(E.SIGN_IN, answer))
        if result is None:
            # Not raised from inside a frame that holds the answer's tokens.
            answer.body = b""
            raise ProtocolError(
                "The cluster's identity provider answered without an ID token: check the "
                "cluster's API URL.",
                operation=E.SIGN_IN,
                status=answer.status,
            )
        return result

    # -- plumbing ----------------------------------------------------------------------

    def _secrets(self, extra: tuple[str, ...] = ()) -> _Secrets:
        """What to redact from excerpts and details: ``extra`` and this client's token."""
        token = self._auth._token if self._auth is not None else None
        return _Secrets((*extra, token) if token else extra)

    def _repository_url(self, name: str) -> str:
        return f"{self.api_url}/repositories/{repository_path(validate_repository_name(name))}"

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
    ) -> _Answer:
        """Send one request (GETs: retried), read the body under the cap, map failures."""
        attempts = 1 + self.get_retries if method == "GET" else 1
        where = urlsplit(url)
        target = f"{where.netloc}{where.path}"
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=auth,
                    stream=True,
                    allow_redirects=False,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
            except requests.RequestException as exc:
                err, retryable = self._transport_error(
                    operation, method, exc, repository, attempt, secrets
                )
                elapsed = time.perf_counter() - started
                if retryable and attempt < attempts:
                    self._before_retry(method, target, type(exc).__name__, elapsed, attempt)
                    continue
                self._log_failure(method, target, err, elapsed, attempt)
                raise err from None

            with response:
                status = response.status_code
                if method == "GET" and status in RETRY_STATUSES and attempt < attempts:
                    response.close()
                    self._before_retry(
                        method, target, f"HTTP {status}", time.perf_counter() - started, attempt
                    )
                    continue
                try:
                    answer = self._read(operation, method, response, repository, attempt, secrets)
                except ImageManagerError as err:
                    self._log_failure(method, target, err, time.perf_counter() - started, attempt)
                    raise
                answer.elapsed = time.perf_counter() - started
                log.info(
                    "%s %s -> %d, %d bytes in %.3f s (attempt %d)",
                    method,
                    target,
                    status,
                    len(answer.body),
                    answer.elapsed,
                    attempt,
                )
                if status >= 300:
                    err = self._status_error(operation, response, answer, repository, secrets)
                    log.warning("%s %s failed: %s", method, target, err.message)
                    raise err
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _before_retry(self, method, target, why, elapsed, attempt):
        """Log the failed attempt and wait the backoff: 1x, 2x, 4x ``backoff``."""
        delay = self.backoff * (2 ** (attempt - 1))
        log.warning(
            "%s %s -> %s after %.3f s (attempt %d); retrying in %.2f s",
            method,
            target,
            why,
            elapsed,
            attempt,
            delay,
        )
        if delay:
            time.sleep(delay)

    @staticmethod
    def _log_failure(method, target, err, elapsed, attempt):
        log.warning(
            "%s %s failed after %.3f s (attempt %d): %s [%s]",
            method,
            target,
            elapsed,
            attempt,
            type(err).__name__,
            err.detail or err.message,
        )

    def _read(self, operation, method, response, repository, attempt, secrets) -> _Answer:
        """Read the body under the size cap; a broken read is a transport failure."""
        status = response.status_code
        mutation = method in _MUTATING
        if status >= 300:
            limit, strict = SMALL_BODY_LIMIT, False  # only an excerpt is wanted
        elif mutation:
            limit, strict = min(SMALL_BODY_LIMIT, self.max_response_bytes), True
        else:
            limit, strict = self.max_response_bytes, True
        media_type = _media_type(response)
        declared = response.headers.get("Content-Length", "")
        if strict and declared.isdigit() and int(declared) > limit:
            raise self._too_large(operation, status, int(declared), limit, mutation, repository)
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=_CHUNK):
                body += chunk
                if len(body) > limit:
                    if strict:
                        raise self._too_large(operation, status, None, limit, mutation, repository)
                    del body[limit:]
                    break
        except requests.exceptions.ContentDecodingError:
            raise ProtocolError(
                f"The cluster's answer to {E.describe(operation, repository)} could not be "
                "decompressed: check the cluster's API URL.",
                operation=operation,
                status=status,
                repository=repository,
                outcome_unknown=mutation and 200 <= status < 300,
            ) from None
        except requests.RequestException as exc:
            if status >= 300:
                pass  # an error page cut short still tells us the status
            else:
                err, _ = self._transport_error(
                    operation, method, exc, repository, attempt, secrets, answered=status
                )
                raise err from None
        return _Answer(status, media_type, body, 0.0, attempt)

    def _too_large(self, operation, status, size, limit, mutation, repository):
        shown = f" ({size:,} bytes)" if size else ""
        if mutation:
            return ProtocolError(
                f"The cluster answered the request to {E.describe(operation, repository)} "
                f"with an unexpectedly large body{shown} instead of a short confirmation: "
                "check the cluster's API URL. The change may or may not have been applied "
                "— refresh to check.",
                operation=operation,
                status=status,
                repository=repository,
                outcome_unknown=True,
            )
        return ProtocolError(
            f"The cluster's answer to {E.describe(operation, repository)} is larger than "
            f"the response size limit of {limit:,} bytes{shown}. If the registry really is "
            "that large, raise the limit for this cluster; otherwise check the cluster's "
            "API URL.",
            operation=operation,
            status=status,
            repository=repository,
        )

    def _transport_error(
        self, operation, method, exc, repository, attempt, secrets, answered=None
    ) -> tuple[ImageManagerError, bool]:
        """Map a requests exception to (our error, whether a GET may retry it)."""
        host = urlsplit(self.api_url).netloc
        what = E.describe(operation, repository)
        detail = redact_secrets(f"{type(exc).__name__}: {exc}", self._secrets(secrets))[:500]
        mutation = method in _MUTATING
        common = {
            "operation": operation,
            "status": answered,
            "repository": repository,
            "detail": detail,
        }
        chain = _reason_chain(exc)
        read_timed_out = isinstance(exc, requests.exceptions.ReadTimeout) or any(
            isinstance(item, ReadTimeoutError | TimeoutError) for item in chain
        )

        if isinstance(exc, requests.exceptions.SSLError):
            refused_certificate, reason = _tls_failure(exc)
            if refused_certificate:
                text = (
                    f"TLS verification of {host} failed ({reason}). Check the cluster's CA "
                    "bundle: it must be the CA that signed the cluster's certificate "
                    "(icp-router.crt on the boot node), and the API URL's host must be a name "
                    "or address on that certificate."
                )
            else:
                text = (
                    f"The TLS handshake with {host} failed ({reason}). Check that the "
                    "cluster's API URL has the right scheme and port (https, usually 8443) "
                    "and that the cluster's CA bundle is right."
                )
            return TLSError(text, **common), False
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return (
                Unavailable(
                    f"Could not connect to the cluster at {host} within "
                    f"{_seconds(self.connect_timeout)}. Check that the cluster is up and "
                    "reachable from this server, and the cluster's API URL.",
                    **common,
                ),
                False,
            )
        if read_timed_out:
            if mutation:
                return (
                    OutcomeUnknown(
                        f"The request to {what} was sent but no answer came within "
                        f"{_seconds(self.read_timeout)}; it may or may not have been applied "
                        "— refresh to check.",
                        **common,
                    ),
                    False,
                )
            return (
                Unavailable(
                    f"The cluster did not answer within {_seconds(self.read_timeout)} while "
                    f"trying to {what}. Try again; for a very large registry, raise the read "
                    "timeout for this cluster.",
                    **common,
                ),
                False,
            )
        if any(isinstance(item, NameResolutionError) for item in chain):
            return (
                Unavailable(
                    f"Could not resolve the cluster's host name "
                    f"{urlsplit(self.api_url).hostname}. Check the cluster's API URL and "
                    "this server's DNS.",
                    **common,
                ),
                False,
            )
        if any(isinstance(item, NewConnectionError) for item in chain):
            refused = any(isinstance(item, ConnectionRefusedError) for item in chain)
            why = "the connection was refused" if refused else "the network is unreachable"
            return (
                Unavailable(
                    f"Could not connect to the cluster at {host}: {why}. Check that the "
                    "cluster is up and its API URL (host and port) is right.",
                    **common,
                ),
                True,
            )
        if isinstance(
            exc,
            requests.exceptions.InvalidURL
            | requests.exceptions.InvalidSchema
            | requests.exceptions.MissingSchema
            | requests.exceptions.InvalidHeader,
        ):
            return (
                ConfigurationError(
                    f"The request to {what} could not be made: check the cluster's API URL.",
                    **common,
                ),
                False,
            )
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            # The connection broke after the request went out (reset, closed, cut short).
            if mutation:
                return (
                    OutcomeUnknown(
                        f"The request to {what} was sent but no answer came (the connection "
                        "was cut); it may or may not have been applied — refresh to check.",
                        **common,
                    ),
                    False,
                )
            return (
                Unavailable(
                    f"The connection to the cluster at {host} broke before a complete answer "
                    f"came while trying to {what}. Try again; if it persists, check the "
                    "network path and the management ingress.",
                    **common,
                ),
                answered is None,
            )
        return (
            Unavailable(
                f"The request to {what} failed: {type(exc).__name__}. Try again later.",
                **common,
            ),
            False,
        )

    def _status_error(self, operation, response, answer, repository, secrets):
        status = answer.status
        secrets = self._secrets(secrets)
        excerpt = sanitise_excerpt(answer.body, answer.media_type, secrets=secrets)
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            shown = sanitise_excerpt(location.split("?", 1)[0], secrets=secrets, limit=120)
            to = f" to {shown}" if shown else ""
            return ProtocolError(
                f"The cluster answered with a redirect (HTTP {status}{to}) instead of an "
                "API answer: check the cluster's API URL (scheme, host, port and the "
                "/image-manager/api/v1 path). Redirects are not followed.",
                operation=operation,
                status=status,
                excerpt=excerpt,
                repository=repository,
            )
        retry_after = response.headers.get("Retry-After", "")
        return error_for_status(
            operation,
            status,
            excerpt,
            repository=repository,
            retry_after=int(retry_after) if retry_after.isdigit() else None,
            attempts=answer.attempts,
        )

    def _protocol(self, operation, message, answer, repository=None, **extra):
        if operation in (E.SIGN_IN, E.DOCKER_TOKEN):
            excerpt = ""  # a successful answer to these carries fresh tokens: quote none of it
        else:
            excerpt = sanitise_excerpt(answer.body, answer.media_type, secrets=self._secrets())
        return ProtocolError(
            message,
            operation=operation,
            status=answer.status,
            excerpt=excerpt,
            repository=repository,
            **extra,
        )

    def _shape(self, operation, expected, answer, repository=None):
        return self._protocol(
            operation,
            f"The cluster's answer to {E.describe(operation, repository)} is not "
            f"{expected}: check the cluster's API URL and the image manager's version.",
            answer,
            repository,
        )

    def _json(self, operation: str, answer: _Answer, repository: str | None = None) -> object:
        what = E.describe(operation, repository)
        if not _is_json_type(answer.media_type):
            raise self._protocol(
                operation,
                f"The cluster answered the request to {what} with {answer.media_type} "
                "instead of JSON: check the cluster's API URL (a sign-in page or a proxy "
                "may have answered).",
                answer,
                repository,
            )
        try:
            return orjson.loads(answer.body)
        except orjson.JSONDecodeError as exc:
            reason = str(exc).split(":", 1)[0]
            raise self._protocol(
                operation,
                f"The cluster's answer to {what} is not valid JSON ({reason}): check the "
                "cluster's API URL; if it is right, the image manager may be failing.",
                answer,
                repository,
            ) from None

    def _check_mutation_answer(self, operation, answer, repository):
        """A 2xx to PUT/DELETE means applied, unless the answer is plainly not the API's."""
        body = bytes(answer.body).strip()
        if answer.media_type in ("text/html", "application/xhtml+xml"):
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
        raise self._protocol(
            operation,
            f"The cluster answered the request to {E.describe(operation, repository)} with "
            f"{problem} instead of the API's confirmation: check the cluster's API URL. "
            "The change may or may not have been applied — refresh to check.",
            answer,
            repository,
            outcome_unknown=True,
        )


def _identity_token(data: object) -> IdentityToken | None:
    if not isinstance(data, dict):
        return None
    value = data.get("id_token")
    if not isinstance(value, str) or not value:
        return None
    expires_in = data.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 0:
        expires_in = None
    subject, expires_at = describe_token(value)
    if expires_at is None and expires_in is not None:
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    return IdentityToken(
        id_token=value, expires_in=expires_in, expires_at=expires_at, subject=subject
    )
