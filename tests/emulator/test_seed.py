"""Seeded data: deterministic, valid, and covering every case a client must handle."""

import re
import statistics
from collections import Counter

import pytest

from imgdash.emulator.seed import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    SCHEMA2,
    generate_repositories,
)

COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
NAME = re.compile(rf"{COMPONENT}(?:/{COMPONENT})+")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
TAG = re.compile(r"^[\w][\w.-]{0,127}$")


@pytest.fixture(scope="module")
def small():
    return generate_repositories(60, seed=7)


@pytest.fixture(scope="module")
def larger():
    return generate_repositories(1000, seed=7)


def kind(repository):
    tags = repository["tags"]
    if tags is None:
        return "null"
    if not tags:
        return "empty"
    manifest = tags[0]["manifest"]
    if manifest["schemaVersion"] == 1:
        return "schema1"
    return manifest["mediaType"]


def test_the_same_seed_gives_the_same_repositories():
    assert generate_repositories(80, seed=5) == generate_repositories(80, seed=5)


def test_another_seed_gives_other_repositories():
    assert generate_repositories(80, seed=5) != generate_repositories(80, seed=6)


def test_a_smaller_seed_is_a_prefix_of_a_larger_one(small, larger):
    assert larger[:60] == small


def test_it_seeds_exactly_the_count_asked_for():
    assert len(generate_repositories(0)) == 0
    assert len(generate_repositories(3)) == 3
    assert len(generate_repositories(250)) == 250


def test_names_are_unique_docker_references_owned_by_their_namespace(larger):
    names = [r["name"] for r in larger]

    assert len(set(names)) == len(names)
    for repository in larger:
        assert NAME.fullmatch(repository["name"]), repository["name"]
        assert len(repository["name"]) <= 255
        assert repository["owner"] == repository["name"].split("/")[0]
        assert repository["scope"] in ("global", "namespace")


def test_names_have_two_and_three_or_more_segments(small):
    depths = {r["name"].count("/") + 1 for r in small}

    assert {2, 3, 4} <= depths


def test_the_expected_namespaces_are_seeded(small):
    owners = {r["owner"] for r in small}

    assert {"default", "ibmcom", "kube-system", "team-a", "team-b", "team-c"} <= owners


def test_team_namespaces_hold_both_scopes_and_other_namespaces_hold_global_ones(small):
    scopes = Counter((r["owner"], r["scope"]) for r in small)

    for team in ("team-a", "team-b"):
        assert scopes[(team, "global")] and scopes[(team, "namespace")]
    assert any(scopes[(ns, "global")] for ns in ("default", "ibmcom", "kube-system"))


def test_every_manifest_kind_and_empty_and_null_tags_are_present(small):
    kinds = Counter(kind(r) for r in small)

    for expected in (SCHEMA2, MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX, "schema1", "empty", "null"):
        assert kinds[expected], expected


def test_tags_are_named_validly_and_number_one_to_forty(larger):
    counts = [len(r["tags"]) for r in larger if r["tags"]]

    assert min(counts) == 1
    assert max(counts) == 40
    # Most repositories have a few tags; a few have many.
    assert statistics.median(counts) <= 3
    assert sum(c > 15 for c in counts) < len(counts) * 0.05
    for repository in larger:
        names = [tag["name"] for tag in repository["tags"] or []]
        assert len(set(names)) == len(names)
        assert all(TAG.match(name) for name in names)


def test_schema2_manifests_look_real(larger):
    manifests = [tag["manifest"] for r in larger for tag in r["tags"] or [] if kind(r) == SCHEMA2]
    layer_sizes = [layer["size"] for m in manifests for layer in m["layers"]]

    for manifest in manifests:
        assert manifest["schemaVersion"] == 2
        assert manifest["config"]["mediaType"] == DOCKER_CONFIG
        assert DIGEST.match(manifest["config"]["digest"])
        assert 2 <= len(manifest["layers"]) <= 15
        for layer in manifest["layers"]:
            assert layer["mediaType"] == DOCKER_LAYER
            assert DIGEST.match(layer["digest"])
    assert min(layer_sizes) >= 32
    assert max(layer_sizes) > 100_000_000
    assert 10_000 < statistics.median(layer_sizes) < 50_000_000


def test_manifest_lists_name_their_platforms_but_a_few(larger):
    named = unnamed = 0
    for repository in larger:
        if kind(repository) not in (MANIFEST_LIST, OCI_INDEX):
            continue
        for tag in repository["tags"]:
            entries = tag["manifest"]["manifests"]
            assert entries
            assert "layers" not in tag["manifest"]
            for entry in entries:
                assert DIGEST.match(entry["digest"])
                if "platform" not in entry:  # as some build tools write them
                    unnamed += 1
                    continue
                named += 1
                assert entry["platform"]["os"] == "linux"
                assert entry["platform"]["architecture"]
    assert named > 10 * unnamed > 0


def test_schema1_manifests_have_fs_layers(small):
    schema1 = [r for r in small if kind(r) == "schema1"]

    for repository in schema1:
        for tag in repository["tags"]:
            manifest = tag["manifest"]
            assert manifest["name"] == repository["name"]
            assert manifest["tag"] == tag["name"]
            assert manifest["fsLayers"]
            assert len(manifest["history"]) == len(manifest["fsLayers"])
            assert all(DIGEST.match(layer["blobSum"]) for layer in manifest["fsLayers"])


def test_the_emulator_serves_the_seeded_data(emulator):
    assert [r["name"] for r in emulator.repositories.all()] == [
        r["name"] for r in generate_repositories(60, seed=7)
    ]
