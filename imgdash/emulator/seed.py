"""Deterministic, realistic repositories for the emulator.

`generate_repositories(count, seed)` returns `count` Repository objects (dicts shaped as the
API returns them). The same count and seed always give the same data, and a smaller count is
a prefix of a larger one. The first repositories are a fixed showcase that guarantees every
case a client must handle shows up even in a tiny seed (both scopes in team-a and team-b,
global repositories elsewhere, deep names, manifest lists, OCI, schema 1, `tags` empty and
null, a repository with 40 tags); the rest are drawn at random with realistic skew: most
repositories have a few tags, a few have up to 40; 2-15 layers of a few bytes to a few
hundred megabytes, sharing base layers as real images do.
"""

import base64
import random

from . import images

SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# The gzip of an empty tar: docker's ubiquitous 32-byte layer.
EMPTY_LAYER = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"

# namespace: (share of the repositories, share of them that are global)
NAMESPACES = {
    "default": (0.13, 0.5),
    "ibmcom": (0.16, 0.9),
    "kube-system": (0.08, 0.15),
    "team-a": (0.15, 0.35),
    "team-b": (0.13, 0.35),
    "team-c": (0.11, 0.3),
    "monitoring": (0.07, 0.5),
    "istio-system": (0.05, 0.6),
    "services": (0.12, 0.25),
}

# Repository kinds and how often a randomly drawn repository is each.
KIND_WEIGHTS = {
    "schema2": 0.80,
    "list": 0.08,
    "oci": 0.03,
    "oci-index": 0.02,
    "schema1": 0.03,
    "empty": 0.025,
    "null": 0.015,
}

# (name, scope, kind, tag count); tag count None = drawn. Order matters: a seed of N
# repositories takes the first N, so the cases tests rely on come first.
SHOWCASE = [
    ("default/alpine", "global", "schema2", 4),
    ("team-a/orders-api", "namespace", "schema2", None),
    ("team-b/payments", "global", "schema2", None),
    ("ibmcom/icp-inception", "global", "schema2", None),
    ("kube-system/tiller", "namespace", "schema2", None),
    ("team-b/batch/jobs/report", "namespace", "schema2", None),
    ("team-a/web/frontend", "global", "list", None),
    ("team-c/legacy/billing", "namespace", "schema1", None),
    ("team-a/tools/builder", "namespace", "oci", None),
    ("team-b/ml/scorer", "global", "oci-index", None),
    ("team-a/scratch", "namespace", "empty", None),
    ("team-b/placeholder", "global", "null", None),
    ("ibmcom/nginx-ingress-controller", "global", "list", None),
    ("default/alpine-ppc64le", "global", "schema2", 3),
    ("default/busybox", "namespace", "schema2", None),
    ("team-c/api", "global", "schema2", None),
    ("monitoring/prometheus", "global", "schema2", None),
    ("team-a/ci/runner", "namespace", "schema2", 40),
    ("kube-system/coredns", "global", "list", None),
    ("team-c/data__loader", "namespace", "schema2", None),
]

IMAGE_NAMES = {
    "default": [
        "alpine",
        "busybox",
        "nginx",
        "redis",
        "postgres",
        "mariadb",
        "mysql",
        "node",
        "python",
        "golang",
        "openjdk",
        "httpd",
        "mongo",
        "rabbitmq",
        "memcached",
        "ubuntu",
        "centos",
        "debian",
        "haproxy",
        "tomcat",
        "wordpress",
        "jenkins",
        "vault",
        "consul",
    ],
    "ibmcom": [
        "icp-catalog-ui",
        "icp-identity-provider",
        "icp-identity-manager",
        "icp-image-manager",
        "calico-node",
        "calico-cni",
        "helm-api",
        "helm-repo",
        "tiller",
        "kubernetes",
        "pause",
        "etcd",
        "mongodb",
        "elasticsearch",
        "kibana",
        "logstash",
        "filebeat",
        "metering-reader",
        "metering-server",
        "icp-platform-api",
        "icp-platform-ui",
        "icp-router",
        "mariadb",
        "websphere-liberty",
        "db2express-c",
        "mq",
        "icp-management-ingress",
        "iam-policy-decision",
        "security-onboarding",
        "audit-syslog-service",
        "cert-manager-controller",
        "minio",
    ],
    "kube-system": [
        "coredns",
        "kube-proxy",
        "pause",
        "metrics-server",
        "heapster",
        "kube-state-metrics",
        "node-problem-detector",
        "cluster-autoscaler",
        "defaultbackend",
        "k8s-dns-sidecar",
    ],
    "monitoring": [
        "prometheus",
        "alertmanager",
        "grafana",
        "node-exporter",
        "node_exporter",
        "pushgateway",
        "blackbox-exporter",
        "configmap-reload",
        "redis_exporter",
        "collectd-exporter",
    ],
    "istio-system": [
        "pilot",
        "proxyv2",
        "mixer",
        "citadel",
        "galley",
        "sidecar_injector",
        "kiali",
        "jaeger",
    ],
}
ARCH_SUFFIXES = ["", "", "", "-amd64", "-ppc64le", "-s390x"]
APP_WORDS = [
    "orders",
    "payments",
    "billing",
    "catalog",
    "inventory",
    "search",
    "auth",
    "gateway",
    "ledger",
    "shipping",
    "reports",
    "notify",
    "users",
    "profile",
    "cart",
    "checkout",
    "pricing",
    "analytics",
    "ingest",
    "etl",
    "claims",
    "quotes",
    "risk",
    "fraud",
    "loyalty",
]
APP_KINDS = [
    "api",
    "web",
    "worker",
    "service",
    "db",
    "cache",
    "ui",
    "cron",
    "exporter",
    "proxy",
    "migrator",
    "sync",
    "svc",
    "app",
]
GROUPS = [
    "tools",
    "batch",
    "ml",
    "data",
    "web",
    "infra",
    "ci",
    "base",
    "legacy",
    "edge",
    "mirror.io",
    "py3.8",
]
PLATFORMS = [
    ({"architecture": "amd64", "os": "linux"}, 1.0),
    ({"architecture": "ppc64le", "os": "linux"}, 0.7),
    ({"architecture": "s390x", "os": "linux"}, 0.5),
    ({"architecture": "arm64", "os": "linux", "variant": "v8"}, 0.4),
    ({"architecture": "arm", "os": "linux", "variant": "v7"}, 0.2),
]
# Base images every repository is built on: (compressed size of each layer).
BASE_IMAGES = [
    [2_798_889],  # alpine
    [760_000],  # busybox
    [27_099_000],  # debian slim
    [26_690_000, 857, 528, 170],  # ubuntu
    [75_160_000],  # centos
    [71_690_000, 1_750],  # ubi
    [650_000, 7_400_000],  # distroless
    [45_300_000, 10_800_000, 4_340_000, 50_080_000, 214_200_000],  # a language runtime
]


class _Seeder:
    def __init__(self, seed, anchor):
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.names = set()
        # Base layers shared by many repositories, as pulled-from images are in real life.
        self.bases = []
        for sizes in BASE_IMAGES:
            for _ in range(3):  # three versions of each base
                self.bases.append([self.layer(self.vary(size)) for size in sizes])

    def digest(self):
        return f"sha256:{self.rng.getrandbits(256):064x}"

    def vary(self, size):
        return max(32, int(size * self.rng.uniform(0.85, 1.15)))

    def layer(self, size, media_type=DOCKER_LAYER):
        return {"mediaType": media_type, "size": size, "digest": self.digest()}

    def layer_size(self):
        roll = self.rng.random()
        if roll < 0.08:
            return 32
        # Median ~1.5 MB, long tail into the hundreds of megabytes.
        return min(400_000_000, max(120, int(self.rng.lognormvariate(14.2, 2.3))))

    def tag_count(self):
        roll = self.rng.random()
        if roll < 0.45:
            return 1
        if roll < 0.75:
            return self.rng.randint(2, 3)
        if roll < 0.91:
            return self.rng.randint(4, 6)
        if roll < 0.98:
            return self.rng.randint(7, 15)
        return self.rng.randint(16, 40)

    def tag_names(self, count):
        rng = self.rng
        style = rng.choice(["semver", "semver", "vsemver", "date", "build", "icp"])
        major, minor, patch = rng.randint(0, 5), rng.randint(0, 12), rng.randint(0, 9)
        names = []
        for i in range(count):
            if style in ("semver", "vsemver", "icp"):
                patch += 1
                if rng.random() < 0.2:
                    minor, patch = minor + 1, 0
                version = f"{major}.{minor}.{patch}"
                name = {"semver": version, "vsemver": "v" + version}.get(style)
                name = name or f"3.{minor}.{patch}"
            elif style == "date":
                name = f"2019{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}"
            else:
                name = f"build-{1000 + 7 * i}"
            names.append(name)
        # Most repositories also carry a moving tag.
        if count > 1 and rng.random() < 0.6:
            names[-1] = "latest"
        return list(dict.fromkeys(names))

    def draw_name(self, namespace):
        rng = self.rng
        for attempt in range(8):
            flavour = IMAGE_NAMES.get(namespace)
            if flavour and rng.random() < 0.6:
                image = rng.choice(flavour) + rng.choice(ARCH_SUFFIXES)
            else:
                image = f"{rng.choice(APP_WORDS)}-{rng.choice(APP_KINDS)}"
                if rng.random() < 0.1:
                    image = image.replace("-", rng.choice(["_", ".", "__", "--"]))
            depth = rng.random()
            if depth < 0.25:
                image = f"{rng.choice(GROUPS)}/{image}"
            elif depth < 0.32:
                image = f"{rng.choice(GROUPS)}/{rng.choice(APP_WORDS)}/{image}"
            name = f"{namespace}/{image}"
            if attempt == 7:
                name = f"{name}-{len(self.names)}"
            if name not in self.names:
                return name
        raise AssertionError("unreachable: the last attempt is made unique")

    # -- manifests -------------------------------------------------------------------

    def image_layers(self, media_type):
        """The layers of an image's first tag: a base image plus 1-12 of its own."""
        own = self.rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 6, 8, 10, 12])
        base = self.rng.choice(self.bases)
        layers = [
            layer if media_type == DOCKER_LAYER else {**layer, "mediaType": media_type}
            for layer in base
        ]
        layers += [self.layer(self.layer_size(), media_type) for _ in range(own)]
        return layers[:15]

    def next_layers(self, layers, media_type):
        """A later tag: the same base and most layers, the top one to three rebuilt."""
        changed = min(len(layers) - 1, self.rng.randint(1, 3))
        fresh = [self.layer(self.layer_size(), media_type) for _ in range(changed)]
        return layers[: len(layers) - changed] + fresh

    def config(self, media_type, name, tag, layers):
        # The draws the config's size and digest once took, so the rest of the data stays.
        self.rng.randint(1_100, 16_000)
        self.digest()
        platform = images.single_arch_platform(name)
        digests = [layer["digest"] for layer in layers]
        blob = images.config_bytes(name, tag, platform, digests, self.anchor)
        return {"mediaType": media_type, "size": len(blob), "digest": images.digest_of(blob)}

    def image_tags(self, name, tag_names, manifest_type, config_type, layer_type):
        tags = []
        layers = self.image_layers(layer_type)
        for tag in tag_names:
            manifest = {"schemaVersion": 2, "mediaType": manifest_type}
            manifest["config"] = self.config(config_type, name, tag, layers)
            manifest["layers"] = layers
            tags.append({"name": tag, "manifest": manifest})
            layers = self.next_layers(layers, layer_type)
        return tags

    def index_tags(self, name, tag_names, manifest_type, entry_type):
        platforms = [p for p, share in PLATFORMS if self.rng.random() < share]
        tags = []
        for tag in tag_names:
            entries = []
            for index, platform in enumerate(platforms):
                self.rng.randint(428, 2_900)  # the draws of the old random size and digest
                self.digest()
                if images.names_no_platform(name, tag, index):
                    platform = {}
                blob, _ = images.platform_manifest_bytes(
                    name, tag, platform, entry_type, self.anchor
                )
                entry = {"mediaType": entry_type, "size": len(blob)}
                entry["digest"] = images.digest_of(blob)
                if platform:
                    entry["platform"] = platform
                entries.append(entry)
            manifest = {"schemaVersion": 2, "mediaType": manifest_type, "manifests": entries}
            tags.append({"name": tag, "manifest": manifest})
        return tags

    def b64(self, nbytes):
        raw = self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def schema1_tags(self, name, tag_names):
        tags = []
        for tag in tag_names:
            count = self.rng.randint(3, 9)
            blobs = [
                EMPTY_LAYER if self.rng.random() < 0.4 else self.digest() for _ in range(count)
            ]
            ids = [f"{self.rng.getrandbits(256):064x}" for _ in range(count)]
            history = []
            for i in range(count):
                parent = f',"parent":"{ids[i + 1]}"' if i + 1 < count else ""
                history.append(
                    {
                        "v1Compatibility": (
                            f'{{"id":"{ids[i]}"{parent},"created":"2017-0{1 + i % 9}-1'
                            f'{i % 10}T10:2{i % 10}:31.0Z","container_config":{{"Cmd":'
                            f'["/bin/sh -c #(nop) LAYER {count - i}"]}},"throwaway":'
                            f"{'true' if blobs[i] == EMPTY_LAYER else 'false'}}}"
                        )
                    }
                )
            manifest = {
                "schemaVersion": 1,
                "name": name,
                "tag": tag,
                "architecture": "amd64",
                "fsLayers": [{"blobSum": blob} for blob in blobs],
                "history": history,
                "signatures": [
                    {
                        "header": {
                            "jwk": {
                                "crv": "P-256",
                                "kid": ":".join(self.b64(3)[:4].upper() for _ in range(12)),
                                "kty": "EC",
                                "x": self.b64(32),
                                "y": self.b64(32),
                            },
                            "alg": "ES256",
                        },
                        "signature": self.b64(64),
                        "protected": self.b64(60),
                    }
                ],
            }
            tags.append({"name": tag, "manifest": manifest})
        return tags

    # -- repositories ----------------------------------------------------------------

    def repository(self, name, scope, kind, tag_count=None):
        self.names.add(name)
        tag_names = self.tag_names(tag_count or self.tag_count())
        if kind == "schema2":
            tags = self.image_tags(name, tag_names, SCHEMA2, DOCKER_CONFIG, DOCKER_LAYER)
        elif kind == "oci":
            tags = self.image_tags(name, tag_names, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER)
        elif kind == "list":
            tags = self.index_tags(name, tag_names, MANIFEST_LIST, SCHEMA2)
        elif kind == "oci-index":
            tags = self.index_tags(name, tag_names, OCI_INDEX, OCI_MANIFEST)
        elif kind == "schema1":
            tags = self.schema1_tags(name, tag_names)
        elif kind == "empty":
            tags = []
        elif kind == "null":
            tags = None
        else:
            raise ValueError(f"unknown repository kind {kind!r}")
        return {"name": name, "owner": name.split("/", 1)[0], "scope": scope, "tags": tags}

    def random_repository(self):
        rng = self.rng
        namespace = rng.choices(list(NAMESPACES), [w for w, _ in NAMESPACES.values()])[0]
        scope = "global" if rng.random() < NAMESPACES[namespace][1] else "namespace"
        kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
        return self.repository(self.draw_name(namespace), scope, kind)


def generate_repositories(count, seed=1, anchor=None):
    """`count` repositories, the same ones for the same seed and anchor, in the order they
    were drawn. `anchor` (an aware datetime, default today 00:00 UTC) is the end of the two
    years the images' created dates are spread over (see images.py)."""
    seeder = _Seeder(seed, anchor or images.default_anchor())
    repositories = []
    for name, scope, kind, tag_count in SHOWCASE[:count]:
        repositories.append(seeder.repository(name, scope, kind, tag_count))
    while len(repositories) < count:
        repositories.append(seeder.random_repository())
    return repositories
