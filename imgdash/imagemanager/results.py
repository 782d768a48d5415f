"""Typed results of the Image Manager API: repositories, tags, manifests, tokens, the banner.

Parsing is defensive: unknown fields are ignored, missing or odd fields become empty
values, and a malformed manifest yields a ``Manifest`` of kind ``"unknown"`` rather than an
exception, so one bad entry never breaks a list of thousands.

Sizes are compressed sizes as the registry stores them (``config.size`` plus every
``layers[].size``); the API gives no other size. Manifest lists, OCI indexes and schema 1
manifests carry no image sizes (a list names per-platform manifests that the API does not
embed; schema 1 has no sizes at all), so their ``size`` is 0 and ``size_known`` is False.
A repository's size is therefore exact, a lower bound or unknown (``Repository.size_state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .names import is_valid_tag, namespace_of, short_name_of

MEDIA_TYPE_KINDS = {
    "application/vnd.docker.distribution.manifest.v2+json": "docker-v2",
    "application/vnd.oci.image.manifest.v1+json": "oci",
    "application/vnd.docker.distribution.manifest.list.v2+json": "manifest-list",
    "application/vnd.oci.image.index.v1+json": "oci-index",
    "application/vnd.docker.distribution.manifest.v1+json": "schema1",
    "application/vnd.docker.distribution.manifest.v1+prettyjws": "schema1",
}

KIND_LABELS = {
    "docker-v2": "Docker v2",
    "oci": "OCI",
    "manifest-list": "manifest list",
    "oci-index": "OCI index",
    "schema1": "schema 1",
    "unknown": "unknown",
}

# How much of a repository's size the API tells: every tag's size (or it has no tags, and
# stores nothing), only some tags' (``size`` is a lower bound), or no tag's.
SIZE_EXACT = "exact"
SIZE_AT_LEAST = "at least"
SIZE_UNKNOWN = "unknown"

_LIST_KINDS = frozenset({"manifest-list", "oci-index"})
_SIZED_KINDS = frozenset({"docker-v2", "oci", "unknown"})
_CONFIG_KINDS = {
    "application/vnd.oci.image.config.v1+json": "oci",
    "application/vnd.docker.container.image.v1+json": "docker-v2",
}


def _int(value: object) -> int:
    # type() rather than isinstance(): True is an int, and a size of True is nonsense.
    return value if type(value) is int and value >= 0 else 0


def _str(value: object) -> str:
    return value if type(value) is str else ""


@dataclass(slots=True, frozen=True)
class Layer:
    """A blob the manifest points at: the image config or one compressed layer."""

    digest: str
    size: int
    media_type: str = ""

    @classmethod
    def from_api(cls, data: object) -> Layer | None:
        if type(data) is not dict:
            return None
        return cls(_str(data.get("digest")), _int(data.get("size")), _str(data.get("mediaType")))


@dataclass(slots=True, frozen=True)
class Platform:
    """One entry of a manifest list or OCI index."""

    os: str
    architecture: str
    variant: str = ""
    digest: str = ""
    size: int = 0
    media_type: str = ""

    @property
    def label(self) -> str:
        """``linux/arm64/v8`` style, as docker prints it."""
        parts = [self.os or "?", self.architecture or "?"]
        if self.variant:
            parts.append(self.variant)
        return "/".join(parts)

    @classmethod
    def from_api(cls, data: object) -> Platform | None:
        if type(data) is not dict:
            return None
        platform = data.get("platform")
        if type(platform) is not dict:
            platform = {}
        return cls(
            _str(platform.get("os")),
            _str(platform.get("architecture")),
            _str(platform.get("variant")),
            _str(data.get("digest")),
            _int(data.get("size")),
            _str(data.get("mediaType")),
        )


@dataclass(slots=True)
class Manifest:
    """A registry manifest as the API embeds it in each tag.

    ``kind`` is one of ``docker-v2``, ``oci``, ``manifest-list``, ``oci-index``,
    ``schema1`` or ``unknown``. For schema 1, ``layers`` come from ``fsLayers`` (digest
    only, size 0).
    """

    media_type: str = ""
    schema_version: int | None = None
    kind: str = "unknown"
    config: Layer | None = None
    layers: list[Layer] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "unknown")

    @property
    def is_multi_platform(self) -> bool:
        return self.kind in _LIST_KINDS

    @property
    def size_known(self) -> bool:
        """False for lists, indexes, schema 1 and empty manifests: no sizes to add up."""
        return self.kind in _SIZED_KINDS and (self.config is not None or bool(self.layers))

    @property
    def size(self) -> int:
        """Compressed size: config plus layers (0 when ``size_known`` is False)."""
        if not self.size_known:
            return 0
        total = self.config.size if self.config is not None else 0
        for layer in self.layers:
            total += layer.size
        return total

    @property
    def layer_count(self) -> int:
        return len(self.layers)

    def blobs(self) -> list[Layer]:
        """Config and layers, the blobs that take space in the registry."""
        return ([self.config] if self.config is not None else []) + self.layers

    @classmethod
    def from_api(cls, data: object) -> Manifest:
        if type(data) is not dict:
            return cls()
        media_type = _str(data.get("mediaType"))
        schema_version = data.get("schemaVersion")
        if type(schema_version) is not int:
            schema_version = None
        kind = _kind_of(data)

        if kind == "schema1":
            fs_layers = data.get("fsLayers")
            layers = (
                [
                    Layer(_str(item.get("blobSum")), 0, "")
                    for item in fs_layers
                    if type(item) is dict
                ]
                if type(fs_layers) is list
                else []
            )
            return cls(media_type, schema_version, kind, None, layers, [])

        if kind in _LIST_KINDS:
            entries = data.get("manifests")
            platforms = (
                [p for p in map(Platform.from_api, entries) if p is not None]
                if type(entries) is list
                else []
            )
            return cls(media_type, schema_version, kind, None, [], platforms)

        raw_layers = data.get("layers")
        layers = (
            [
                Layer(_str(item.get("digest")), _int(item.get("size")), _str(item.get("mediaType")))
                for item in raw_layers
                if type(item) is dict
            ]
            if type(raw_layers) is list
            else []
        )
        return cls(media_type, schema_version, kind, Layer.from_api(data.get("config")), layers, [])


def _kind_of(data: dict[str, Any]) -> str:
    """The manifest's kind from its mediaType, or guessed from its shape without one."""
    media_type = data.get("mediaType")
    if type(media_type) is str and media_type in MEDIA_TYPE_KINDS:
        return MEDIA_TYPE_KINDS[media_type]
    schema_version = data.get("schemaVersion")
    if type(schema_version) is not int:
        schema_version = None
    if schema_version == 1 or "fsLayers" in data:
        return "schema1"
    if schema_version != 2 or media_type:
        return "unknown"
    # schemaVersion 2 without a mediaType: OCI allows that, Docker v2 (strictly) does not.
    if type(data.get("manifests")) is list:
        return "oci-index"
    config = data.get("config")
    if type(config) is dict and type(data.get("layers")) is list:
        return _CONFIG_KINDS.get(_str(config.get("mediaType")), "unknown")
    return "unknown"


@dataclass(slots=True)
class Tag:
    """A tag and the manifest it points at (the API gives no digest or date per tag)."""

    name: str
    manifest: Manifest = field(default_factory=Manifest)

    @property
    def size(self) -> int:
        return self.manifest.size

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @property
    def valid(self) -> bool:
        """Whether the name is a Docker tag (only such a tag goes into a pull command)."""
        return is_valid_tag(self.name)

    @classmethod
    def from_api(cls, data: object) -> Tag | None:
        if type(data) is not dict:
            return None
        name = data.get("name")
        if type(name) is not str or not name:
            return None
        return cls(name, Manifest.from_api(data.get("manifest")))


def _parse_tags(raw: object) -> list[Tag]:
    if type(raw) is not list:
        return []
    return [tag for tag in map(Tag.from_api, raw) if tag is not None]


def _is_raw_tag(item: object) -> bool:
    return type(item) is dict and type(item.get("name")) is str and bool(item["name"])


def _raw_blobs(manifest: object) -> list[dict[str, Any]]:
    """The config and layer objects of a raw manifest that ``Manifest.size`` would count."""
    if type(manifest) is not dict or _kind_of(manifest) not in _SIZED_KINDS:
        return []
    blobs = []
    config = manifest.get("config")
    if type(config) is dict:
        blobs.append(config)
    layers = manifest.get("layers")
    if type(layers) is list:
        blobs.extend(item for item in layers if type(item) is dict)
    return blobs


class SizeSummary(NamedTuple):
    size: int  # compressed bytes of the tags that have sizes
    state: str  # SIZE_EXACT, SIZE_AT_LEAST or SIZE_UNKNOWN


def _size_state(tags: int, sized: int) -> str:
    if sized == tags:
        return SIZE_EXACT
    return SIZE_AT_LEAST if sized else SIZE_UNKNOWN


@dataclass(slots=True)
class Repository:
    """One image repository: ``<namespace>/<image>``, its owner, scope and tags.

    ``size`` adds up the compressed blobs of every tag, counting a blob shared by several
    tags (same digest) once, which is closer to what the registry stores on disk than a
    per-tag sum. Each tag's own size is ``Tag.size``.

    Built by :meth:`from_api`, a repository keeps its tags as parsed JSON until ``tags`` is
    first read, and answers ``tag_count``, ``tag_names``, ``size`` and ``size_known`` from
    that JSON directly: listing 10,000 repositories then costs 10,000 small objects, not
    hundreds of thousands of layers.
    """

    name: str
    owner: str = ""
    scope: str = ""
    tags: list[Tag] = field(default_factory=list)
    _raw_tags: list[Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __getattr__(self, attr: str) -> list[Tag]:
        # Only reached when a slot is empty, i.e. the `tags` of a from_api() repository
        # that nobody has read yet: parse them now, once.
        if attr != "tags":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        raw = self._raw_tags
        if raw is None:  # another thread parsed them in the meantime
            parsed: list[Tag] = object.__getattribute__(self, "tags")
            return parsed
        tags = _parse_tags(raw)
        self.tags = tags  # set before clearing the raw JSON: readers rely on that order
        self._raw_tags = None
        return tags

    @property
    def namespace(self) -> str:
        return namespace_of(self.name)

    @property
    def short_name(self) -> str:
        return short_name_of(self.name)

    @property
    def is_global(self) -> bool:
        return self.scope == "global"

    @property
    def tag_count(self) -> int:
        raw = self._raw_tags
        if raw is None:
            return len(self.tags)
        return sum(1 for item in raw if _is_raw_tag(item))

    @property
    def tag_names(self) -> list[str]:
        raw = self._raw_tags
        if raw is None:
            return [tag.name for tag in self.tags]
        return [item["name"] for item in raw if _is_raw_tag(item)]

    @property
    def size(self) -> int:
        """Compressed size of the distinct blobs of all tags (shared blobs counted once)."""
        return self.size_summary().size

    @property
    def size_state(self) -> str:
        """SIZE_EXACT, SIZE_AT_LEAST (``size`` counts only some tags) or SIZE_UNKNOWN."""
        return self.size_summary().state

    def size_summary(self) -> SizeSummary:
        """``size`` and ``size_state`` in one pass over the tags (the index needs both)."""
        seen: set[str] = set()
        total = tags = sized = 0
        raw = self._raw_tags
        if raw is not None:
            for item in raw:
                if _is_raw_tag(item):
                    tags += 1
                    raw_blobs = _raw_blobs(item.get("manifest"))
                    if raw_blobs:
                        sized += 1
                    for raw_blob in raw_blobs:
                        digest = _str(raw_blob.get("digest"))
                        if digest:
                            if digest in seen:
                                continue
                            seen.add(digest)
                        total += _int(raw_blob.get("size"))
            return SizeSummary(total, _size_state(tags, sized))
        for tag in self.tags:
            tags += 1
            if tag.manifest.size_known:
                sized += 1
                for blob in tag.manifest.blobs():
                    if blob.digest:
                        if blob.digest in seen:
                            continue
                        seen.add(blob.digest)
                    total += blob.size
        return SizeSummary(total, _size_state(tags, sized))

    @property
    def size_known(self) -> bool:
        """True when at least one tag has a known size (``size`` counts only those)."""
        raw = self._raw_tags
        if raw is None:
            return any(tag.manifest.size_known for tag in self.tags)
        return any(_raw_blobs(item.get("manifest")) for item in raw if _is_raw_tag(item))

    @classmethod
    def from_api(cls, data: object) -> Repository | None:
        """Build from one API object (tags parsed lazily); None when it has no usable name."""
        if type(data) is not dict:
            return None
        name = data.get("name")
        if type(name) is not str or not name:
            return None
        owner = data.get("owner")
        scope = data.get("scope")
        repo = cls.__new__(cls)
        repo.name = name
        repo.owner = owner if type(owner) is str and owner else namespace_of(name)
        repo.scope = scope if type(scope) is str else ""
        raw_tags = data.get("tags")
        if type(raw_tags) is list and raw_tags:
            repo._raw_tags = raw_tags  # `tags` stays unset until read: see __getattr__
        else:
            repo._raw_tags = None
            repo.tags = []
        return repo


@dataclass(slots=True)
class ApiBanner:
    """Operation 1: the banner text, the endpoints it lists and the round-trip time."""

    text: str
    endpoints: list[tuple[str, str]]
    elapsed: float


@dataclass(slots=True)
class DockerToken:
    """Operation 2: a registry token for ``docker login``; its value never shows in repr."""

    token: str = field(repr=False)
    expires_in: int
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)


@dataclass(slots=True)
class IdentityToken:
    """An ID token from the identity provider; its value never shows in repr."""

    id_token: str = field(repr=False)
    expires_in: int | None
    expires_at: datetime | None
    subject: str = ""
