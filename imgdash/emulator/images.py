"""The registry's side of the seeded images: config blobs and per-platform manifests.

Every byte the registry serves is a pure function of what the Image Manager API already
holds (repository name, tag name, layers, platform) and the seed's anchor date, so nothing
is kept in memory: the seed computes each digest once, to embed it in the API's manifests,
and the registry rebuilds the bytes when asked and finds them by that digest.

No random generator is used here, only hashes of the inputs, so a blob does not depend on
which repositories were seeded before it (a smaller seed stays a prefix of a larger one) and
survives a restart from a state file.
"""

import functools
import hashlib
from datetime import UTC, datetime, timedelta

import orjson

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

TWO_YEARS = 730 * 86400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Per mille of per-platform manifests and of config blobs the registry answers 404 for, as
# after a partial garbage collection; and of manifest-list entries that name no platform.
MISSING_MANIFESTS = 40
MISSING_CONFIGS = 25
NO_PLATFORM = 50

ENTRYPOINTS = [
    ([], ["/bin/sh"]),
    (["/usr/local/bin/docker-entrypoint.sh"], ["serve"]),
    (["/app/server"], ["--port", "8080"]),
    (["java", "-jar", "/app/app.jar"], []),
    (["python", "-m", "app"], []),
    (["/sbin/tini", "--"], ["node", "index.js"]),
    ([], ["nginx", "-g", "daemon off;"]),
]
ENV_NAMES = [
    "LANG",
    "APP_HOME",
    "JAVA_HOME",
    "NODE_ENV",
    "PYTHONUNBUFFERED",
    "TZ",
    "LOG_LEVEL",
    "DATABASE_PASSWORD",
    "API_TOKEN",
    "HTTP_PROXY",
]
PORTS = ["8080/tcp", "8443/tcp", "9090/tcp", "5432/tcp", "53/udp", "80/tcp", "443/tcp"]
VENDORS = ["IBM", "Team A", "Team B", "Platform team", "Example Corp"]
SUFFIX_ARCH = {
    "-ppc64le": {"architecture": "ppc64le", "os": "linux"},
    "-s390x": {"architecture": "s390x", "os": "linux"},
    "-amd64": {"architecture": "amd64", "os": "linux"},
}
DEFAULT_PLATFORM = {"architecture": "amd64", "os": "linux"}


def default_anchor():
    """Today, 00:00 UTC: created dates are spread over the two years before it."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _number(*parts):
    """A large number that depends only on `parts`: the dice of this module."""
    key = "\0".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.sha256(key).digest(), "big")


def per_mille(digest, salt):
    return _number(salt, digest) % 1000


def is_missing_manifest(digest):
    """Whether the registry lost this per-platform manifest (a 404 on every request)."""
    return per_mille(digest, "lost") < MISSING_MANIFESTS


def is_missing_config(digest):
    return per_mille(digest, "config") < MISSING_CONFIGS


def names_no_platform(name, tag, index):
    return _number("no-platform", name, tag, index) % 1000 < NO_PLATFORM


def single_arch_platform(name):
    """The platform of a single-arch image: from a `-ppc64le` style suffix, else amd64."""
    for suffix, platform in SUFFIX_ARCH.items():
        if name.endswith(suffix):
            return platform
    return DEFAULT_PLATFORM


@functools.lru_cache(maxsize=4096)
def _day(days_since_epoch):
    return (EPOCH + timedelta(days=days_since_epoch)).strftime("%Y-%m-%d")


def _rfc3339(moment, nanos):
    # Formatting a datetime costs microseconds, and a config has a dozen times: the date
    # part of each day is formatted once.
    seconds = int((moment - EPOCH).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{_day(days)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{nanos:09d}Z"


@functools.lru_cache(maxsize=1024)
def _window(name):
    """(seconds before the anchor the repository's first build was, its span of builds)."""
    n = _number("window", name)
    start = n % TWO_YEARS
    return start, min(start, 30 * 86400 + (n >> 64) % (200 * 86400))


def created_at(name, tag, anchor, n=None):
    """When a tag's image was built: each repository lives in a window of the last two
    years, its tags inside it; `latest` is the newest."""
    start, span = _window(name)
    if n is None:
        n = _number("config", name, tag)
    fraction = 1.0 if tag == "latest" else ((n >> 128) % 1000) / 1000
    return anchor - timedelta(seconds=start - int(span * fraction) + 37)


def config_bytes(name, tag, platform, layer_digests, anchor):
    """The config blob of one image, as the registry serves it (keys sorted, compact)."""
    n = _number("config", name, tag)
    created = created_at(name, tag, anchor, n)
    built, precise = _rfc3339(created, 0), _rfc3339(created, n % 1_000_000_000)
    base_built = _rfc3339(created - timedelta(days=3 + n % 90), 0)
    entrypoint, cmd = ENTRYPOINTS[n % len(ENTRYPOINTS)]
    env_count = 2 + (n >> 8) % 4
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    env += [f"{ENV_NAMES[(n >> (12 + i)) % len(ENV_NAMES)]}=value-{i}" for i in range(env_count)]
    ports = {PORTS[(n >> 20) % len(PORTS)]: {}} if (n >> 24) % 4 else {}
    labels = {
        "org.opencontainers.image.title": name.rsplit("/", 1)[-1],
        "org.opencontainers.image.version": tag,
        "org.opencontainers.image.vendor": VENDORS[(n >> 28) % len(VENDORS)],
        "org.opencontainers.image.source": f"https://git.example.com/{name}",
        "org.opencontainers.image.created": built,
    }
    history = []
    base_steps = max(1, min(len(layer_digests) - 1, 1 + (n >> 32) % 3))
    for i, layer in enumerate(layer_digests):
        step = f"ADD file:{layer[7:23]} in / " if i == 0 else f"RUN build-step-{i} {layer[7:15]}"
        when = base_built if i < base_steps else built
        history.append({"created": when, "created_by": "/bin/sh -c " + step})
        if i == base_steps - 1:
            history.append(
                {
                    "created": base_built,
                    "created_by": '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
                    "empty_layer": True,
                }
            )
    for instruction in (
        f"LABEL org.opencontainers.image.version={tag}",
        f"ENV {env[-1].split('=', 1)[0]}=value",
        *([f"EXPOSE {next(iter(ports))}"] if ports else []),
        f"ENTRYPOINT {orjson.dumps(entrypoint).decode()}",
        f"CMD {orjson.dumps(cmd).decode()}",
    ):
        history.append(
            {
                "created": precise,
                "created_by": "/bin/sh -c #(nop)  " + instruction,
                "empty_layer": True,
            }
        )
    document = {
        **platform,
        "config": {
            "Env": env,
            "Entrypoint": entrypoint or None,
            "Cmd": cmd or None,
            "ExposedPorts": ports or None,
            "Labels": labels,
            "WorkingDir": "/app",
        },
        "created": precise,
        "history": history,
        "rootfs": {
            "type": "layers",
            # Uncompressed digests are not the layers' own: any other 64 hex digits will do.
            "diff_ids": ["sha256:" + d[:6:-1] for d in layer_digests],
        },
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def platform_manifest_bytes(name, tag, platform, manifest_type, anchor):
    """One entry of a manifest list or OCI index: a single-arch manifest and its config.

    Returns (manifest bytes, config bytes). Its layers are drawn from the entry's own
    inputs, so every platform of a tag has its own.
    """
    key = (name, tag, platform.get("os", ""), platform.get("architecture", ""))
    key += (platform.get("variant", ""),)
    n = _number("platform", *key)
    layer_type = OCI_LAYER if manifest_type == OCI_MANIFEST else DOCKER_LAYER
    config_type = OCI_CONFIG if manifest_type == OCI_MANIFEST else DOCKER_CONFIG
    layers = []
    for i in range(2 + n % 5):
        size = 32 + (n >> (8 + 26 * i)) % 60_000_000
        layers.append(
            {"mediaType": layer_type, "size": size, "digest": digest_of(repr((key, i)).encode())}
        )
    config = config_bytes(name, tag, platform, [layer["digest"] for layer in layers], anchor)
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "size": len(config), "digest": digest_of(config)},
        "layers": layers,
    }
    return orjson.dumps(manifest), config
