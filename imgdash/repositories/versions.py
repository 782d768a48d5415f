"""Tags in the order people look for them: ``latest``, then versions newest first, then the rest.

The Image Manager API lists tags in push order, oldest first, which buries the tag anyone wants
to pull under dozens of old ones. Docker tags are not PEP 440 versions (``1.2.3-alpine``,
``v2.0``, ``20190101``), so ``packaging.version`` refuses many of them; this key reads them
semver-ishly instead:

- ``latest`` comes first;
- then version tags (an optional ``v``, dot-separated numbers, an optional suffix after ``-``
  or ``_``, or after ``.`` when it starts with a letter), highest first: numbers compare as
  numbers (``2.10`` above ``2.9``), a more specific version above its prefix (``2.1.3``, then
  ``2.1``, then ``2``), a plain release above its suffixed builds (``1.2.3``, then
  ``1.2.3-rc2``, ``1.2.3-rc1``), suffixes newest first (``rc`` above ``beta`` above
  ``alpha``, ``rc10`` above ``rc9``);
- then every other tag, alphabetically, with numbers in it highest first (``build-1063`` above
  ``build-1000``).
"""

import re
from functools import total_ordering

# A suffix follows "-" or "_", or "." and a letter: "1.2." or "1..2" are not versions.
_VERSION = re.compile(
    r"[vV]?(\d+(?:\.\d+)*)(?:[-_]([A-Za-z0-9][\w.-]*)|\.([A-Za-z][\w.-]*))?", re.ASCII
)
_PARTS = re.compile(r"\d+|\D+", re.ASCII)


@total_ordering
class _Descending:
    """Wraps a value so that sorting ascending puts the largest first."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return self.value == other.value

    def __lt__(self, other):
        return other.value < self.value


def _natural(text, numbers_descending):
    """Text split into comparable parts: numbers as numbers, text case-insensitively."""
    parts = []
    for part in _PARTS.findall(text):
        if part.isascii() and part.isdigit():
            parts.append((0, -int(part) if numbers_descending else int(part)))
        else:
            parts.append((1, part.lower()))
    return tuple(parts)


def tag_sort_key(name):
    """Sort key for a tag name; ``sorted(names, key=tag_sort_key)`` gives the newest first."""
    if name == "latest":
        return (0, (), name)
    version = _VERSION.fullmatch(name)
    if version:
        numbers = tuple(int(n) for n in version.group(1).split("."))
        suffix = version.group(2) or version.group(3) or ""
        # Descending as a whole: higher numbers, then no suffix before one, then later suffixes.
        newest = _Descending((numbers, not suffix, _natural(suffix, numbers_descending=False)))
        return (1, newest, name)
    return (2, _natural(name, numbers_descending=True), name)


def is_version(name):
    """Whether the tag reads as a version (``1.2.3``, ``v2.0-rc1``, ``20190101``)."""
    return _VERSION.fullmatch(name) is not None


def newest_first(tags):
    """Tag objects (anything with ``.name``) ordered by :func:`tag_sort_key`."""
    return sorted(tags, key=lambda tag: tag_sort_key(tag.name))
