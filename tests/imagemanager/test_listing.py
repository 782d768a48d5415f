"""The list as the index reads it: the typed decoder gives what the defensive parser gives."""

import copy
import gc
import json

import orjson
import pytest

from imgdash.emulator.seed import generate_repositories
from imgdash.imagemanager import ImageManagerClient, ProtocolError, Repository, listing
from imgdash.imagemanager.listing import summary_of

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
V2 = "application/vnd.docker.distribution.manifest.v2+json"
LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
CONFIG = "application/vnd.docker.container.image.v1+json"


def body_of(repositories):
    return json.dumps({"repositories": repositories}).encode()  # orjson refuses 2**64


def as_before(repositories):
    """The summaries as the defensive parser (orjson, Repository.from_api) reads the body."""
    items = orjson.loads(body_of(repositories))["repositories"]
    parsed = (Repository.from_api(item) for item in items)
    return sorted(
        (summary_of(repository) for repository in parsed if repository is not None),
        key=lambda summary: summary.name,
    )


def typed(repositories):
    items = listing.repository_json(body_of(repositories))
    return sorted(listing.summaries(items), key=lambda summary: summary.name)


def image(config_size=10, layers=((DIGEST, 100),), **extra):
    manifest = {
        "schemaVersion": 2,
        "mediaType": V2,
        "config": {"digest": "sha256:" + "c" * 64, "size": config_size, "mediaType": CONFIG},
        "layers": [{"digest": digest, "size": size} for digest, size in layers],
    }
    return manifest | extra


def repo(name="team-a/app", tags=None, **extra):
    if tags is None:
        tags = [{"name": "1.0", "manifest": image()}, {"name": "1.1", "manifest": image()}]
    return {"name": name, "owner": "team-a", "scope": "namespace", "tags": tags} | extra


def test_it_reads_the_emulators_list_as_the_defensive_parser_does(emulator):
    with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as admin:
        summaries = admin.list_repository_summaries()
        before = [summary_of(repository) for repository in admin.list_repositories()]
    assert len(summaries) == 60
    assert summaries == before


@pytest.mark.parametrize("seed", [1, 7, 23])
def test_it_reads_generated_registries_as_the_defensive_parser_does(seed):
    repositories = generate_repositories(1500, seed=seed)
    assert typed(repositories) == as_before(repositories)


ODD_REPOSITORIES = {
    "plain": repo(),
    "no tags": repo(tags=[]),
    "null tags": repo(tags=None) | {"tags": None},
    "tags not a list": repo() | {"tags": "1.0"},
    "a tag that is not an object": repo(tags=["1.0", {"name": "2", "manifest": image()}]),
    "a tag without a name": repo(tags=[{"manifest": image()}, {"name": "2", "manifest": image()}]),
    "a tag with an empty name": repo(tags=[{"name": "", "manifest": image()}]),
    "a tag named by a number": repo(tags=[{"name": 3, "manifest": image()}]),
    "no name": {"scope": "global", "tags": []},
    "empty name": repo(name=""),
    "name not a string": repo(name=["x"]),
    "not an object": "team-a/app",
    "null scope": repo(scope=None),
    "scope a number": repo(scope=7),
    "negative size": repo(tags=[{"name": "1", "manifest": image(layers=((DIGEST, -5),))}]),
    "size a string": repo(tags=[{"name": "1", "manifest": image(layers=((DIGEST, "5"),))}]),
    "size a float": repo(tags=[{"name": "1", "manifest": image(layers=((DIGEST, 5.0),))}]),
    "size true": repo(tags=[{"name": "1", "manifest": image(layers=((DIGEST, True),))}]),
    "size past 64 bits": repo(tags=[{"name": "1", "manifest": image(layers=((DIGEST, 2**64),))}]),
    "null size and digest": repo(tags=[{"name": "1", "manifest": image(layers=((None, None),))}]),
    "shared layers": repo(
        tags=[
            {"name": "1", "manifest": image(layers=((DIGEST, 100), (OTHER, 7)))},
            {"name": "2", "manifest": image(layers=((DIGEST, 100), ("", 3), ("", 3)))},
        ]
    ),
    "a layer that is not an object": repo(
        tags=[{"name": "1", "manifest": image() | {"layers": ["x", {"digest": OTHER, "size": 4}]}}]
    ),
    "config not an object": repo(tags=[{"name": "1", "manifest": image() | {"config": "x"}}]),
    "manifest not an object": repo(tags=[{"name": "1", "manifest": "x"}, {"name": "2"}]),
    "null manifest": repo(tags=[{"name": "1", "manifest": None}]),
    "manifest list and image": repo(
        tags=[
            {"name": "multi", "manifest": {"schemaVersion": 2, "mediaType": LIST, "manifests": []}},
            {"name": "1", "manifest": image()},
        ]
    ),
    "only a manifest list": repo(
        tags=[{"name": "m", "manifest": {"schemaVersion": 2, "mediaType": LIST, "manifests": []}}]
    ),
    "schema 1 by its fsLayers": repo(
        tags=[{"name": "1", "manifest": {"fsLayers": [{"blobSum": DIGEST}], "layers": []}}]
    ),
    "schema 1 with null fsLayers": repo(
        tags=[{"name": "1", "manifest": {"fsLayers": None, "config": {"size": 3}}}]
    ),
    "OCI index without a media type": repo(
        tags=[{"name": "1", "manifest": {"schemaVersion": 2, "manifests": [{"digest": OTHER}]}}]
    ),
    "OCI image without a media type": repo(
        tags=[
            {
                "name": "1",
                "manifest": {
                    "schemaVersion": 2,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 1},
                    "layers": [{"digest": DIGEST, "size": 2}],
                },
            }
        ]
    ),
    "unknown media type": repo(
        tags=[{"name": "1", "manifest": image(mediaType="application/x-custom")}]
    ),
    "media type a number": repo(tags=[{"name": "1", "manifest": image(mediaType=2)}]),
    "schema version true": repo(
        tags=[{"name": "1", "manifest": {"schemaVersion": True, "config": {"size": 9}}}]
    ),
    "schema version 2.0": repo(tags=[{"name": "1", "manifest": image(schemaVersion=2.0)}]),
    "no schema version, no media type": repo(
        tags=[{"name": "1", "manifest": {"config": {"size": 5}, "layers": []}}]
    ),
    "unknown fields": repo(labels={"a": [1, 2]}, tags=[{"name": "1", "manifest": image(x=[])}]),
}


@pytest.mark.parametrize("name", ODD_REPOSITORIES)
def test_it_reads_an_odd_repository_as_the_defensive_parser_does(name):
    repositories = [ODD_REPOSITORIES[name], repo(name="team-b/neighbour")]
    assert typed(copy.deepcopy(repositories)) == as_before(repositories)


def test_it_reads_every_odd_repository_in_one_list_as_before():
    repositories = [copy.deepcopy(item) for item in ODD_REPOSITORIES.values()]
    for position, item in enumerate(repositories):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
            item["name"] = f"team-{position}/{item['name']}"
    assert typed(repositories) == as_before(repositories)


@pytest.mark.parametrize(
    "body", [b"[]", b'{"repositories": {}}', b'{"repositories": 3}', b"{", b"nope", b'"x"']
)
def test_a_body_the_structs_cannot_read_goes_the_old_way(body):
    assert listing.repository_json(body) is None


def test_an_odd_body_fails_as_the_list_does(emulator):
    emulator.faults.add(path=r"/repositories$", status=200, body='{"repositories": 3}', times=2)
    with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as admin:
        with pytest.raises(ProtocolError) as before:
            admin.list_repositories()
        with pytest.raises(ProtocolError) as now:
            admin.list_repository_summaries()
    assert str(now.value) == str(before.value)


def test_it_pauses_the_garbage_collector_while_decoding_and_restores_it(monkeypatch):
    seen = []
    decode = listing.summary_of_json
    monkeypatch.setattr(
        listing, "summary_of_json", lambda raw: seen.append(gc.isenabled()) or decode(raw)
    )
    assert gc.isenabled()
    typed([repo(), repo(name="team-b/x")])
    assert seen == [False, False]
    assert gc.isenabled()
