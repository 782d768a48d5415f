"""What the emulator's registry knows of its seeded repositories, worked out from the emulator
itself (images.py), never read back through imgdash: each repository's newest build date."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from imgdash.emulator import images


@pytest.fixture(scope="module")
def emulator_server():
    """An emulator of its own whose created dates end today (00:00 UTC), so "built in the last
    30 days" matches some repositories; the session's emulator ends on a fixed day."""
    from imgdash.emulator.server import EmulatorServer

    server = EmulatorServer(
        repos=60, seed=7, control=True, registry_port=0, anchor=images.default_anchor()
    )
    server.start()
    yield server
    server.stop()


def _created(config):
    """A config blob's created time, to the microsecond (it is written to the nanosecond)."""
    text = orjson.loads(config)["created"]
    seconds, _, fraction = text.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(seconds).replace(tzinfo=UTC)
    return moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))


def _tag_dates(name, tag, anchor):
    """The created dates the registry serves for one tag (one per platform that is whole)."""
    manifest = tag.get("manifest") or {}
    config = (manifest.get("config") or {}).get("digest")
    if config:
        if images.is_missing_config(config):
            return []
        layers = [layer["digest"] for layer in manifest.get("layers") or []]
        platform = images.single_arch_platform(name)
        blob = images.config_bytes(name, tag["name"], platform, layers, anchor)
        assert images.digest_of(blob) == config
        return [_created(blob)]
    dates = []
    for entry in manifest.get("manifests") or []:
        if images.is_missing_manifest(entry["digest"]):
            continue
        _, blob = images.platform_manifest_bytes(
            name, tag["name"], entry.get("platform") or {}, entry["mediaType"], anchor
        )
        if not images.is_missing_config(images.digest_of(blob)):
            dates.append(_created(blob))
    return dates


def last_built(emulator):
    """{repository name: its newest tag's created date} for the repositories that have one."""
    found = {}
    for repository in emulator.repositories.all():
        name = repository["name"]
        dates = [
            d for t in repository.get("tags") or [] for d in _tag_dates(name, t, emulator.anchor)
        ]
        if dates:
            found[name] = max(dates)
    return found


def older_than(dates, days):
    """The names not built for more than `days` days (built:>Nd, cleanup's rule)."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    return sorted(name for name, when in dates.items() if when < cutoff)


def newer_than(dates, days):
    """The names built within the last `days` days (built:<Nd)."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    return sorted(name for name, when in dates.items() if when >= cutoff)
