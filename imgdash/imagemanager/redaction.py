"""Hiding secrets in text we show or store: error excerpts, logs, the action log."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Any three dot-separated base64url parts starting with a JSON header ("eyJ" is '{"'):
# a JWT, signed or not, however short its payload, wherever it starts in a word.
# Linear on any text: an attempt is made only where a run of base64url characters starts,
# skips (possessively) to the run's first "eyJ", and never backtracks; searching from every
# "eyJ" of a long run instead took seconds. Where the first "eyJ" of a run fails, every
# later one in that run would fail the same way: they all end where the run ends.
_B64 = "A-Za-z0-9_-"
_JWT_RE = re.compile(
    rf"(?<![{_B64}])(?P<before>(?:(?!eyJ)[{_B64}])*+)eyJ[{_B64}]++\.[{_B64}]++\.[{_B64}]*+"
)
_AUTH_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def redact_secrets(
    text: str, known: Iterable[str | None] = (), *, token_text: str = REDACTED
) -> str:
    """``text`` with secrets replaced.

    Each of the ``known`` secrets (a password, this client's token) becomes
    ``[redacted]``, anything JWT-shaped becomes ``token_text``, and the credentials after
    ``Bearer`` or ``Basic`` become ``[redacted]`` (the scheme word stays).
    """
    for secret in known:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _JWT_RE.sub(lambda m: m["before"] + token_text, text)
    return _AUTH_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
