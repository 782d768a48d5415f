"""A stand-in for ``imgdash.imagemanager.registry`` with the contract's names and behaviour:
typed values from imagefacts, the documented errors, and a record of every call."""

import hashlib
import threading
import time
import types
from datetime import UTC, datetime, timedelta

from imgdash.imagemanager.errors import NotFound, Unavailable
from imgdash.imagemanager.imagefacts import HistoryStep, ImageConfig, PlatformManifest


def digest(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class FakeRegistry:
    """Answers for digests set up by a test; every call is recorded in `calls`."""

    def __init__(self):
        self.configs = {}
        self.manifests = {}
        self.missing = set()
        self.error = None  # raised by every call when set
        self.delay = 0.0
        self.calls = []
        self.tokens = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def add_config(self, config_digest, created, platform=("linux", "amd64", ""), **extra):
        os_, arch, variant = platform
        self.configs[config_digest] = ImageConfig(
            digest=config_digest,
            created=created,
            os=os_,
            architecture=arch,
            variant=variant,
            labels=extra.get(
                "labels", {"org.opencontainers.image.source": "https://git.example/app"}
            ),
            entrypoint=("/entrypoint.sh",),
            cmd=("serve", "--port", "8080"),
            env_names=("PATH", "DB_PASSWORD"),
            exposed_ports=("8080/tcp",),
            history=(
                HistoryStep("/bin/sh -c #(nop) ADD file:abc in /", size=3_000_000),
                HistoryStep("/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2", empty_layer=True),
                HistoryStep("/bin/sh -c apk add --no-cache curl", size=1_500_000),
                HistoryStep('/bin/sh -c #(nop)  CMD ["serve"]', empty_layer=True),
            ),
        )

    def add_manifest(self, manifest_digest, config_digest, size, platform):
        os_, arch, variant = platform
        self.manifests[manifest_digest] = PlatformManifest(
            manifest_digest, config_digest, size, (size - 1000, 1000), os_, arch, variant
        )

    def module(self):
        """The module the factory imports, bound to this fake."""
        fake = self

        class RegistryClient:
            def __init__(self, registry_url, token=None, **options):
                fake.tokens.append(token)
                self.options = options

            def _call(self, what, digest, found):
                with fake._lock:
                    fake.calls.append((what, digest))
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    if fake.delay:
                        time.sleep(fake.delay)
                    if fake.error is not None:
                        raise fake.error
                    if digest in fake.missing or digest not in found:
                        raise NotFound(f"{digest} is not in the registry", status=404)
                    return found[digest]
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def image_config(self, name, digest):
                return self._call("config", digest, fake.configs)

            def platform_manifest(self, name, digest):
                return self._call("manifest", digest, fake.manifests)

            def close(self):
                pass

        return types.SimpleNamespace(
            RegistryClient=RegistryClient,
            registry_url=lambda api_url, host: f"https://{host}",
            pull_scope=lambda name: f"repository:{name}:pull",
        )


def days_ago(days):
    return datetime.now(UTC) - timedelta(days=days)


def unavailable(message="The registry could not be reached.", status=None):
    return Unavailable(message, status=status)


# --- One repository of each kind, and the registry that knows its digests -----------------

NAME = "team-a/facts"
C_OLD, C_NEW, C_AMD, C_ARM = (digest(f"config {n}") for n in ("old", "new", "amd", "arm"))
M_AMD, M_ARM = digest("manifest amd64"), digest("manifest arm64")
V2 = "application/vnd.docker.distribution.manifest.v2+json"
LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def single(config_digest, size=1000):
    return {
        "schemaVersion": 2,
        "mediaType": V2,
        "config": {"digest": config_digest, "size": 100, "mediaType": "x"},
        "layers": [{"digest": digest(config_digest + "layer"), "size": size}],
    }


def manifest_list(*entries):
    return {
        "schemaVersion": 2,
        "mediaType": LIST,
        "manifests": [
            {
                "digest": d,
                "size": 500,
                "mediaType": V2,
                "platform": {"os": "linux", "architecture": a},
            }
            for d, a in entries
        ],
    }


def put_repository(emulator, name=NAME, owner="team-a", tags=None):
    tags = tags or [
        # Version order would be 2.0, 1.0, "multi"; by date "1.0" (3 days) is the newest.
        {"name": "1.0", "manifest": single(C_NEW)},
        {"name": "2.0", "manifest": single(C_OLD)},
        {"name": "multi", "manifest": manifest_list((M_AMD, "amd64"), (M_ARM, "arm64"))},
    ]
    emulator.repositories.put({"name": name, "owner": owner, "scope": "namespace", "tags": tags})


FRESH, STALE, MULTI, UNREAD = "team-a/fresh", "team-a/stale", "team-b/multi", "team-b/unread"


def put_four(emulator):
    """Four repositories: one built 3 days ago, one 400 days ago, a manifest list whose
    newest platform is 10 days old, and one whose facts the standard registry does not have."""
    put_repository(emulator, FRESH, tags=[{"name": "1", "manifest": single(C_NEW)}])
    put_repository(emulator, STALE, tags=[{"name": "1", "manifest": single(C_OLD)}])
    put_repository(
        emulator,
        MULTI,
        owner="team-b",
        tags=[{"name": "1", "manifest": manifest_list((M_AMD, "amd64"))}],
    )
    put_repository(
        emulator, UNREAD, owner="team-b", tags=[{"name": "1", "manifest": single(digest("x"))}]
    )


def standard_registry():
    """A FakeRegistry holding every digest of put_repository()'s default tags."""
    fake = FakeRegistry()
    fake.add_config(C_NEW, days_ago(3))
    fake.add_config(C_OLD, days_ago(400), platform=("linux", "arm64", "v8"))
    fake.add_config(C_AMD, days_ago(10))
    fake.add_config(C_ARM, days_ago(11), platform=("linux", "arm64", ""))
    fake.add_manifest(M_AMD, C_AMD, 7_000_000, ("linux", "amd64", ""))
    fake.add_manifest(M_ARM, C_ARM, 6_000_000, ("linux", "arm64", ""))
    return fake
