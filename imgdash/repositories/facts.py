"""The registry-facts store: what each tag's digests say, read for one repository answer.

Reads are authorised by construction: every lookup starts from a ``Repository`` that the
user's own token just returned (operation 4), and only the digests its tags refer to are
read. No function here takes a digest from a request.

What a tag refers to (the registry contract's "what to fetch for a tag"):

- a single-arch tag (Docker v2, OCI) names its config blob; its manifest is embedded;
- a manifest list or OCI index names one manifest per platform, each naming a config blob;
- a schema 1 manifest has no config blob: nothing to fetch.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings

from imgdash.imagemanager.imagefacts import HistoryStep, ImageConfig, MissingBlob, PlatformManifest
from imgdash.repositories.models import ConfigFacts, ManifestFacts, MissingFacts

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
CONFIG = "config"
MANIFEST = "manifest"


def is_digest(value):
    return bool(value) and _DIGEST.fullmatch(value) is not None


@dataclass
class PlatformFacts:
    """One entry of a manifest list: the list's own entry and what the registry says of it."""

    entry: object  # results.Platform
    manifest: PlatformManifest | None = None
    config: ImageConfig | None = None
    missing: bool = False

    @property
    def label(self):
        return self.entry.label

    @property
    def created(self):
        return self.config.created if self.config else None


@dataclass
class TagFacts:
    """Everything known about one tag beyond the Image Manager API's answer."""

    config: ImageConfig | None = None  # single-arch tags
    platforms: list[PlatformFacts] = field(default_factory=list)  # lists and indexes
    pending: bool = False  # a digest is neither stored nor known missing yet
    missing: bool = False  # the registry answered 404 for one of its digests

    @property
    def created(self):
        """The build date; for a list, its newest platform's."""
        if self.config is not None:
            return self.config.created
        dates = [p.created for p in self.platforms if p.created]
        return max(dates) if dates else None

    @property
    def sized_platforms(self):
        return [p for p in self.platforms if p.manifest is not None]

    @property
    def list_size(self):
        """Compressed bytes of the platforms whose manifests are known."""
        return sum(p.manifest.size for p in self.sized_platforms)

    @property
    def list_size_state(self):
        """ "exact" when every platform's size is known, "at least" for some, else "unknown"."""
        known = len(self.sized_platforms)
        if self.platforms and known == len(self.platforms):
            return "exact"
        return "at least" if known else "unknown"

    @property
    def shown_config(self):
        """The config whose history a row shows: the tag's own, or for a list its first
        platform's with a known config (linux/amd64 first, the most common)."""
        if self.config is not None:
            return self.config
        known = [p for p in self.platforms if p.config is not None]
        known.sort(key=lambda p: p.label != "linux/amd64")
        return known[0].config if known else None

    @property
    def shown_platform(self):
        """The platform `shown_config` is for, when the tag has several."""
        config = self.shown_config
        return config.platform if config is not None and self.platforms else ""

    @property
    def empty_steps(self):
        config = self.shown_config
        return sum(1 for step in config.history if step.empty_layer) if config else 0


@dataclass
class RepositoryFacts:
    """Facts per tag name, and what is still to be fetched from the registry."""

    by_tag: dict
    manifests_to_fetch: list
    configs_to_fetch: list

    @property
    def complete(self):
        return not self.manifests_to_fetch and not self.configs_to_fetch

    @property
    def any_date(self):
        return any(facts.created for facts in self.by_tag.values())


def gather(cluster, repository):
    """The stored facts for every tag of `repository` (a user's operation-4 answer)."""
    manifest_digests = {
        p.digest
        for tag in repository.tags
        if tag.manifest.is_multi_platform
        for p in tag.manifest.platforms
        if is_digest(p.digest)
    }
    manifests = _manifests(manifest_digests)
    config_digests = {
        tag.manifest.config.digest
        for tag in repository.tags
        if _single_arch_config(tag) is not None
    } | {m.config_digest for m in manifests.values() if is_digest(m.config_digest)}
    configs = _configs(config_digests)
    missing = _recently_missing(cluster, manifest_digests | config_digests)
    by_tag = {}
    to_fetch = {MANIFEST: set(), CONFIG: set()}

    def known(what, digest, found):
        if digest in found:
            return found[digest]
        if (what, digest) not in missing:
            to_fetch[what].add(digest)
        return None

    for tag in repository.tags:
        facts = TagFacts()
        digest = _single_arch_config(tag)
        if digest is not None:
            facts.config = known(CONFIG, digest, configs)
            facts.missing = (CONFIG, digest) in missing
            facts.pending = facts.config is None and not facts.missing
        for entry in tag.manifest.platforms if tag.manifest.is_multi_platform else ():
            platform = PlatformFacts(entry)
            if is_digest(entry.digest):
                platform.manifest = known(MANIFEST, entry.digest, manifests)
                platform.missing = (MANIFEST, entry.digest) in missing
                if platform.manifest is not None and is_digest(platform.manifest.config_digest):
                    config_digest = platform.manifest.config_digest
                    platform.config = known(CONFIG, config_digest, configs)
                    platform.missing = (CONFIG, config_digest) in missing
                    facts.pending |= platform.config is None and not platform.missing
                else:
                    facts.pending |= platform.manifest is None and not platform.missing
            facts.missing |= platform.missing
            facts.platforms.append(platform)
        by_tag[tag.name] = facts
    return RepositoryFacts(by_tag, sorted(to_fetch[MANIFEST]), sorted(to_fetch[CONFIG]))


def _single_arch_config(tag):
    manifest = tag.manifest
    if manifest.kind in ("docker-v2", "oci") and manifest.config is not None:
        return manifest.config.digest if is_digest(manifest.config.digest) else None
    return None


# --- Reading and writing rows ---------------------------------------------------------------


def _configs(digests):
    return {
        row.digest: config_from_row(row) for row in ConfigFacts.objects.filter(digest__in=digests)
    }


def _manifests(digests):
    return {
        row.digest: manifest_from_row(row)
        for row in ManifestFacts.objects.filter(digest__in=digests)
    }


def _recently_missing(cluster, digests):
    since = datetime.now(UTC) - timedelta(seconds=settings.REGISTRY_MISSING_RETRY)
    rows = MissingFacts.objects.filter(cluster=cluster, digest__in=digests, checked_at__gte=since)
    return {(what, digest) for what, digest in rows.values_list("what", "digest")}


def store_config(config):
    """Keep `config`'s shown facts; a digest already stored is left as it is (immutable)."""
    details = {
        "labels": dict(config.labels),
        "entrypoint": list(config.entrypoint),
        "cmd": list(config.cmd),
        "env_names": list(config.env_names),
        "exposed_ports": list(config.exposed_ports),
        "history": [
            {
                "created_by": step.created_by,
                "created": step.created.isoformat() if step.created else None,
                "empty_layer": step.empty_layer,
                "size": step.size,
                "comment": step.comment,
            }
            for step in config.history
        ],
    }
    ConfigFacts.objects.get_or_create(
        digest=config.digest,
        defaults={
            "created": config.created,
            "os": config.os[:50],
            "architecture": config.architecture[:50],
            "variant": config.variant[:50],
            "details": details,
        },
    )


def store_manifest(manifest):
    ManifestFacts.objects.get_or_create(
        digest=manifest.digest,
        defaults={
            "config_digest": manifest.config_digest,
            "size": manifest.size,
            "layer_sizes": list(manifest.layer_sizes),
            "os": manifest.os[:50],
            "architecture": manifest.architecture[:50],
            "variant": manifest.variant[:50],
        },
    )


def store_missing(cluster, blob: MissingBlob):
    MissingFacts.objects.update_or_create(
        cluster=cluster,
        what=blob.what,
        digest=blob.digest,
        defaults={"checked_at": datetime.now(UTC)},
    )


def config_from_row(row):
    details = row.details or {}
    return ImageConfig(
        digest=row.digest,
        created=row.created,
        os=row.os,
        architecture=row.architecture,
        variant=row.variant,
        labels=dict(details.get("labels") or {}),
        entrypoint=tuple(details.get("entrypoint") or ()),
        cmd=tuple(details.get("cmd") or ()),
        env_names=tuple(details.get("env_names") or ()),
        exposed_ports=tuple(details.get("exposed_ports") or ()),
        history=tuple(_step(step) for step in details.get("history") or ()),
    )


def _step(data):
    created = data.get("created")
    return HistoryStep(
        created_by=data.get("created_by") or "",
        created=datetime.fromisoformat(created) if created else None,
        empty_layer=bool(data.get("empty_layer")),
        size=data.get("size"),
        comment=data.get("comment") or "",
    )


def manifest_from_row(row):
    return PlatformManifest(
        digest=row.digest,
        config_digest=row.config_digest,
        size=row.size,
        layer_sizes=tuple(row.layer_sizes or ()),
        os=row.os,
        architecture=row.architecture,
        variant=row.variant,
    )


def config_is_stored(digest):
    """Whether a config digest is already stored (another page may have fetched it)."""
    return ConfigFacts.objects.filter(digest=digest).exists()
