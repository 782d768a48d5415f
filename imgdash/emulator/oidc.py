"""The emulator's OpenID Connect provider, at `/oidc/endpoint/OP` as on IBM Cloud Private
(WebSphere Liberty's OP): discovery, a login page, the authorization-code flow with PKCE
(S256 only), the token endpoint (codes and rotating refresh tokens), JWKS, userinfo,
end-session and client registration.

Its ID tokens are the Bearer tokens the emulator's Image Manager API accepts (their `aud`
is the client's id; the API accepts any registered client). Errors follow RFC 6749: sent to
the client's redirect URI once that is known to be registered, else shown on a page.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, unquote_plus, urlencode

import orjson

from .oidc_clients import AUTH_METHODS, GRANT_TYPES, Grants, RegistrationError
from .oidc_pages import error_page, login_page, signed_out_page
from .responses import OIDC_JSON, Response, json_response, method_not_allowed, read_body

OP_PATH = "/oidc/endpoint/OP"
REGISTRATION_USER = "oauthadmin"
DEFAULT_REGISTRATION_SECRET = "registration-secret"  # noqa: S105 (the demo's, on 127.0.0.1)

CODE_TTL = 60
TICKET_TTL = 600
SESSION_TTL = 12 * 3600
REFRESH_TTL = 7 * 24 * 3600
SESSION_COOKIE = "op_session"
TICKET_COOKIE = "op_login_ticket"
WRONG_ISSUER = "https://impostor.example:8443/oidc/endpoint/OP"
# RFC 7636: 43 to 128 characters of the unreserved set.
PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
SCOPES = ["openid", "profile", "email", "groups", "offline_access"]
CLAIMS = ["sub", "name", "preferred_username", "email", "groups", "nonce", "auth_time"]


class OAuthError(Exception):
    def __init__(self, error, description, status=400, headers=()):
        super().__init__(description)
        self.error, self.status, self.headers = error, status, headers

    def response(self):
        body = {"error": self.error, "error_description": str(self)}
        return json_response(self.status, body, OIDC_JSON, (*NO_STORE, *self.headers))


class OpenIDProvider:
    """Answers requests under OP_PATH. `app` gives the users, the signing keys
    (`app.tokens`) and password checks; `clients` is a ClientRegistry."""

    def __init__(self, app, clients, registration_secret=DEFAULT_REGISTRATION_SECRET):
        self.app = app
        self.clients = clients
        self.registration_secret = registration_secret
        self.grants = Grants()

    @property
    def issuer(self):
        return self.app.tokens.op_issuer

    def route(self, method, path, environ):
        """`path` is what follows OP_PATH."""
        if self.issuer is None:
            # Mounted without a server that knows its public URL: the first caller's view.
            host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
            self.app.tokens.op_issuer = f"{environ['wsgi.url_scheme']}://{host}{OP_PATH}"
        routes = {
            "/.well-known/openid-configuration": (("GET",), self.discovery),
            "/authorize": (("GET", "POST"), self.authorize),
            "/token": (("POST",), self.token),
            "/jwk": (("GET",), self.jwks),
            "/userinfo": (("GET", "POST"), self.userinfo),
            "/logout": (("GET", "POST"), self.end_session),
            "/registration": (("POST",), self.register),
        }
        if path not in routes:
            return None
        methods, handler = routes[path]
        if method not in methods:
            return method_not_allowed(list(methods))
        try:
            return handler(method, environ)
        except OAuthError as exc:
            return exc.response()

    # -- discovery and keys --------------------------------------------------------------

    def discovery(self, method, environ):
        base = self.issuer
        return json_response(
            200,
            {
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwk",
                "userinfo_endpoint": base + "/userinfo",
                "end_session_endpoint": base + "/logout",
                "registration_endpoint": base + "/registration",
                "scopes_supported": SCOPES,
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": list(GRANT_TYPES),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": CLAIMS,
            },
            OIDC_JSON,
        )

    def jwks(self, method, environ):
        return json_response(200, {"keys": [self.app.tokens.public_jwk()]}, OIDC_JSON)

    # -- authorization -------------------------------------------------------------------

    def authorize(self, method, environ):
        if method == "POST":
            return self.login(environ)
        params = single_values(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        client = self.clients.get(params.get("client_id"))
        if client is None:
            return error_page(400, "Unknown client: the application is not registered here.")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri not in client.redirect_uris:
            return error_page(400, "The redirect URI is not registered for this application.")
        state = params.get("state")
        try:
            request = authorization_request(params, client, redirect_uri)
        except OAuthError as exc:
            return redirect_with(
                redirect_uri, error=exc.error, error_description=str(exc), state=state
            )
        session = self.grants.peek("session", cookies(environ).get(SESSION_COOKIE))
        prompt = (params.get("prompt") or "").split()
        if session and "login" not in prompt and self.app.users.get(session["username"]):
            return self.issue_code(request, session)
        if "none" in prompt:
            return redirect_with(redirect_uri, error="login_required", state=state)
        ticket = self.grants.put("ticket", request, TICKET_TTL)
        return login_page(
            OP_PATH + "/authorize",
            ticket,
            client.client_name or client.client_id,
            headers=(set_cookie(TICKET_COOKIE, ticket, TICKET_TTL),),
        )

    def login(self, environ):
        """The login form's POST: the ticket must match the browser's cookie (so another
        site cannot post the form), then the user's password."""
        form = single_values(parse_qs(read_form(environ), keep_blank_values=True))
        ticket = form.get("ticket") or ""
        request = self.grants.peek("ticket", ticket)
        cookie = cookies(environ).get(TICKET_COOKIE) or ""
        if request is None or not hmac.compare_digest(ticket.encode(), cookie.encode()):
            return error_page(
                400, "This sign-in form has expired. Start again from the application."
            )
        username = form.get("username") or ""
        user = self.app.password_user(username, form.get("password") or "")
        if user is None:
            client = self.clients.get(request["client_id"])
            name = (client.client_name or client.client_id) if client else ""
            return login_page(
                OP_PATH + "/authorize", ticket, name, username, "Invalid username or password."
            )
        self.grants.take("ticket", ticket)
        session = {"username": user.username, "auth_time": int(time.time())}
        session_id = self.grants.put("session", session, SESSION_TTL)
        response = self.issue_code(request, session)
        return response._replace(
            headers=(
                *response.headers,
                set_cookie(SESSION_COOKIE, session_id, SESSION_TTL),
                set_cookie(TICKET_COOKIE, "", 0),
            )
        )

    def issue_code(self, request, session):
        code = self.grants.put("code", {**request, **session}, CODE_TTL)
        return redirect_with(request["redirect_uri"], code=code, state=request["state"])

    # -- the token endpoint --------------------------------------------------------------

    def token(self, method, environ):
        form = single_values(parse_qs(read_form(environ), keep_blank_values=True))
        client = self.authenticate_client(environ, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.redeem_code(client, form)
        elif grant_type == "refresh_token":
            grant = self.grants.take("refresh", form.get("refresh_token"))
            if grant is None or grant["client_id"] != client.client_id:
                raise OAuthError("invalid_grant", "The refresh token is invalid or was used.")
        elif not grant_type:
            raise OAuthError("invalid_request", "A required parameter was missing: grant_type")
        else:
            raise OAuthError("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")
        user = self.app.users.get(grant["username"])
        if user is None:
            raise OAuthError("invalid_grant", "The user no longer exists.")
        fault = environ.get("imgdash.emulator.fault")
        access_token, refresh_token, id_token = self.token_answer(
            user, client, grant, fault and fault.id_token
        )
        if grant.get("code"):
            # Remembered so that a replay of the code can revoke what it gave.
            self.grants.put("used-code", refresh_token, REFRESH_TTL, handle=grant["code"])
        answer = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.app.tokens.id_token_ttl,
            "scope": grant["scope"],
            "refresh_token": refresh_token,
            "id_token": id_token,
        }
        return json_response(200, answer, OIDC_JSON, NO_STORE)

    def authenticate_client(self, environ, form):
        header = environ.get("HTTP_AUTHORIZATION", "")
        basic = header[:6].lower() == "basic "
        if basic and "client_secret" in form:
            raise OAuthError("invalid_request", "Use one client authentication method only.")
        if basic:
            client_id, secret = basic_credentials(header)
            # RFC 6749 2.3.1: both parts are form-encoded before Basic encoding.
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        client = self.clients.authenticate(client_id, secret or "") if client_id else None
        if client is None:
            challenge = (("WWW-Authenticate", 'Basic realm="OP"'),) if basic else ()
            raise OAuthError("invalid_client", "Client authentication failed.", 401, challenge)
        if "client_id" in form and form["client_id"] != client.client_id:
            raise OAuthError("invalid_request", "client_id does not match the credentials.")
        return client

    def redeem_code(self, client, form):
        code = form.get("code")
        grant = self.grants.take("code", code)
        if grant is None:
            refresh_token = self.grants.take("used-code", code)
            if refresh_token:
                # RFC 6749 4.1.2: a code used twice revokes what it gave the first time.
                self.grants.take("refresh", refresh_token)
            raise OAuthError("invalid_grant", "The authorization code is invalid or was used.")
        if grant["client_id"] != client.client_id:
            raise OAuthError("invalid_grant", "The code was issued to another client.")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization.")
        verifier = form.get("code_verifier") or ""
        if not PKCE_VALUE.fullmatch(verifier):
            raise OAuthError("invalid_grant", "A valid code_verifier is required (PKCE).")
        if not hmac.compare_digest(s256(verifier), grant["code_challenge"]):
            raise OAuthError("invalid_grant", "The code_verifier does not match.")
        grant["code"] = code
        return grant

    def token_answer(self, user, client, grant, fault=None):
        tokens = self.app.tokens
        kept = ("username", "client_id", "scope", "nonce", "auth_time")
        grant = {key: grant[key] for key in kept if key in grant}
        access_token = self.grants.put("access", grant, tokens.id_token_ttl)
        # A refreshed ID token carries no nonce: none was sent with the refresh.
        refresh_token = self.grants.put("refresh", {**grant, "nonce": None}, REFRESH_TTL)
        return (
            access_token,
            refresh_token,
            tokens.sign_op_id_token(
                self.id_token_claims(user, client, grant, access_token, fault),
                forged=fault == "bad_signature",
            ),
        )

    def id_token_claims(self, user, client, grant, access_token, fault):
        now = int(time.time())
        ttl = self.app.tokens.id_token_ttl
        digest = hashlib.sha256(access_token.encode()).digest()
        claims = {
            "iss": WRONG_ISSUER if fault == "wrong_issuer" else self.issuer,
            "sub": user.username,
            "aud": "another-client" if fault == "wrong_audience" else client.client_id,
            "azp": client.client_id,
            "iat": now - 2 * ttl if fault == "expired" else now,
            "exp": now - ttl if fault == "expired" else now + ttl,
            "auth_time": grant["auth_time"],
            "at_hash": b64url(digest[:16]),
            "name": user.full_name or user.username,
            "preferred_username": user.username,
            "uniqueSecurityName": user.username,
            "email": user.email,
            "groups": list(user.groups),
        }
        nonce = grant.get("nonce")
        if fault == "wrong_nonce":
            nonce = secrets.token_urlsafe(16)
        if nonce and fault != "no_nonce":
            claims["nonce"] = nonce
        return claims

    def userinfo(self, method, environ):
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        grant = self.grants.peek("access", token.strip()) if scheme.lower() == "bearer" else None
        user = self.app.users.get(grant["username"]) if grant else None
        if user is None:
            challenge = ("WWW-Authenticate", 'Bearer error="invalid_token"')
            raise OAuthError("invalid_token", "The access token is invalid.", 401, (challenge,))
        return json_response(200, profile(user), OIDC_JSON, NO_STORE)

    # -- end-session and registration ----------------------------------------------------

    def end_session(self, method, environ):
        """RP-initiated logout: end the login session, then go back to the client's
        registered post-logout URI when it asked for one."""
        raw = read_form(environ) if method == "POST" else environ.get("QUERY_STRING", "")
        params = single_values(parse_qs(raw, keep_blank_values=True))
        client = self.clients.get(params.get("client_id"))
        hint = params.get("id_token_hint")
        if hint:
            try:
                claims = self.app.tokens.verify_id_token(
                    hint, audiences=self.clients.ids(), verify_exp=False
                )
            except Exception:  # any token we did not issue, whatever is wrong with it
                return error_page(400, "The id_token_hint is not a token this provider issued.")
            client = self.clients.get(claims.get("aud")) or client
        self.grants.take("session", cookies(environ).get(SESSION_COOKIE))
        cleared = (set_cookie(SESSION_COOKIE, "", 0),)
        target = params.get("post_logout_redirect_uri")
        if not target:
            return signed_out_page(headers=cleared)
        if client is None or target not in client.post_logout_redirect_uris:
            note = "The address to return to is not registered for the application."
            return signed_out_page(note, cleared)
        response = redirect_with(target, state=params.get("state"))
        return response._replace(headers=(*response.headers, *cleared))

    def register(self, method, environ):
        """RFC 7591 dynamic registration, for `oauthadmin` with the registration secret."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        username, secret = basic_credentials(header) if header[:6].lower() == "basic " else ("", "")
        expected = f"{REGISTRATION_USER}:{self.registration_secret}".encode()
        if not hmac.compare_digest(f"{username}:{secret}".encode(), expected):
            challenge = ("WWW-Authenticate", 'Basic realm="OP"')
            raise OAuthError(
                "invalid_client", "Registration needs oauthadmin's secret.", 401, (challenge,)
            )
        try:
            metadata = orjson.loads(read_body(environ))
            client = self.clients.register(metadata)
        except orjson.JSONDecodeError:
            raise OAuthError("invalid_client_metadata", "The body is not JSON.") from None
        except RegistrationError as exc:
            raise OAuthError(exc.error, str(exc)) from None
        return json_response(201, client.registration(), OIDC_JSON, NO_STORE)


def authorization_request(params, client, redirect_uri):
    """What a code will stand for, from a valid authorization request, or OAuthError."""
    if params.get(DUPLICATE):
        raise OAuthError("invalid_request", f"Parameter sent twice: {params[DUPLICATE]}")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
    scope = params.get("scope") or ""
    if "openid" not in scope.split():
        raise OAuthError("invalid_scope", "The scope must include openid.")
    if params.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_request", "PKCE is required, with code_challenge_method S256.")
    challenge = params.get("code_challenge") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge):
        raise OAuthError("invalid_request", "code_challenge must be a base64url SHA-256.")
    return {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": params.get("state"),
        "nonce": params.get("nonce"),
        "code_challenge": challenge,
    }


def profile(user):
    return {
        "sub": user.username,
        "name": user.full_name or user.username,
        "preferred_username": user.username,
        "email": user.email,
        "groups": list(user.groups),
    }


# -- small helpers -------------------------------------------------------------------------

# The key under which single_values() reports a parameter that was sent more than once.
DUPLICATE = "\0duplicate"


def single_values(parsed):
    values = {name: found[0] for name, found in parsed.items()}
    repeated = [name for name, found in parsed.items() if len(found) > 1]
    if repeated:
        values[DUPLICATE] = repeated[0]
    return values


def read_form(environ):
    return read_body(environ).decode("utf-8", "replace")


def basic_credentials(header):
    _, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401) from None
    username, _, password = decoded.partition(":")
    return username, password


def cookies(environ):
    jar = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def set_cookie(name, value, max_age):
    return (
        "Set-Cookie",
        f"{name}={value}; Max-Age={max_age}; Path={OP_PATH}; HttpOnly; SameSite=Lax",
    )


def redirect_with(uri, **params):
    query = urlencode({key: value for key, value in params.items() if value is not None})
    separator = "&" if "?" in uri else "?"
    location = uri + separator + query if query else uri
    return Response(302, b"", None, (("Location", location), *NO_STORE))


def s256(verifier):
    return b64url(hashlib.sha256(verifier.encode()).digest())


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
