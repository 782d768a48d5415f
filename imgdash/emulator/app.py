"""The emulator's HTTP behaviour as a plain WSGI application: routing, authentication,
namespace RBAC, and the repositories. Socket-level concerns (threads, TLS, faults that break
the connection) live in server.py and connection.py; the control endpoint in control.py.
This module can be mounted under any WSGI server.

Errors are answered as a Go server built on net/http answers them (`http.Error`): a short
message and a newline, `text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`.
"""

import base64
import hmac
import logging
import secrets
from typing import NamedTuple
from urllib.parse import parse_qs

import orjson

from .control import control_endpoint
from .oidc import DEFAULT_REGISTRATION_SECRET, OP_PATH, OpenIDProvider
from .oidc_clients import ClientRegistry
from .responses import (
    JSON,
    NOT_FOUND,
    OIDC_JSON,
    TEXT,
    Response,
    http_error,
    json_response,
    method_not_allowed,
    read_body,
    send,
)
from .state import SCOPES
from .tokens import TokenError
from .users import can_delete, can_see, can_update

logger = logging.getLogger("imgdash.emulator")

API = "/image-manager/api/v1"
REPOSITORIES = API + "/repositories"
IDENTITY_ENDPOINT = "/idprovider/v1/auth/identitytoken"
CONTROL = "/_emulator"

UNAUTHORIZED = "Unauthorized: "
REPOSITORY_NOT_FOUND = "repository not found"

BANNER = (
    "IBM Cloud Private Image Management API.\n"
    "The listener is working. Now try a valid endpoint\n"
    "Available APIs:\n"
    "GET /\n"
    "GET /image-manager/api/v1\n"
    "GET /image-manager/api/v1/auth/token\n"
    "GET /image-manager/api/v1/repositories\n"
    "GET /image-manager/api/v1/repositories/{repo:.*}\n"
    "PUT /image-manager/api/v1/repositories/{repo:.*}\n"
    "DELETE /image-manager/api/v1/repositories/{repo:.*}\n"
)


class ImageManagerApp:
    """WSGI application serving the Image Manager API, the identity-token endpoint and the
    OpenID provider (oidc.py).

    store: RepositoryStore; users: username -> User; tokens: TokenIssuer. oidc_clients:
    Clients (or RFC 7591 metadata dicts) registered from the start; registration_secret:
    oauthadmin's password for registering more. With `control`, `/_emulator/` manages
    `faults` and `requests` and calls `on_reset()`; without it that path is as unknown as
    any other.
    """

    def __init__(
        self,
        store,
        users,
        tokens,
        *,
        faults=None,
        requests=None,
        control=False,
        on_reset=None,
        oidc_clients=(),
        registration_secret=DEFAULT_REGISTRATION_SECRET,
    ):
        self.store = store
        self.users = users
        self.tokens = tokens
        self.faults = faults
        self.requests = requests
        self.control = control
        self.on_reset = on_reset
        self.oidc = OpenIDProvider(self, ClientRegistry(oidc_clients), registration_secret)

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"].upper()
        # PEP 3333 hands the path over as latin-1; names are UTF-8 on the wire.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        try:
            response = self.route(method, path or "/", environ)
        except Exception:
            logger.exception("emulator error on %s %s", method, path)
            response = http_error(500, "Internal Server Error")
        return send(response, start_response)

    def route(self, method, path, environ):
        if path in ("/", API, API + "/"):
            return self.banner() if method == "GET" else method_not_allowed(["GET"])
        if path == API + "/auth/token":
            return self.auth_token(environ) if method == "GET" else method_not_allowed(["GET"])
        if path == REPOSITORIES:
            if method != "GET":
                return method_not_allowed(["GET"])
            return self.list_repositories(environ)
        if path.startswith(REPOSITORIES + "/"):
            name = path[len(REPOSITORIES) + 1 :]
            if method == "GET":
                return self.get_repository(environ, name)
            if method == "PUT":
                return self.update_repository(environ, name)
            if method == "DELETE":
                return self.delete_repository(environ, name)
            return method_not_allowed(["GET", "PUT", "DELETE"])
        if path == IDENTITY_ENDPOINT:
            if method != "POST":
                return method_not_allowed(["POST"])
            return self.identity_token(environ)
        if path.startswith(OP_PATH + "/"):
            return self.oidc.route(method, path[len(OP_PATH) :], environ) or NOT_FOUND
        if self.control and (path == CONTROL or path.startswith(CONTROL + "/")):
            return control_endpoint(self, method, path[len(CONTROL) :].strip("/"), environ)
        return NOT_FOUND

    # -- authentication ------------------------------------------------------------------

    def bearer_user(self, environ):
        """(user, None) for a valid ID token, else (None, the 401 to send)."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, http_error(401, UNAUTHORIZED + "a Bearer ID token is required")
        try:
            claims = self.tokens.verify_id_token(token, audiences=self.oidc.clients.ids())
        except TokenError as exc:
            return None, http_error(401, UNAUTHORIZED + str(exc))
        user = self.users.get(claims["sub"])
        if user is None:
            return None, http_error(401, UNAUTHORIZED + "unknown user")
        return user, None

    def password_user(self, username, password):
        user = self.users.get(username)
        # Compare even for unknown users so timing does not tell which names exist.
        expected = user.password if user else secrets.token_hex(8)
        if hmac.compare_digest(str(password).encode(), expected.encode()) and user:
            return user
        return None

    def basic_user(self, environ):
        _, _, encoded = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except ValueError:  # bad base64, non-ASCII, or not UTF-8
            return None, http_error(401, UNAUTHORIZED + "malformed Basic credentials")
        username, _, password = decoded.partition(":")
        user = self.password_user(username, password)
        if user is None:
            return None, http_error(401, UNAUTHORIZED + "invalid username or password")
        return user, None

    # -- the Image Manager API -----------------------------------------------------------

    def banner(self):
        return Response(200, BANNER.encode(), TEXT)

    def auth_token(self, environ):
        """Operation 2: a docker-client token granting what the scopes ask and RBAC allows."""
        if environ.get("HTTP_AUTHORIZATION", "").lower().startswith("basic "):
            user, refusal = self.basic_user(environ)
        else:
            user, refusal = self.bearer_user(environ)
        if refusal:
            return refusal
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        service = (query.get("service") or [""])[0]
        access = []
        for value in query.get("scope", []):
            # Docker sends several scopes as repeated parameters or space-separated.
            for scope in value.split():
                granted = self.grant(user, scope)
                if granted:
                    access.append(granted)
        return json_response(200, self.tokens.issue_registry_token(user, service, access))

    def grant(self, user, scope):
        """The access entry for one `type:name:actions` scope, None when nothing is granted."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if not name:
            return None
        requested = list(dict.fromkeys(action for action in actions.split(",") if action))
        if kind == "registry":
            granted = (
                ["*"] if name == "catalog" and "*" in requested and user.is_cluster_admin else []
            )
        elif kind == "repository":
            granted = self.repository_actions(user, name, requested)
        else:
            granted = []
        return {"type": kind, "name": name, "actions": granted} if granted else None

    def repository_actions(self, user, name, requested):
        record = self.store.record(name)
        if record is None:
            # A repository that does not exist yet belongs to the namespace it would be in
            # (a `docker push` creates it there).
            record = _Placeholder(name.split("/", 1)[0], "namespace")
        allowed = {
            "pull": can_see(user, record),
            "push": can_update(user, record),
            "delete": can_delete(user, record),
        }
        granted = []
        for action in requested:
            if action == "*":
                if all(allowed.values()):
                    granted.append("*")
                else:
                    granted += [a for a in ("pull", "push") if allowed[a]]
            elif allowed.get(action):
                granted.append(action)
        return list(dict.fromkeys(granted))

    def list_repositories(self, environ):
        """Operation 3: the caller's namespaces' repositories plus every global one."""
        user, refusal = self.bearer_user(environ)
        if refusal:
            return refusal
        return Response(200, self.store.list_body(user.namespaces), JSON)

    def visible_record(self, user, name):
        record = self.store.record(name)
        if record is None or not can_see(user, record):
            # Same answer either way: a repository you may not see does not exist for you.
            return None
        return record

    def get_repository(self, environ, name):
        """Operation 4."""
        user, refusal = self.bearer_user(environ)
        if refusal:
            return refusal
        record = self.visible_record(user, name)
        if record is None:
            return http_error(404, REPOSITORY_NOT_FOUND)
        return Response(200, record.json, JSON)

    def refusal_to_change(self, environ, name, allowed, action):
        """None when the token's user may `action` the repository, else the refusal: 401 for
        the token, 404 for a repository they cannot see, 403 for their role there."""
        user, refusal = self.bearer_user(environ)
        if refusal:
            return refusal
        record = self.visible_record(user, name)
        if record is None:
            return http_error(404, REPOSITORY_NOT_FOUND)
        if not allowed(user, record):
            return http_error(403, forbidden(user, record.owner, action))
        return None

    def update_repository(self, environ, name):
        """Operation 5: change the scope. Editor, Operator or above in the owning namespace."""
        refusal = self.refusal_to_change(environ, name, can_update, "update")
        if refusal:
            return refusal
        try:
            body = orjson.loads(read_body(environ))
        except orjson.JSONDecodeError:
            return http_error(400, "invalid request body: not JSON")
        scope = body.get("scope") if isinstance(body, dict) else None
        if scope not in SCOPES:
            return http_error(400, 'invalid scope: must be "global" or "namespace"')
        if not self.store.set_scope(name, scope):
            return http_error(404, REPOSITORY_NOT_FOUND)
        return Response(200, b"OK", TEXT)

    def delete_repository(self, environ, name):
        """Operation 6: remove the repository and every tag. Administrator or above."""
        refusal = self.refusal_to_change(environ, name, can_delete, "delete")
        if refusal:
            return refusal
        if not self.store.delete(name):
            return http_error(404, REPOSITORY_NOT_FOUND)
        return Response(200)

    # -- the identity provider -----------------------------------------------------------

    def identity_token(self, environ):
        """`POST /idprovider/v1/auth/identitytoken`: the password grant, form or JSON."""
        raw = read_body(environ)
        if environ.get("CONTENT_TYPE", "").lower().startswith("application/json"):
            try:
                fields = orjson.loads(raw)
            except orjson.JSONDecodeError:
                fields = None
            if not isinstance(fields, dict):
                return oauth_error(
                    400, "invalid_request", "CWOAU0033E: The request is not valid JSON."
                )
        else:
            form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            fields = {key: values[0] for key, values in form.items()}
        for required in ("grant_type", "username", "password"):
            if not isinstance(fields.get(required), str) or not fields[required]:
                return oauth_error(
                    400,
                    "invalid_request",
                    f"CWOAU0033E: A required runtime parameter was missing: {required}",
                )
        if fields["grant_type"] != "password":
            return oauth_error(
                400,
                "unsupported_grant_type",
                f"CWOAU0025E: The grant_type parameter was invalid: {fields['grant_type']}",
            )
        user = self.password_user(fields["username"], fields["password"])
        if user is None:
            return oauth_error(
                401, "invalid_grant", "CWOAU0069E: The resource owner could not be verified."
            )
        scope = str(fields.get("scope") or "")
        answer = {
            "access_token": secrets.token_urlsafe(30),
            "token_type": "Bearer",
            "expires_in": self.tokens.id_token_ttl,
            "scope": scope,
            "refresh_token": secrets.token_urlsafe(40),
        }
        # As with any OpenID provider, the ID token comes only when `openid` was asked for.
        if "openid" in scope.split():
            answer["id_token"] = self.tokens.issue_id_token(user)
        return json_response(200, answer, OIDC_JSON, (("Cache-Control", "no-store"),))


class _Placeholder(NamedTuple):
    owner: str
    scope: str


def forbidden(user, namespace, action):
    role = user.role_in(namespace) or "no role"
    return f"Forbidden: {user.username} ({role} in {namespace}) may not {action} this repository"


def oauth_error(status, error, description):
    return json_response(status, {"error_description": description, "error": error}, OIDC_JSON)
