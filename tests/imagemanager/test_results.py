"""Typed results: every manifest kind, sizes, and tolerance of odd or missing fields."""

import copy
import pickle
from dataclasses import asdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgdash.imagemanager import (
    SIZE_AT_LEAST,
    SIZE_EXACT,
    SIZE_UNKNOWN,
    Layer,
    Manifest,
    Platform,
    Repository,
    Tag,
)

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"


def blob(digest, size, media_type="application/vnd.docker.image.rootfs.diff.tar.gzip"):
    return {"mediaType": media_type, "size": size, "digest": digest}


def v2(config=("sha256:c0", 1512), layers=(("sha256:l1", 1000), ("sha256:l2", 2000))):
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_V2,
        "config": blob(config[0], config[1], DOCKER_CONFIG),
        "layers": [blob(d, s) for d, s in layers],
    }


def repo(name="team-a/app", tags=None, **extra):
    return {"name": name, "owner": "team-a", "scope": "namespace", "tags": tags, **extra}


def test_it_reads_the_documented_example():
    data = {
        "name": "default/alpine",
        "owner": "default",
        "scope": "global",
        "tags": [
            {
                "name": "3.6",
                "manifest": {
                    "schemaVersion": 2,
                    "mediaType": DOCKER_V2,
                    "config": {"mediaType": DOCKER_CONFIG, "size": 1512, "digest": "sha256:053c"},
                    "layers": [
                        {
                            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "size": 1991435,
                            "digest": "sha256:b56a",
                        }
                    ],
                },
            }
        ],
    }
    r = Repository.from_api(data)
    assert (r.name, r.owner, r.scope, r.namespace, r.short_name) == (
        "default/alpine",
        "default",
        "global",
        "default",
        "alpine",
    )
    assert r.is_global
    assert r.tag_count == 1
    assert r.tag_names == ["3.6"]
    tag = r.tags[0]
    assert tag.name == "3.6"
    assert tag.kind == "docker-v2"
    assert tag.manifest.kind_label == "Docker v2"
    assert tag.manifest.config == Layer("sha256:053c", 1512, DOCKER_CONFIG)
    assert tag.manifest.layer_count == 1
    assert tag.size == 1512 + 1991435
    assert r.size == 1512 + 1991435


def test_tags_null_and_empty_both_mean_no_tags():
    for tags in (None, [], "garbage", {"name": "x"}):
        r = Repository.from_api(repo(tags=tags))
        assert r.tags == []
        assert r.tag_count == 0
        assert r.size == 0
        assert not r.size_known
    assert Repository.from_api({"name": "team-a/app"}).tags == []


def test_unknown_fields_are_ignored():
    data = repo(tags=[{"name": "v1", "manifest": v2(), "created": "2019-01-01", "x": [1]}])
    data["labels"] = {"a": "b"}
    data["tags"][0]["manifest"]["annotations"] = {"org.opencontainers.image.title": "x"}
    r = Repository.from_api(data)
    assert r.tags[0].size == 1512 + 3000


def test_owner_defaults_to_the_namespace_and_scope_to_empty():
    r = Repository.from_api({"name": "team-b/payments"})
    assert r.owner == "team-b"
    assert r.scope == ""
    assert not r.is_global


def test_entries_without_a_usable_name_are_refused():
    for data in (None, [], "x", {}, {"name": ""}, {"name": 7}, {"owner": "team-a"}):
        assert Repository.from_api(data) is None


def test_the_size_counts_a_blob_shared_by_several_tags_once():
    base = ("sha256:base", 50_000)
    tags = [
        {"name": "v1", "manifest": v2(("sha256:c1", 100), [base, ("sha256:a", 10)])},
        {"name": "v2", "manifest": v2(("sha256:c2", 100), [base, ("sha256:b", 20)])},
        {"name": "latest", "manifest": v2(("sha256:c2", 100), [base, ("sha256:b", 20)])},
    ]
    r = Repository.from_api(repo(tags=tags))
    assert [t.size for t in r.tags] == [50_110, 50_120, 50_120]
    assert r.size == 100 + 100 + 50_000 + 10 + 20


LIST_MANIFEST = {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": []}
SCHEMA1_MANIFEST = {"schemaVersion": 1, "fsLayers": [{"blobSum": "sha256:a3ed"}]}


@pytest.mark.parametrize("parse_tags", [False, True], ids=["raw", "parsed"])
@pytest.mark.parametrize(
    ("manifests", "size", "state"),
    [
        ([v2(), v2()], 4512, SIZE_EXACT),
        # No tags: nothing is stored, and that is known exactly.
        ([], 0, SIZE_EXACT),
        ([v2(), LIST_MANIFEST], 4512, SIZE_AT_LEAST),
        ([SCHEMA1_MANIFEST, v2()], 4512, SIZE_AT_LEAST),
        ([LIST_MANIFEST, SCHEMA1_MANIFEST], 0, SIZE_UNKNOWN),
        # A manifest that names no blob has no size either.
        ([{"schemaVersion": 2, "mediaType": DOCKER_V2}], 0, SIZE_UNKNOWN),
    ],
)
def test_the_size_state_says_whether_the_size_is_exact_a_lower_bound_or_unknown(
    manifests, size, state, parse_tags
):
    tags = [{"name": f"t{i}", "manifest": m} for i, m in enumerate(manifests)]
    r = Repository.from_api(repo(tags=tags))
    if parse_tags:
        r.tags  # noqa: B018 - parse now, so the answers come from the objects
    assert (r.size, r.size_state) == (size, state)
    assert r.size_summary() == (size, state)


def test_manifest_lists_and_oci_indexes_list_platforms_and_have_no_size():
    for media_type, kind, label in (
        (DOCKER_LIST, "manifest-list", "manifest list"),
        (OCI_INDEX, "oci-index", "OCI index"),
    ):
        m = Manifest.from_api(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "manifests": [
                    {
                        "mediaType": DOCKER_V2,
                        "size": 1216,
                        "digest": "sha256:aa",
                        "platform": {"architecture": "amd64", "os": "linux"},
                    },
                    {
                        "mediaType": DOCKER_V2,
                        "size": 1755,
                        "digest": "sha256:bb",
                        "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
                    },
                    "garbage",
                    {"digest": "sha256:cc"},
                ],
            }
        )
        assert (m.kind, m.kind_label, m.is_multi_platform) == (kind, label, True)
        assert m.platforms[0] == Platform("linux", "amd64", "", "sha256:aa", 1216, DOCKER_V2)
        assert m.platforms[1].label == "linux/arm64/v8"
        assert m.platforms[2].label == "?/?"
        assert len(m.platforms) == 3
        assert (m.size, m.size_known, m.layers) == (0, False, [])


def test_oci_manifests_have_sizes():
    m = Manifest.from_api(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": blob("sha256:c", 700, OCI_CONFIG),
            "layers": [blob("sha256:l", 300, "application/vnd.oci.image.layer.v1.tar+gzip")],
        }
    )
    assert (m.kind, m.kind_label, m.size, m.size_known) == ("oci", "OCI", 1000, True)


def test_schema_1_is_understood_without_sizes():
    m = Manifest.from_api(
        {
            "schemaVersion": 1,
            "name": "team-c/legacy/billing",
            "tag": "1.0",
            "architecture": "amd64",
            "fsLayers": [{"blobSum": "sha256:a3ed"}, {"blobSum": "sha256:beef"}, "junk"],
            "history": [{"v1Compatibility": "{}"}],
            "signatures": [],
        }
    )
    assert (m.kind, m.kind_label) == ("schema1", "schema 1")
    assert [layer.digest for layer in m.layers] == ["sha256:a3ed", "sha256:beef"]
    assert m.layer_count == 2
    assert (m.size, m.size_known) == (0, False)
    signed = Manifest.from_api(
        {"mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws"}
    )
    assert signed.kind == "schema1"


def test_kinds_are_guessed_when_the_media_type_is_missing():
    no_type = v2()
    del no_type["mediaType"]
    assert Manifest.from_api(no_type).kind == "docker-v2"
    oci = {"schemaVersion": 2, "config": blob("sha256:c", 1, OCI_CONFIG), "layers": []}
    assert Manifest.from_api(oci).kind == "oci"
    assert Manifest.from_api({"schemaVersion": 2, "manifests": []}).kind == "oci-index"
    assert Manifest.from_api({"fsLayers": []}).kind == "schema1"
    assert Manifest.from_api({"schemaVersion": 3}).kind == "unknown"
    assert Manifest.from_api({"schemaVersion": 2, "mediaType": "text/x-weird"}).kind_label == (
        "unknown"
    )


def test_a_malformed_manifest_does_not_break_the_repository():
    odd = [
        None,
        "manifest",
        [],
        {"schemaVersion": "2", "mediaType": ["x"], "config": "c", "layers": {"a": 1}},
        {"mediaType": DOCKER_V2, "config": {"size": "12", "digest": 5}, "layers": [None, 3]},
        {"mediaType": DOCKER_V2, "layers": [{"size": -5}, {"size": True}, {"size": 2.5}]},
        {"mediaType": DOCKER_LIST, "manifests": "x"},
        {"schemaVersion": 1, "fsLayers": None},
    ]
    tags = [{"name": f"t{i}", "manifest": m} for i, m in enumerate(odd)]
    tags += [{"name": None}, {"manifest": v2()}, "tag", {"name": "good", "manifest": v2()}]
    r = Repository.from_api(repo(tags=tags))
    assert r.tag_count == len(odd) + 1
    by_name = {tag.name: tag for tag in r.tags}
    assert by_name["good"].size == 4512
    assert by_name["t4"].manifest.config == Layer("", 0, "")
    assert by_name["t5"].size == 0
    assert r.size == 4512


def test_a_repository_built_by_hand_works_like_a_parsed_one():
    manifest = Manifest("x", 2, "docker-v2", Layer("sha256:c", 10), [Layer("sha256:l", 5)], [])
    built = Repository("team-a/app", "team-a", "global", [Tag("v1", manifest)])
    parsed = Repository.from_api(
        repo(tags=[{"name": "v1", "manifest": v2(("sha256:c", 10), [("sha256:l", 5)])}])
    )
    assert (built.size, built.tag_count, built.tag_names) == (15, 1, ["v1"])
    assert parsed.size == built.size
    assert asdict(built)["tags"][0]["manifest"]["config"]["size"] == 10


def test_lazy_tags_survive_pickle_copy_and_equality():
    data = repo(tags=[{"name": "v1", "manifest": v2()}])
    a, b = Repository.from_api(data), Repository.from_api(copy.deepcopy(data))
    assert a == b
    assert "sha256:l1" in repr(a)
    restored = pickle.loads(pickle.dumps(Repository.from_api(data)))  # noqa: S301
    assert restored.tags[0].size == 4512
    assert restored == a
    assert copy.copy(Repository.from_api(data)).tag_count == 1


# -- properties: the quick answers from raw JSON agree with the parsed objects -------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=5),
)
digests = st.sampled_from(["sha256:a", "sha256:b", "sha256:c", "", None, 3])
sizes = st.one_of(st.integers(0, 10**9), scalars)
blobs = st.one_of(
    st.fixed_dictionaries(
        {"digest": digests, "size": sizes},
        optional={"mediaType": st.sampled_from([DOCKER_CONFIG, OCI_CONFIG, "x"])},
    ),
    scalars,
)
manifests = st.one_of(
    scalars,
    st.fixed_dictionaries(
        {},
        optional={
            "schemaVersion": st.one_of(st.sampled_from([1, 2, True]), scalars),
            "mediaType": st.sampled_from(
                [DOCKER_V2, OCI_MANIFEST, DOCKER_LIST, OCI_INDEX, "", "z"]
            ),
            "config": blobs,
            "layers": st.one_of(st.lists(blobs, max_size=4), scalars),
            "manifests": st.lists(blobs, max_size=2),
            "fsLayers": st.lists(st.fixed_dictionaries({"blobSum": digests}), max_size=2),
        },
    ),
)
raw_tags = st.one_of(
    scalars,
    st.lists(
        st.one_of(
            scalars,
            st.fixed_dictionaries(
                {"name": st.one_of(st.sampled_from(["v1", "v2", "latest", ""]), scalars)},
                optional={"manifest": manifests},
            ),
        ),
        max_size=4,
    ),
)


@settings(max_examples=200, deadline=None)
@given(raw_tags)
def test_property_raw_and_parsed_answers_agree(tags):
    data = {"name": "team-a/app", "tags": tags}
    lazy = Repository.from_api(data)
    quick = (lazy.tag_count, lazy.tag_names, lazy.size, lazy.size_known, lazy.size_state)
    parsed = Repository.from_api(copy.deepcopy(data))
    parsed.tags  # noqa: B018 - parse now, so the answers below come from the objects
    assert quick == (
        parsed.tag_count,
        parsed.tag_names,
        parsed.size,
        parsed.size_known,
        parsed.size_state,
    )
    assert parsed.size_known == (parsed.size_state != SIZE_UNKNOWN and parsed.tag_count > 0)
    assert parsed.size >= 0
    for tag in parsed.tags:
        assert tag.manifest.kind_label
        assert tag.size >= 0
