"""Reading image configs and per-platform manifests defensively."""

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgdash.imagemanager.imageconfigs import (
    image_config,
    image_config_from_body,
    parse_rfc3339,
    platform_manifest,
)
from imgdash.imagemanager.imagefacts import ImageConfig

DIGEST = "sha256:" + "ab" * 32

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=30,
)
config_keys = st.sampled_from(
    ["created", "os", "architecture", "variant", "config", "history", "container_config"]
)
run_keys = st.sampled_from(["Env", "Labels", "Entrypoint", "Cmd", "ExposedPorts"])
odd_configs = st.dictionaries(
    config_keys,
    json_values | st.dictionaries(run_keys, json_values) | st.lists(json_values),
    max_size=7,
)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300) | json_values.map(orjson.dumps) | odd_configs.map(orjson.dumps))
def test_any_body_gives_a_config_or_none_and_never_raises(body):
    config = image_config_from_body(DIGEST, body, [1, 2, 3])
    assert config is None or isinstance(config, ImageConfig)
    if config is not None:
        assert config.digest == DIGEST
        assert all(isinstance(name, str) and "=" not in name for name in config.env_names)
        assert config.created is None or config.created.tzinfo is UTC
        assert all(isinstance(value, str) for value in config.labels.values())


@settings(max_examples=200, deadline=None)
@given(document=json_values | odd_configs)
def test_any_manifest_document_gives_a_manifest_or_none(document):
    manifest = platform_manifest(DIGEST, document)
    assert manifest is None or manifest.size >= 0


def test_it_reads_a_docker_config():
    document = {
        "architecture": "arm64",
        "os": "linux",
        "variant": "v8",
        "created": "2024-05-01T12:00:00.123456789Z",
        "config": {
            "Env": ["PATH=/bin", "DB_PASSWORD=hunter2", "EMPTY=", "=odd", 7],
            "Entrypoint": ["/init"],
            "Cmd": "serve --port 80",
            "ExposedPorts": {"80/tcp": {}},
            "Labels": {"org.opencontainers.image.version": "1.2", "bad": 3},
        },
        "history": [
            {"created_by": "ADD rootfs /", "created": "2024-04-01T00:00:00Z"},
            {"created_by": "ENV X=1", "empty_layer": True},
            "not a step",
            {"created_by": "RUN make", "created": "2024-05-01T14:00:00+02:00"},
        ],
    }
    config = image_config(DIGEST, document, [100, 200])
    assert config.platform == "linux/arm64/v8"
    assert config.created == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert config.env_names == ("PATH", "DB_PASSWORD", "EMPTY")
    assert "hunter2" not in repr(config)
    assert config.entrypoint == ("/init",)
    assert config.cmd == ("serve --port 80",)
    assert config.exposed_ports == ("80/tcp",)
    assert config.labels == {"org.opencontainers.image.version": "1.2"}
    assert [(s.created_by, s.size, s.empty_layer) for s in config.history] == [
        ("ADD rootfs /", 100, False),
        ("ENV X=1", None, True),
        ("RUN make", 200, False),
    ]
    assert config.history[2].created == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_history_sizes_are_none_without_layer_sizes_or_when_they_run_out():
    document = {"history": [{"created_by": "a"}, {"created_by": "b"}]}
    assert [s.size for s in image_config(DIGEST, document).history] == [None, None]
    assert [s.size for s in image_config(DIGEST, document, [5]).history] == [5, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01t12:00:00.5z", datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        (
            "2024-05-01T12:00:00.123456789-05:30",
            datetime(2024, 5, 1, 17, 30, 0, 123456, tzinfo=UTC),
        ),
        ("2024-05-01T12:00:60Z", datetime(2024, 5, 1, 12, 0, 59, tzinfo=UTC)),  # leap second
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),  # Go's zero time
        ("2024-05-01T12:00:00", None),  # no offset: not a guess
        ("2024-13-01T12:00:00Z", None),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        ("yesterday", None),
        (1714564800, None),
    ],
)
def test_it_parses_rfc3339_times_into_utc(text, expected):
    assert parse_rfc3339(text) == expected
