"""Repository-name rules and the only place that turns a name into an upstream URL.

A name is checked against the Docker reference grammar for repository paths
(github.com/distribution/reference, ``reference.go``)::

    path            := path-component ['/' path-component]*
    path-component  := alpha-numeric [separator alpha-numeric]*
    alpha-numeric   := /[a-z0-9]+/
    separator       := /[_.]|__|[-]+/

with at most 255 characters in all. Checking happens before any request, so a name
that reaches a URL can only ever hold ``[a-z0-9._/-]``: no ``..`` segment, no ``?``,
``#``, ``%``, whitespace or upper case. Each segment is still percent-quoted as a second
line of defence, and the URL is built on a fixed prefix, never with ``urljoin``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .errors import InvalidRepositoryName

MAX_NAME_LENGTH = 255

# ASCII classes spelled out: no re.IGNORECASE, no Unicode digits, and fullmatch() so a
# trailing newline cannot slip past the way it can with "$".
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
NAME_PATTERN = rf"{_COMPONENT}(?:/{_COMPONENT})*"
_NAME_RE = re.compile(NAME_PATTERN)

MAX_TAG_LENGTH = 128
# Docker's tag grammar (reference.go: `[\w][\w.-]{0,127}`), ASCII only.
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")

#: What the registry's token service understands as "list the whole catalog".
CATALOG_SCOPE = "registry:catalog:*"


def _reason(name: str) -> str:
    """Say in plain words why ``name`` fails, for the error message."""
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
    if name != name.strip():
        return "it starts or ends with white space"
    if name.lower() != name:
        return "it contains upper-case letters; repository names are lower case"
    if name.startswith("/") or name.endswith("/"):
        return "it starts or ends with '/'"
    if "//" in name:
        return "it contains an empty path segment ('//')"
    bad = sorted({ch for ch in name if not (ch.isascii() and (ch.isalnum() or ch in "._-/"))})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        return f"it contains characters not allowed in a repository name: {shown}"
    return (
        "each '/'-separated part must start and end with a letter or digit, and may only "
        "join them with '.', '_', '__' or '-'"
    )


def is_valid_repository_name(name: object) -> bool:
    """True when ``name`` is a string that :func:`validate_repository_name` accepts."""
    return (
        isinstance(name, str)
        and len(name) <= MAX_NAME_LENGTH
        and _NAME_RE.fullmatch(name) is not None
    )


def is_valid_tag(tag: object) -> bool:
    """True when ``tag`` is a Docker tag: a letter, digit or ``_``, then up to 127 of those,
    ``.`` and ``-``. Anything else from a cluster is shown as text, never put in a command."""
    return isinstance(tag, str) and _TAG_RE.fullmatch(tag) is not None


def validate_repository_name(name: object) -> str:
    """Return ``name`` unchanged if it is a valid repository path, else raise.

    Raises :class:`InvalidRepositoryName` (a ``ValueError`` and an ``ImageManagerError``)
    whose message says what is wrong, so a view can show it as is.
    """
    if not isinstance(name, str):
        raise InvalidRepositoryName(f"A repository name must be text, not {type(name).__name__}.")
    if is_valid_repository_name(name):
        return name
    shown = name if len(name) <= 80 else name[:77] + "..."
    raise InvalidRepositoryName(f"{shown!r} is not a valid repository name: {_reason(name)}.")


def repository_path(name: str) -> str:
    """The path tail for ``name``: each segment percent-quoted, slashes kept."""
    validate_repository_name(name)
    return "/".join(quote(segment, safe="") for segment in name.split("/"))


def repository_url(api_base: str, name: str) -> str:
    """``<api_base>/repositories/<name>`` for a validated ``name``.

    ``api_base`` is the cluster's API base URL, e.g.
    ``https://master:8443/image-manager/api/v1`` (a trailing slash is ignored).
    """
    return f"{api_base.rstrip('/')}/repositories/{repository_path(name)}"


def namespace_of(name: str) -> str:
    """The namespace part of a repository name: everything before the first ``/``.

    ICP names are ``<namespace>/<image>``; a name without a slash has no namespace ("").
    """
    head, sep, _ = name.partition("/")
    return head if sep else ""


def short_name_of(name: str) -> str:
    """The name without its namespace: ``team-a/tools/builder`` -> ``tools/builder``."""
    _, sep, tail = name.partition("/")
    return tail if sep else name


def repository_scope(name: str, actions: str = "pull,push") -> str:
    """A docker-client token scope for one repository, e.g. ``repository:team-a/app:pull``.

    ``actions`` is a comma-separated list of ``pull``, ``push``, ``delete`` or ``*``.
    """
    validate_repository_name(name)
    wanted = [a.strip() for a in actions.split(",")]
    if not wanted or any(a not in {"pull", "push", "delete", "*"} for a in wanted):
        raise ValueError(f"Unknown registry actions {actions!r}: use pull, push, delete or *.")
    return f"repository:{name}:{','.join(wanted)}"
