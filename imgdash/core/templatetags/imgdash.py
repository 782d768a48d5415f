"""Small display helpers shared by every page."""

import shlex
from datetime import UTC, datetime

from django import template
from django.utils.html import format_html

from imgdash.imagemanager import SIZE_AT_LEAST, SIZE_EXACT, SIZE_UNKNOWN, visible_text

register = template.Library()

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


@register.filter
def visible(value):
    """Bidi, zero-width and control characters as escapes (\\u202e), as the action log shows
    them: a name that reorders or hides its text cannot pass for another."""
    if value is None:
        return ""
    return visible_text(str(value))


@register.filter
def bytes_human(value):
    """1536 -> '1.5 KB' (powers of 1024; registries report compressed sizes)."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return "–"
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "–"


# Why a size is missing, for the title of a size that is unknown or only a lower bound.
NO_SIZE_REASON = (
    "multi-arch (manifest list, OCI index) and schema 1 tags have no size in the Image Manager API"
)
SIZE_REASONS = {
    SIZE_UNKNOWN: f"No tag has a size: {NO_SIZE_REASON}.",
    SIZE_AT_LEAST: f"Counts only the tags that have a size: {NO_SIZE_REASON}.",
}


@register.filter
def size_human(value, state=SIZE_EXACT):
    """A size with what is known of it: '1.5 KB', 'at least 1.5 KB' or 'unknown'.

    `state` is a size_state (SIZE_EXACT, SIZE_AT_LEAST, SIZE_UNKNOWN): multi-arch and
    schema 1 images have no size in the API, so a repository's size can be either of the
    other two, and an unknown size is never shown as 0 B.
    """
    if state == SIZE_UNKNOWN:
        return "unknown"
    text = bytes_human(value)
    return f"at least {text}" if state == SIZE_AT_LEAST else text


@register.simple_tag
def size_figure(value, state=SIZE_EXACT, unsized=0):
    """size_human as HTML for a table cell. A size that is not exact says why in its title;
    for a total, `unsized` is how many of its repositories lack some or all sizes. The figure
    itself never wraps."""
    if state == SIZE_EXACT:
        return format_html('<span class="nowrap">{}</span>', bytes_human(value))
    reason = SIZE_REASONS.get(state, "")
    if unsized:
        reason = (
            f"{unsized} of these repositories {'has' if unsized == 1 else 'have'} tags of "
            f"unknown size: {NO_SIZE_REASON}."
        )
    if state == SIZE_AT_LEAST:
        return format_html(
            '<span class="size-at-least" title="{}">at least <span class="nowrap">{}</span></span>',
            reason,
            bytes_human(value),
        )
    return format_html('<span class="size-unknown" title="{}">unknown</span>', reason)


def _duration(seconds):
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds % 60} s"


@register.filter
def expires_in(when):
    """'expires in 3 h 12 min' / 'expired 5 min ago' / 'no expiry known'."""
    if not when:
        return "no expiry known"
    delta = (when - datetime.now(UTC)).total_seconds()
    if delta <= 0:
        return f"expired {_duration(delta)} ago"
    return f"expires in {_duration(delta)}"


@register.filter
def ago(when):
    """'40 s ago' for a datetime or a UNIX timestamp."""
    if when is None or when == "":
        return ""
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when, UTC)
    delta = (datetime.now(UTC) - when).total_seconds()
    return "just now" if delta < 1 else f"{_duration(delta)} ago"


@register.filter
def utc(when):
    """An exact, unambiguous time: 2026-11-27 09:15:02 UTC."""
    if not when:
        return ""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def timestamp_utc(value):
    """A UNIX timestamp as an exact UTC time."""
    try:
        return utc(datetime.fromtimestamp(float(value), UTC))
    except (TypeError, ValueError, OverflowError):
        return ""


@register.filter
def short_digest(digest):
    """sha256:053cde...ab12 -> sha256:053cde1f2a3b (the full digest goes in a title)."""
    if not digest:
        return ""
    algorithm, sep, hexpart = str(digest).partition(":")
    return f"{algorithm}:{hexpart[:12]}" if sep else str(digest)[:19]


@register.filter
def multiply(value, factor):
    try:
        return int(value) * int(factor)
    except (TypeError, ValueError):
        return 0


@register.filter
def milliseconds(seconds):
    try:
        return f"{float(seconds) * 1000:.0f}"
    except (TypeError, ValueError):
        return "–"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.simple_tag
def shell_command(*words):
    """A command to copy: each word shell-quoted, so a shell reads every value literally.

    {% shell_command "docker" "login" "-u" username "--password-stdin" registry %}
    """
    return " ".join(shlex.quote(str(word)) for word in words)


@register.simple_tag
def image_reference(registry, name, tag=""):
    """registry/name:tag, one word for shell_command (the tag checked by the caller)."""
    return f"{registry}/{name}:{tag}" if tag else f"{registry}/{name}"


@register.filter
def duration(seconds):
    """1800 -> '30 min', 7260 -> '2 h 1 min': a lifetime in seconds, as people say it."""
    try:
        return _duration(float(seconds))
    except (TypeError, ValueError):
        return "–"
