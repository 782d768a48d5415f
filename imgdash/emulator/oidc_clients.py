"""The OpenID provider's registered clients, and the short-lived things it hands out
(login tickets, sessions, codes, access and refresh tokens).

Clients come from the server's start options or from `POST .../registration` (RFC 7591,
authenticated as `oauthadmin` with the registration secret, as on ICP).
"""

import hmac
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")
# The client the demo registers for the dashboard it serves on 127.0.0.1:8000 (the
# callback path is mozilla-django-oidc's default).
DEMO_CLIENT = {
    "client_id": "imgdash-demo",
    "client_secret": "imgdash-demo-secret",
    "client_name": "imgdash (demo)",
    "redirect_uris": [
        "http://127.0.0.1:8000/oidc/callback/",
        "http://localhost:8000/oidc/callback/",
    ],
    "post_logout_redirect_uris": ["http://127.0.0.1:8000/", "http://localhost:8000/"],
}
# Expired handles are dropped when there are more than this many.
PURGE_ABOVE = 10_000


class RegistrationError(ValueError):
    """Client metadata refused; `error` is the RFC 7591 error code."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error = error


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    client_name: str = ""
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 (a method name)
    client_id_issued_at: int = field(default_factory=lambda: int(time.time()))

    def registration(self):
        """The RFC 7591 answer describing this client."""
        return {
            **asdict(self),
            "client_secret_expires_at": 0,
            "grant_types": list(GRANT_TYPES),
            "response_types": ["code"],
        }


def client_from_metadata(metadata):
    """A Client from RFC 7591 metadata (a dict), or RegistrationError."""
    if not isinstance(metadata, dict):
        raise RegistrationError("invalid_client_metadata", "the body must be a JSON object")
    redirect_uris = _uris(metadata, "redirect_uris", required=True)
    logout_uris = _uris(metadata, "post_logout_redirect_uris", required=False)
    strings = {}
    for name in ("client_id", "client_secret", "client_name", "token_endpoint_auth_method"):
        value = metadata.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise RegistrationError("invalid_client_metadata", f"{name} must be a string")
        strings[name] = value
    method = strings["token_endpoint_auth_method"] or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise RegistrationError(
            "invalid_client_metadata",
            f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}",
        )
    return Client(
        client_id=strings["client_id"] or secrets.token_hex(16),
        client_secret=strings["client_secret"] or secrets.token_urlsafe(32),
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=logout_uris,
        client_name=strings["client_name"] or "",
        token_endpoint_auth_method=method,
    )


def _uris(metadata, name, required):
    uris = metadata.get(name, [])
    if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
        raise RegistrationError("invalid_client_metadata", f"{name} must be a list of URLs")
    if required and not uris:
        raise RegistrationError("invalid_redirect_uri", f"{name} must list at least one URL")
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise RegistrationError(
                "invalid_redirect_uri", f"{name}: not an absolute http(s) URL: {uri}"
            )
    return list(uris)


class ClientRegistry:
    """Registered clients, safe to change while requests are served."""

    def __init__(self, clients=()):
        self._lock = threading.Lock()
        self._clients = {}
        for client in clients:
            self.register(client)

    def register(self, client):
        if not isinstance(client, Client):
            client = client_from_metadata(client)
        with self._lock:
            if client.client_id in self._clients:
                raise RegistrationError(
                    "invalid_client_metadata", f"client_id {client.client_id} is already taken"
                )
            self._clients[client.client_id] = client
        return client

    def get(self, client_id):
        return self._clients.get(client_id) if isinstance(client_id, str) else None

    def ids(self):
        return frozenset(self._clients)

    def authenticate(self, client_id, secret):
        client = self.get(client_id)
        # Compare even for unknown clients so timing does not tell which ids exist.
        expected = client.client_secret if client else secrets.token_hex(16)
        if hmac.compare_digest(str(secret).encode(), expected.encode()) and client:
            return client
        return None

    def replace(self, clients):
        with self._lock:
            self._clients = {client.client_id: client for client in clients}

    def __iter__(self):
        return iter(list(self._clients.values()))


class Grants:
    """Random handles for short-lived things, by kind ("code", "refresh"...), with expiry."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = {}

    def put(self, kind, value, ttl, handle=None):
        handle = handle or secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if len(self._items) > PURGE_ABOVE:
                self._items = {k: item for k, item in self._items.items() if item[0] >= now}
            self._items[(kind, handle)] = (now + ttl, value)
        return handle

    def _get(self, kind, handle, remove):
        if not isinstance(handle, str) or not handle:
            return None
        with self._lock:
            item = self._items.pop((kind, handle), None) if remove else None
            if not remove:
                item = self._items.get((kind, handle))
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def peek(self, kind, handle):
        return self._get(kind, handle, remove=False)

    def take(self, kind, handle):
        """The value, removing it: what a single-use handle is redeemed with."""
        return self._get(kind, handle, remove=True)

    def clear(self):
        with self._lock:
            self._items.clear()
