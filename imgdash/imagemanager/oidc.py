"""A cluster's OpenID Connect provider, with imgdash as the relying party.

IBM Cloud Private's identity provider (``https://<master>:8443/oidc/endpoint/OP``) issues
ID tokens that are the Bearer tokens the Image Manager API accepts. This module reads its
discovery document, redeems authorization codes (PKCE, S256), refreshes, fetches its keys
and checks an ID token's signature and claims.

Every call goes through :class:`.transport.ClusterTransport` (timeouts, deadline, size cap,
the cluster's CA, no redirects), so the provider is reached exactly as the cluster's API
is. authlib does the cryptography and the claim rules (``authlib.jose`` for JWKS and JWS,
``authlib.oidc.core.CodeIDToken`` for iss, aud, exp, iat, nonce and azp) and never the HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import authlib.deprecate  # noqa: F401 - installs its "always" filter before ours below
from requests.auth import HTTPBasicAuth

from . import errors as E
from .answers import json_of
from .errors import ImageManagerError, ProtocolError
from .transport import ClusterTransport

with warnings.catch_warnings():
    # authlib 1.x announces joserfc as authlib.jose's successor; the API stays until 2.0.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.jose.errors import (
        BadSignatureError,
        ExpiredTokenError,
        InvalidClaimError,
        JoseError,
        MissingClaimError,
    )
    from authlib.oidc.core import CodeIDToken
    from joserfc import errors as joserfc_errors

# authlib 1.9 checks claims through joserfc and raises its errors; keep both families.
_BAD_SIGNATURE = (BadSignatureError, joserfc_errors.BadSignatureError)
_EXPIRED = (ExpiredTokenError, joserfc_errors.ExpiredTokenError)
_CLAIM = (InvalidClaimError, MissingClaimError, joserfc_errors.ClaimError)
_UNREADABLE = (JoseError, joserfc_errors.JoseError, ValueError, TypeError, KeyError)

DISCOVERY_PATH = "/.well-known/openid-configuration"
SCOPE = "openid profile email groups offline_access"
# Asymmetric algorithms only: a provider's public key must never serve as an HMAC secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
CLOCK_LEEWAY = 60


class SignInRefused(ImageManagerError):
    """The provider or its ID token cannot be trusted for this sign-in.

    ``reason`` is a short code for logs and tests (``bad_signature``, ``expired``,
    ``wrong_audience``, ``wrong_issuer``, ``bad_nonce``, ``bad_claims``, ``malformed``,
    ``provider_refused``); ``message`` says it in words.
    """

    def __init__(self, message: str, reason: str, **fields: Any) -> None:
        super().__init__(message, operation=fields.pop("operation", E.OIDC_SIGN_IN), **fields)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """What the discovery document says, the endpoints imgdash uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class TokenSet:
    """The token endpoint's answer; every token hidden from repr."""

    id_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One sign-in's secrets, kept by the caller until the callback, and where to send the
    browser."""

    url: str
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


def s256(verifier: str) -> str:
    """RFC 7636's S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def default_discovery_url(api_url: str) -> str:
    """ICP's provider on the cluster's master: ``https://<host>:8443/oidc/endpoint/OP/...``."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.hostname}:8443/oidc/endpoint/OP{DISCOVERY_PATH}"


class OpenIDClient(ClusterTransport):
    """One cluster's OpenID provider, for one registered client (id and secret).

    ``OpenIDClient(discovery_url, client_id, client_secret, **transport settings)``: the
    settings are :class:`.transport.ClusterTransport`'s (CA, verify, timeouts, deadline).
    """

    def __init__(
        self, discovery_url: str, client_id: str, client_secret: str, **settings: Any
    ) -> None:
        super().__init__(discovery_url, None, **settings)
        self.client_id = client_id
        self._client_secret = client_secret
        del client_secret

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.api_url} client={self.client_id}>"

    def _basic_auth(self) -> HTTPBasicAuth:
        # RFC 6749 2.3.1: both parts are form-encoded before Basic encoding.
        return HTTPBasicAuth(quote(self.client_id, safe=""), quote(self._client_secret, safe=""))

    def discover(self) -> ProviderConfig:
        """The discovery document; its server-side endpoints must be on its own host."""
        data = json_of(self._call(E.OIDC_DISCOVERY, "GET", self.api_url))
        if not isinstance(data, dict):
            raise ProtocolError(_NOT_A_PROVIDER, operation=E.OIDC_DISCOVERY)
        names = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        values = [data.get(name) for name in names]
        if not all(isinstance(value, str) and value.startswith("http") for value in values):
            raise ProtocolError(_NOT_A_PROVIDER, operation=E.OIDC_DISCOVERY)
        for value in (data["token_endpoint"], data["jwks_uri"]):
            # The client secret and codes go there: only to the host an admin named.
            if urlsplit(value).netloc != urlsplit(self.api_url).netloc:
                raise ProtocolError(
                    "The sign-in provider's discovery document sends imgdash to another host "
                    f"({urlsplit(value).netloc}): ask an imgdash admin to check its discovery "
                    "URL.",
                    operation=E.OIDC_DISCOVERY,
                )
        end_session = data.get("end_session_endpoint")
        return ProviderConfig(
            issuer=data["issuer"],
            authorization_endpoint=data["authorization_endpoint"],
            token_endpoint=data["token_endpoint"],
            jwks_uri=data["jwks_uri"],
            end_session_endpoint=end_session if isinstance(end_session, str) else None,
        )

    def authorization_request(
        self, config: ProviderConfig, redirect_uri: str, scope: str = SCOPE
    ) -> AuthorizationRequest:
        """A new state, nonce and PKCE verifier, and the authorize URL that carries them."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in config.authorization_endpoint else "?"
        url = config.authorization_endpoint + separator + query
        return AuthorizationRequest(url, state, nonce, verifier)

    def redeem_code(
        self, config: ProviderConfig, code: str, redirect_uri: str, code_verifier: str
    ) -> TokenSet:
        """The token endpoint's answer to an authorization code (with the PKCE verifier)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self._token_call(E.OIDC_TOKEN, config, form, (code, code_verifier))

    def refresh(self, config: ProviderConfig, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token (which the provider may rotate)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_call(E.OIDC_REFRESH, config, form, (refresh_token,))

    def _token_call(
        self,
        operation: str,
        config: ProviderConfig,
        form: dict[str, str],
        secrets_in_form: tuple[str, ...],
    ) -> TokenSet:
        try:
            answer = self._call(
                operation,
                "POST",
                config.token_endpoint,
                data=urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                auth=self._basic_auth(),
                secrets=(*secrets_in_form, self._client_secret),
            )
        except ImageManagerError as err:
            if err.status in (400, 401):
                raise SignInRefused(
                    f"The sign-in provider refused to {E.describe(operation)} "
                    f"(HTTP {err.status}: {err.excerpt or 'no reason given'}).",
                    "provider_refused",
                    operation=operation,
                    status=err.status,
                ) from None
            raise
        data = json_of(answer)
        if not isinstance(data, dict) or not isinstance(data.get("id_token"), str):
            raise ProtocolError(
                "The sign-in provider's token answer holds no ID token.", operation=operation
            )
        refresh_token = data.get("refresh_token")
        access_token = data.get("access_token")
        return TokenSet(
            data["id_token"],
            refresh_token if isinstance(refresh_token, str) and refresh_token else None,
            access_token if isinstance(access_token, str) else None,
        )

    def keys(self, config: ProviderConfig) -> dict[str, Any]:
        """The provider's signing keys (JWKS)."""
        data = json_of(self._call(E.OIDC_KEYS, "GET", config.jwks_uri))
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ProtocolError(_NOT_A_PROVIDER, operation=E.OIDC_KEYS)
        return data

    def verify_id_token(
        self,
        config: ProviderConfig,
        id_token: str,
        *,
        nonce: str | None,
        access_token: str | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The ID token's claims once its signature (the provider's JWKS) and claims (iss,
        aud = our client id, exp, iat, nonce when one was sent, azp when present) hold;
        SignInRefused otherwise."""
        return check_id_token(
            id_token,
            self.keys(config),
            issuer=config.issuer,
            client_id=self.client_id,
            nonce=nonce,
            access_token=access_token,
            now=now,
        )

    @staticmethod
    def end_session_url(
        config: ProviderConfig, id_token_hint: str, post_logout_redirect_uri: str
    ) -> str | None:
        """Where to send the browser to end its provider session too, or None when the
        provider has no end_session_endpoint."""
        if not config.end_session_endpoint:
            return None
        query = urlencode(
            {"id_token_hint": id_token_hint, "post_logout_redirect_uri": post_logout_redirect_uri}
        )
        separator = "&" if "?" in config.end_session_endpoint else "?"
        return config.end_session_endpoint + separator + query


_NOT_A_PROVIDER = (
    "The sign-in provider's discovery URL did not answer with an OpenID Connect "
    "configuration: ask an imgdash admin to check it."
)

_CLAIM_REASONS = {
    "iss": ("wrong_issuer", "was issued by another provider than this cluster's"),
    "aud": ("wrong_audience", "was issued to another application than imgdash"),
    "azp": ("wrong_audience", "was issued to another application than imgdash"),
    "nonce": ("bad_nonce", "does not belong to this sign-in (its nonce does not match)"),
}


def check_id_token(
    id_token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    access_token: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """See :meth:`OpenIDClient.verify_id_token`."""
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    params = {"client_id": client_id, "nonce": nonce, "access_token": access_token}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key_set = JsonWebKey.import_key_set(jwks)
            claims = JsonWebToken(ALGORITHMS).decode(
                id_token,
                key_set,
                claims_cls=CodeIDToken,
                claims_options=options,
                claims_params=params,
            )
            claims.validate(now=int(now if now is not None else time.time()), leeway=CLOCK_LEEWAY)
    except _BAD_SIGNATURE:
        raise _refused("bad_signature", "is not signed by this cluster's provider") from None
    except _EXPIRED:
        raise _refused("expired", "has expired (or the clocks disagree)") from None
    except _CLAIM as err:
        claim = str(getattr(err, "claim_name", None) or getattr(err, "claim", ""))
        reason, words = _CLAIM_REASONS.get(
            claim, ("bad_claims", f"has a missing or invalid {claim!r} claim")
        )
        raise _refused(reason, words) from None
    except _UNREADABLE:
        raise _refused("malformed", "cannot be read as a signed token") from None
    return dict(claims)


def _refused(reason: str, words: str) -> SignInRefused:
    return SignInRefused(f"The ID token the sign-in provider sent {words}.", reason)
