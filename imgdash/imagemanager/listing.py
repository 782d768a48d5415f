"""The repository list as the index needs it: each repository's name, scope, tag names, size.

The list answer holds every tag's manifest (most of its bytes are layer digests), and the
index keeps five facts per repository. Decoding all of it into dicts and lists, then reading
those, costs most of a cold list page; so the answer is read with typed msgspec Structs that
hold only the fields the summary needs, one repository at a time (each repository's JSON is
first only delimited, not decoded, so the whole tree never exists at once), with the garbage
collector paused: the objects made here are freed by reference counting, and the collector's
passes over the growing heap would only cost time.

A repository whose JSON the Structs refuse (a field of an unexpected type, a negative size, a
tag without a name...) is read as before instead, by ``orjson`` and ``Repository.from_api``,
which never fail on an odd field; both ways give the same summary for the same JSON (the tests
compare them). A body the Structs cannot even delimit goes the old way as a whole, so its
errors are the ones it always had.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NamedTuple

import msgspec
import orjson

from .results import (
    _CONFIG_KINDS,
    _LIST_KINDS,
    _SIZED_KINDS,
    MEDIA_TYPE_KINDS,
    Repository,
    _size_state,
)

# Larger ones go the defensive way (orjson reads one past 64 bits as a float: size 0).
_NonNegative = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
_Named = Annotated[str, msgspec.Meta(min_length=1)]


class RepositorySummary(NamedTuple):
    """One repository of the list, as the index keeps it."""

    name: str
    scope: str
    tag_names: list[str]
    size: int  # compressed bytes of the distinct blobs of the tags that have sizes
    size_state: str  # SIZE_EXACT, SIZE_AT_LEAST or SIZE_UNKNOWN
    # What the registry facts of its tags are keyed by (digest_prefixes); b"" when none.
    digests: bytes = b""


# The first 8 bytes of a sha256 digest name it among a registry's digests (a clash is about
# as likely as 1 in 10^10 for 100,000 of them, and costs only a wrong date), for a quarter
# of the bytes of the whole digest: the index keeps one per tag for every repository.
PREFIX_BYTES = 8


def digest_prefix(digest: str) -> bytes | None:
    """`digest`'s first PREFIX_BYTES bytes, or None when it is not "sha256:<64 hex>"."""
    if len(digest) != 71 or not digest.startswith("sha256:"):
        return None
    try:
        return bytes.fromhex(digest[7 : 7 + 2 * PREFIX_BYTES])
    except ValueError:
        return None


def digest_prefixes(digests: list[str]) -> bytes:
    """The prefixes of the valid ones among `digests`, each once, concatenated."""
    found = dict.fromkeys(digest_prefix(digest) for digest in digests)
    found.pop(None, None)
    return b"".join(found)  # type: ignore[arg-type]


def summary_of(repository: Repository) -> RepositorySummary:
    """The summary of a repository parsed the defensive way."""
    size, size_state = repository.size_summary()
    digests = []
    for tag in repository.tags:
        manifest = tag.manifest
        if manifest.is_multi_platform:
            digests += [platform.digest for platform in manifest.platforms]
        elif manifest.kind in ("docker-v2", "oci") and manifest.config is not None:
            digests.append(manifest.config.digest)
    return RepositorySummary(
        repository.name,
        repository.scope,
        repository.tag_names,
        size,
        size_state,
        digest_prefixes(digests),
    )


# Every field below is one ``results`` reads; a null reads as the field's absence there too.
class _Blob(msgspec.Struct):
    digest: str | None = None
    size: _NonNegative | None = None
    mediaType: str | None = None  # the API's names


class _Entry(msgspec.Struct):
    """One entry of a manifest list: only its digest is read (results.Platform reads a
    non-string digest as "")."""

    digest: str | None = None


class _Manifest(msgspec.Struct):
    mediaType: str | None = None
    schemaVersion: int | None = None
    # Only whether the key is there counts (as in results._kind_of), so it is never decoded.
    fsLayers: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    manifests: list[_Entry] | None = None
    config: _Blob | None = None
    layers: list[_Blob] | None = None


class _Tag(msgspec.Struct):
    name: _Named
    manifest: _Manifest | None = None


class _Repository(msgspec.Struct):
    name: _Named
    scope: str | None = None
    tags: list[_Tag] | None = None


class _Answer(msgspec.Struct):
    repositories: list[msgspec.Raw] | None = None


_answer_decoder = msgspec.json.Decoder(_Answer)
_repository_decoder = msgspec.json.Decoder(_Repository)


def _kind(manifest: _Manifest) -> str:
    """results._kind_of, on a decoded manifest."""
    media_type = manifest.mediaType
    if media_type and media_type in MEDIA_TYPE_KINDS:
        return MEDIA_TYPE_KINDS[media_type]
    schema_version = manifest.schemaVersion
    if schema_version == 1 or manifest.fsLayers is not msgspec.UNSET:
        return "schema1"
    if schema_version != 2 or media_type:
        return "unknown"
    if manifest.manifests is not None:
        return "oci-index"
    if manifest.config is not None and manifest.layers is not None:
        return _CONFIG_KINDS.get(manifest.config.mediaType or "", "unknown")
    return "unknown"


def _typed_summary(repository: _Repository) -> RepositorySummary:
    """Repository.size_summary, on a decoded repository."""
    seen: set[str] = set()
    total = sized = 0
    tags = repository.tags or []
    digests: list[str] = []
    for tag in tags:
        manifest = tag.manifest
        kind = "unknown" if manifest is None else _kind(manifest)
        if manifest is not None and kind in _LIST_KINDS:
            digests += [entry.digest or "" for entry in manifest.manifests or ()]
        elif manifest is not None and kind in ("docker-v2", "oci") and manifest.config:
            digests.append(manifest.config.digest or "")
        if manifest is None or kind not in _SIZED_KINDS:
            continue
        blobs = [manifest.config] if manifest.config is not None else []
        if manifest.layers:
            blobs += manifest.layers
        if blobs:
            sized += 1
        for blob in blobs:
            digest = blob.digest
            if digest:
                if digest in seen:
                    continue
                seen.add(digest)
            total += blob.size or 0
    return RepositorySummary(
        repository.name,
        repository.scope or "",
        [tag.name for tag in tags],
        total,
        _size_state(len(tags), sized),
        digest_prefixes(digests),
    )


def summary_of_json(raw: bytes | memoryview | msgspec.Raw) -> RepositorySummary | None:
    """One repository's JSON as its summary; None when it has no usable name.

    Raises orjson.JSONDecodeError when the JSON is malformed after all.
    """
    try:
        return _typed_summary(_repository_decoder.decode(raw))
    except msgspec.DecodeError:  # ValidationError included
        repository = Repository.from_api(orjson.loads(bytes(raw)))
        return None if repository is None else summary_of(repository)


def repository_json(body: bytes | bytearray) -> list[msgspec.Raw] | None:
    """The list answer's repositories, each as its undecoded JSON; None when the answer is not
    an object whose "repositories" is a list or null (read it the old way: it fails there)."""
    try:
        return _answer_decoder.decode(body).repositories or []
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def summaries(
    items: list[msgspec.Raw], on_odd: Callable[[int], None] | None = None
) -> list[RepositorySummary]:
    """Summaries of `items` (from repository_json), without the nameless ones."""
    with collector_paused():
        found = [summary for summary in map(summary_of_json, items) if summary is not None]
    if on_odd is not None and len(found) != len(items):
        on_odd(len(items) - len(found))
    return found


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (it is process-wide: keep it short)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
