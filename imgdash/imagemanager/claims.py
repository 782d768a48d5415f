"""What a JWT says about itself, read WITHOUT verifying its signature: for display only.

The dashboard shows who a stored token is for and when it expires; the cluster, not us,
decides whether to trust it. :func:`describe_token` is the one reading of subject and
expiry: the client's sign-in result and a pasted credential both come from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

import jwt

# Who the token is for, most specific first; ``uniqueSecurityName`` is ICP's own claim.
SUBJECT_CLAIMS = ("sub", "name", "preferred_username", "uniqueSecurityName")
MAX_SUBJECT_LENGTH = 200
# Past 2**37 s (year 6325) a timestamp is nonsense, and some platforms cannot convert it.
_MAX_EXP = 2**37


class TokenFacts(NamedTuple):
    """A token's subject ("" when it names none) and expiry (None when it states none)."""

    subject: str
    expires_at: datetime | None


def token_claims(id_token: object) -> dict[str, Any]:
    """The claims of a JWT, unverified; ``{}`` for anything that is not a readable JWT."""
    if not isinstance(id_token, str) or not id_token:
        return {}
    try:
        claims = jwt.decode(
            id_token,
            options={
                "verify_signature": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return {}
    return claims if isinstance(claims, dict) else {}


def describe_token(id_token: object) -> TokenFacts:
    """Subject and expiry of a JWT, for display.

    The subject is the first non-empty text among :data:`SUBJECT_CLAIMS`, cut to 200
    characters. The expiry is ``exp`` as an aware UTC datetime when it is a number of
    seconds between 1970 and the year 6325, else None.
    """
    claims = token_claims(id_token)
    subject = ""
    for key in SUBJECT_CLAIMS:
        value = claims.get(key)
        if isinstance(value, str) and value:
            subject = value[:MAX_SUBJECT_LENGTH]
            break
    exp = claims.get("exp")
    expires_at = None
    # bool is an int to Python, and "exp": true is not a time.
    if isinstance(exp, int | float) and not isinstance(exp, bool) and 0 < exp < _MAX_EXP:
        expires_at = datetime.fromtimestamp(exp, UTC)
    return TokenFacts(subject, expires_at)


def token_subject(id_token: object) -> str:
    """Who the JWT says it is for (see :func:`describe_token`), or ""."""
    return describe_token(id_token).subject


def token_expires_at(id_token: object) -> datetime | None:
    """The JWT's ``exp`` as an aware UTC datetime, or None (see :func:`describe_token`)."""
    return describe_token(id_token).expires_at
