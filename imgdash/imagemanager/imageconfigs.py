"""Reading a registry's image config and per-platform manifest JSON into typed facts.

A config blob is whatever its builder wrote: fields may be missing, null, of the wrong type
or absurdly long. Each field is read on its own, and one that does not fit becomes an
empty value instead of failing the whole config; only a body that is not a JSON object
is refused. Environment variables keep their names only: their values may hold secrets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import orjson

from .imagefacts import HistoryStep, ImageConfig, PlatformManifest

# Caps on what is kept of one config: a page shows it, and a database row stores it.
MAX_TEXT = 4096
MAX_ITEMS = 500
MAX_HISTORY = 1000

_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
)
_ENV_NAME_RE = re.compile(r"[^=\x00]{1,256}")


def parse_rfc3339(value: object) -> datetime | None:
    """An RFC 3339 time (nanoseconds and offsets allowed) as an aware UTC datetime, or None.

    Go writes nanoseconds (``2024-05-01T12:00:00.123456789Z``); Python keeps microseconds.
    A time without an offset, or out of range, is None rather than a guess.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _RFC3339_RE.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        if zulu:
            zone = UTC
        else:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = timezone(-offset if sign == "-" else offset)
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),
            micro,
            tzinfo=zone,
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _text(value: object) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _texts(value: object) -> tuple[str, ...]:
    """A list of strings (or one string, as a shell-form CMD) as a tuple; anything else ()."""
    if isinstance(value, str):
        return (value[:MAX_TEXT],)
    if not isinstance(value, list):
        return ()
    return tuple(item[:MAX_TEXT] for item in value[:MAX_ITEMS] if isinstance(item, str))


def _env_names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names: dict[str, None] = {}
    for item in value[:MAX_ITEMS]:
        if isinstance(item, str):
            name = item.split("=", 1)[0]
            if _ENV_NAME_RE.fullmatch(name):
                names[name] = None
    return tuple(names)


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    labels: dict[str, str] = {}
    for key, item in list(value.items())[:MAX_ITEMS]:
        if isinstance(key, str) and isinstance(item, str):
            labels[key[:MAX_TEXT]] = item[:MAX_TEXT]
    return labels


def _ports(value: object) -> tuple[str, ...]:
    if isinstance(value, dict):
        return tuple(key[:64] for key in list(value)[:MAX_ITEMS] if isinstance(key, str))
    return ()


def _history(value: object, layer_sizes: Sequence[int] | None) -> tuple[HistoryStep, ...]:
    """The steps; the n-th non-empty one gets the n-th layer's size when sizes are given."""
    if not isinstance(value, list):
        return ()
    sizes = list(layer_sizes) if layer_sizes is not None else None
    steps = []
    layer = 0
    for item in value[:MAX_HISTORY]:
        if not isinstance(item, dict):
            continue
        empty = item.get("empty_layer") is True
        size = None
        if not empty:
            if sizes is not None and layer < len(sizes) and _is_size(sizes[layer]):
                size = sizes[layer]
            layer += 1
        steps.append(
            HistoryStep(
                created_by=_text(item.get("created_by")),
                created=parse_rfc3339(item.get("created")),
                empty_layer=empty,
                size=size,
                comment=_text(item.get("comment")),
            )
        )
    return tuple(steps)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def image_config(
    digest: str, document: object, layer_sizes: Sequence[int] | None = None
) -> ImageConfig | None:
    """The facts of a parsed config JSON document, or None when it is not a JSON object."""
    if not isinstance(document, dict):
        return None
    # Docker writes "config"; some old builders wrote "container_config" only.
    run = document.get("config")
    if not isinstance(run, dict):
        run = document.get("container_config")
    if not isinstance(run, dict):
        run = {}
    return ImageConfig(
        digest=digest,
        created=parse_rfc3339(document.get("created")),
        os=_text(document.get("os"))[:64],
        architecture=_text(document.get("architecture"))[:64],
        variant=_text(document.get("variant"))[:64],
        labels=_labels(run.get("Labels")),
        entrypoint=_texts(run.get("Entrypoint")),
        cmd=_texts(run.get("Cmd")),
        env_names=_env_names(run.get("Env")),
        exposed_ports=_ports(run.get("ExposedPorts")),
        history=_history(document.get("history"), layer_sizes),
    )


def image_config_from_body(
    digest: str, body: bytes | bytearray, layer_sizes: Sequence[int] | None = None
) -> ImageConfig | None:
    """:func:`image_config` of a config blob's bytes; None when they are not a JSON object."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return image_config(digest, document, layer_sizes)


def platform_manifest(digest: str, document: object) -> PlatformManifest | None:
    """A single-arch manifest's facts (config digest, sizes), None when it is not one.

    The platform is not in a manifest: the caller takes it from the list's entry, or from
    the config.
    """
    if not isinstance(document, dict):
        return None
    config = document.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
        return None
    layers = document.get("layers")
    sizes = tuple(
        layer["size"]
        for layer in (layers if isinstance(layers, list) else [])
        if isinstance(layer, dict) and _is_size(layer.get("size"))
    )
    config_size = config.get("size") if _is_size(config.get("size")) else 0
    return PlatformManifest(
        digest=digest,
        config_digest=config["digest"][:100],
        size=config_size + sum(sizes),
        layer_sizes=sizes,
    )
