"""Text shown as it is: characters that hide, reorder or break text become visible escapes.

A repository named ``team-a/\\u202egpj.exe`` reads as ``team-a/exe.jpg`` when shown raw, and
``ng\\u200binx`` looks like ``nginx``. Names, tags and log lines from a cluster or a client
pass through :func:`visible_text` before anyone reads them.
"""

import re

# C0 and C1 controls, DEL, line and paragraph separators; bidi embeddings, overrides,
# isolates and marks; zero-width and other invisible characters (soft hyphen, joiners,
# fillers, the byte-order mark, invisible operators, tag characters).
HIDDEN_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible_text(text: str) -> str:
    """``text`` with each hidden character as an escape such as ``\\u202e``."""
    return HIDDEN_CHARACTERS.sub(_escape, text)
