"""Tokens the emulator mints: OIDC ID tokens (the identity provider) and docker-client
tokens (`GET /auth/token`), both RS256 JWTs signed with the emulator's own key.
"""

import hashlib
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# What a real ICP 3.x identity provider puts in `iss` (the cluster's default name), in the
# tokens of the password grant. Tokens from the OpenID provider's code flow carry the
# provider's URL as clients see it instead (TokenIssuer.op_issuer), as discovery requires.
ID_ISSUER = "https://mycluster.icp:9443/oidc/endpoint/OP"
REGISTRY_ISSUER = "icp-image-manager"
REGISTRY_TOKEN_TTL = 1800
DEFAULT_ID_TOKEN_TTL = 12 * 3600


class TokenError(Exception):
    """An ID token the API must refuse; the message says why, for the 401 body."""


def generate_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_or_create_key(path):
    """The signing key kept at `path`, so tokens survive a restart of a persisted emulator."""
    path = Path(path)
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = generate_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def rfc3339_utc(timestamp):
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TokenIssuer:
    def __init__(self, key=None, id_token_ttl=DEFAULT_ID_TOKEN_TTL):
        self.key = key or generate_key()
        # Set once the OpenID provider's public URL is known (when the server starts).
        self.op_issuer = None
        self.id_token_ttl = id_token_ttl
        self.public_key = self.key.public_key()
        der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = hashlib.sha256(der).hexdigest()[:16]

    def _sign(self, claims, key=None):
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.key_id})

    def sign_op_id_token(self, claims, forged=False):
        """An ID token of the OpenID provider's; `forged` signs it with a throwaway key
        under our key id, which only a client that checks signatures notices."""
        return self._sign(claims, generate_key() if forged else None)

    def public_jwk(self):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**jwk, "kid": self.key_id, "use": "sig", "alg": "RS256"}

    def issue_id_token(self, user, ttl=None):
        """An ID token for `user`; a negative ttl gives one that has already expired."""
        now = int(time.time())
        ttl = self.id_token_ttl if ttl is None else ttl
        return self._sign(
            {
                "iss": ID_ISSUER,
                "sub": user.username,
                "name": user.username,
                "uniqueSecurityName": user.username,
                "iat": now,
                "exp": now + ttl,
            }
        )

    def verify_id_token(self, token, audiences=(), verify_exp=True):
        """The claims of a valid, unexpired ID token from this emulator, or TokenError.

        A token with an `aud` (one the OpenID provider issued to a client) is accepted when
        that audience is one of `audiences`, the registered clients.
        """
        issuers = [ID_ISSUER] + ([self.op_issuer] if self.op_issuer else [])
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                issuer=issuers,
                options={
                    "require": ["exp", "iat", "sub", "iss"],
                    "verify_aud": False,
                    "verify_exp": verify_exp,
                },
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.InvalidTokenError:
            raise TokenError("invalid token") from None
        if "aud" in claims:
            audience = claims["aud"]
            audience = [audience] if isinstance(audience, str) else audience
            if not isinstance(audience, list) or not set(audience) & set(audiences):
                raise TokenError("invalid token audience")
        return claims

    def issue_registry_token(self, user, service, access):
        """The `GET /auth/token` answer: a docker-client token granting `access`."""
        now = int(time.time())
        claims = {
            "iss": REGISTRY_ISSUER,
            "sub": user.username,
            "iat": now,
            "nbf": now,
            "exp": now + REGISTRY_TOKEN_TTL,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        if service:
            claims["aud"] = service
        return {
            "expires_in": REGISTRY_TOKEN_TTL,
            "issued_at": rfc3339_utc(now),
            "token": self._sign(claims),
        }
