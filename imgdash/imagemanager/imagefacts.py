"""What the registry v2 API tells about an image that the Image Manager API does not.

The Image Manager API embeds each tag's manifest but gives no dates, no platform of a
single-arch image and no sizes for manifest lists. The registry behind it has all of them:
a single-arch manifest names its config blob (created time, platform, labels, history), and a
manifest list or OCI index names one manifest per platform.

Everything here is keyed by a content digest, so it never changes: fetched once, it can be
kept for good and shared by every user allowed to see a repository that refers to it.

These are plain values: the registry client (``registry.py``) produces them, the dashboard
stores and renders them. Environment variable values are deliberately absent: only their
names are kept, since values often hold secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class HistoryStep:
    """One Dockerfile step from the image config's ``history``."""

    created_by: str
    created: datetime | None = None
    # An empty layer (ENV, LABEL, CMD, ...) adds no blob; ``size`` is then None.
    empty_layer: bool = False
    size: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class ImageConfig:
    """The facts of one image config blob, keyed by its digest."""

    digest: str
    created: datetime | None = None  # aware, UTC; None when the config has no valid date
    os: str = ""
    architecture: str = ""
    variant: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env_names: tuple[str, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    history: tuple[HistoryStep, ...] = ()

    @property
    def platform(self) -> str:
        """``linux/arm64/v8`` style, or "" when the config names no platform."""
        parts = [self.os, self.architecture, self.variant]
        return "/".join(p for p in parts if p) if self.os or self.architecture else ""


@dataclass(frozen=True)
class PlatformManifest:
    """One single-arch manifest: its config, its compressed size and where it runs.

    For a tag that is itself single-arch, the Image Manager API already embeds this
    manifest; for a manifest list or OCI index, each entry is fetched from the registry.
    """

    digest: str  # the manifest's own digest ("" when only the embedded copy is known)
    config_digest: str
    size: int  # config.size + every layers[].size
    layer_sizes: tuple[int, ...] = ()
    os: str = ""
    architecture: str = ""
    variant: str = ""

    @property
    def platform(self) -> str:
        parts = [self.os, self.architecture, self.variant]
        return "/".join(p for p in parts if p) if self.os or self.architecture else ""


@dataclass(frozen=True)
class MissingBlob:
    """A digest the registry answered 404 for: removed by garbage collection, or never pushed."""

    digest: str
    what: str  # "manifest" or "config"
