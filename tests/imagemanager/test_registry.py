"""The registry v2 client against the emulator's registry, over real sockets.

Tokens come the way the dashboard gets them: operation 2 of the Image Manager API with the
user's ID token, for the scopes the contract names.
"""

import http.server
import logging
import threading
import time
from datetime import UTC, datetime

import jwt
import pytest

from imgdash.emulator import images
from imgdash.emulator.tokens import REGISTRY_ISSUER
from imgdash.imagemanager import ImageManagerClient
from imgdash.imagemanager.errors import (
    ConfigurationError,
    Forbidden,
    InvalidInput,
    InvalidRepositoryName,
    NotFound,
    OutcomeUnknown,
    ProtocolError,
    Unauthorized,
    Unavailable,
)
from imgdash.imagemanager.names import repository_scope
from imgdash.imagemanager.registry import (
    RegistryClient,
    delete_scope,
    pull_scope,
    registry_url,
)

KINDS = {
    "docker-v2": "default/alpine",
    "oci": "team-a/tools/builder",
    "manifest-list": "team-a/web/frontend",
    "oci-index": "team-b/ml/scorer",
}


@pytest.fixture
def registry_token(emulator):
    """registry_token(name, scope=pull_scope, user="admin"): a token from operation 2."""

    def issue(name, scope=pull_scope, user="admin"):
        with ImageManagerClient(emulator.api_url, emulator.issue_id_token(user)) as api:
            return api.docker_token([scope(name)]).token

    return issue


@pytest.fixture
def registry(emulator, registry_token):
    """registry(name, **options): a RegistryClient holding a pull token for `name`."""
    clients = []

    def open_client(name, scope=pull_scope, user="admin", **options):
        client = RegistryClient(emulator.registry_url, registry_token(name, scope, user), **options)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


def tags_of(emulator, name):
    with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as api:
        return api.get_repository(name).tags


def facts_of_tag(client, name, manifest):
    """What the dashboard fetches for one tag: [(platform manifest or None, config)]."""
    if manifest.kind in ("docker-v2", "oci"):
        sizes = [layer.size for layer in manifest.layers]
        return [(None, client.image_config(name, manifest.config.digest, sizes))]
    found = []
    for platform in manifest.platforms:
        if images.is_missing_manifest(platform.digest):
            continue
        child = client.platform_manifest(name, platform.digest)
        if images.is_missing_config(child.config_digest):
            continue
        found.append((child, client.image_config(name, child.config_digest, child.layer_sizes)))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_it_reads_created_dates_for_every_kind_of_tag(emulator, registry, kind):
    name = KINDS[kind]
    client = registry(name)
    anchor = emulator.anchor
    configs = []
    for tag in tags_of(emulator, name):
        assert tag.manifest.kind == kind
        for child, config in facts_of_tag(client, name, tag.manifest):
            configs.append(config)
            assert config.created is not None and config.created.tzinfo is not None
            assert (anchor - config.created).days <= 731
            assert config.platform  # every seeded child of these repositories names one
            assert "org.opencontainers.image.version" in config.labels
            steps = [step for step in config.history if not step.empty_layer]
            if child is not None:
                assert child.size > sum(child.layer_sizes)  # the config counts too
                assert [s.size for s in steps] == list(child.layer_sizes)
            else:
                assert [s.size for s in steps] == [layer.size for layer in tag.manifest.layers]
    assert configs


def test_it_keeps_env_names_and_never_values(emulator, registry):
    client = registry("default/alpine")
    tag = tags_of(emulator, "default/alpine")[0]
    config = client.image_config("default/alpine", tag.manifest.config.digest)
    assert "PATH" in config.env_names
    assert not any("=" in name or "value-" in name for name in config.env_names)
    assert "value-" not in repr(config)
    assert all(step.size is None for step in config.history)  # no layer sizes were given


def test_it_reads_a_tag_digest_the_registry_agrees_with(emulator, registry):
    client = registry("team-a/web/frontend")
    tag = tags_of(emulator, "team-a/web/frontend")[0]
    digest = client.tag_digest("team-a/web/frontend", tag.name)
    assert digest.startswith("sha256:") and len(digest) == 71


def first_child(emulator, missing):
    """(name, digest) of a per-platform manifest the registry has lost, or still has."""
    for name in emulator.repositories:
        for tag in emulator.repositories.get(name)["tags"] or []:
            for entry in tag["manifest"].get("manifests") or []:
                if images.is_missing_manifest(entry["digest"]) == missing:
                    return name, entry["digest"]
    # The seed and its anchor are fixed (tests/conftest.py), so this is the same every run.
    pytest.fail("the seeded test data has no such manifest: see images.MISSING_MANIFESTS")


def test_it_says_not_found_for_a_platform_manifest_lost_to_garbage_collection(
    emulator, registry, caplog
):
    name, digest = first_child(emulator, missing=True)
    with pytest.raises(NotFound) as caught:
        registry(name).platform_manifest(name, digest)
    assert "garbage collection" in caught.value.message
    # The operator's log says the same, not the API's "repository not found, refresh the list".
    failed = [r.getMessage() for r in caplog.records if " failed: " in r.getMessage()]
    assert failed and all("garbage collection" in line for line in failed)
    assert not any("refresh the list" in line for line in failed)


def test_it_refuses_content_whose_digest_does_not_match(emulator, registry):
    name, digest = first_child(emulator, missing=False)
    body = '{"schemaVersion":2,"config":{"digest":"sha256:' + "0" * 64 + '","size":1}}'
    emulator.faults.add(path="/manifests/", status=200, body=body, content_type="application/json")
    with pytest.raises(ProtocolError) as caught:
        registry(name).platform_manifest(name, digest)
    assert "not what the Image Manager API names" in caught.value.message


def test_it_refuses_a_malformed_config_body(emulator, registry):
    tag = tags_of(emulator, "default/alpine")[0]
    emulator.faults.add(path="/blobs/", malformed=True)
    with pytest.raises(ProtocolError):
        registry("default/alpine").image_config("default/alpine", tag.manifest.config.digest)


def test_it_does_not_follow_a_redirect_to_another_host(emulator, registry):
    seen = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    other = http.server.HTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        tag = tags_of(emulator, "default/alpine")[0]
        emulator.faults.add(
            path="/blobs/", redirect=f"http://127.0.0.1:{other.server_address[1]}/blob"
        )
        with pytest.raises(ProtocolError) as caught:
            registry("default/alpine").image_config("default/alpine", tag.manifest.config.digest)
        assert "redirect" in caught.value.message
        assert seen == []
    finally:
        other.shutdown()
        other.server_close()


def test_it_is_forbidden_with_a_token_for_another_repository(emulator, registry_token):
    tag = tags_of(emulator, "default/alpine")[0]
    token = registry_token("team-a/orders-api")
    with RegistryClient(emulator.registry_url, token) as client, pytest.raises(Forbidden):
        client.image_config("default/alpine", tag.manifest.config.digest)


def test_it_is_forbidden_to_delete_with_a_pull_token(emulator, registry):
    name = "team-a/orders-api"
    before = tags_of(emulator, name)
    digest = registry(name).tag_digest(name, before[0].name)
    with pytest.raises(Forbidden):
        registry(name).delete_manifest(name, digest)
    assert [tag.name for tag in tags_of(emulator, name)] == [tag.name for tag in before]


def test_a_viewer_gets_no_delete_scope(emulator, registry):
    name = "team-a/orders-api"
    digest = registry(name).tag_digest(name, tags_of(emulator, name)[0].name)
    with pytest.raises(Forbidden):
        registry(name, scope=delete_scope, user="viewer").delete_manifest(name, digest)


def test_it_is_unauthorized_without_a_token(emulator):
    tag = tags_of(emulator, "default/alpine")[0]
    with RegistryClient(emulator.registry_url) as client, pytest.raises(Unauthorized):
        client.image_config("default/alpine", tag.manifest.config.digest)


def test_it_is_unauthorized_with_an_expired_token(emulator):
    now = int(time.time())
    claims = {"iss": REGISTRY_ISSUER, "sub": "admin", "aud": "token-service"}
    claims |= {"iat": now - 4000, "exp": now - 2000}
    claims["access"] = [{"type": "repository", "name": "default/alpine", "actions": ["pull"]}]
    expired = jwt.encode(claims, emulator.tokens.key, algorithm="RS256")
    tag = tags_of(emulator, "default/alpine")[0]
    with RegistryClient(emulator.registry_url, expired) as client, pytest.raises(Unauthorized):
        client.image_config("default/alpine", tag.manifest.config.digest)


def test_it_gives_up_on_a_slow_registry_at_the_deadline(emulator, registry):
    tag = tags_of(emulator, "default/alpine")[0]
    emulator.faults.add(path="^/v2/", latency=2)
    client = registry("default/alpine", call_deadline=0.5, get_retries=0)
    with pytest.raises(Unavailable):
        client.image_config("default/alpine", tag.manifest.config.digest)


def test_it_says_unavailable_when_the_registry_fails_or_resets(emulator, registry):
    tag = tags_of(emulator, "default/alpine")[0]
    client = registry("default/alpine", get_retries=0)
    emulator.faults.add(path="^/v2/", status=503, times=1)
    with pytest.raises(Unavailable):
        client.image_config("default/alpine", tag.manifest.config.digest)
    emulator.faults.add(path="^/v2/", reset=True, times=1)
    with pytest.raises(Unavailable):
        client.image_config("default/alpine", tag.manifest.config.digest)


def test_a_registry_fault_leaves_the_image_manager_api_alone(emulator, registry):
    emulator.faults.add(method="*", path="^/v2/", status=503)
    assert tags_of(emulator, "default/alpine")  # the API answers as before


def test_deleting_a_manifest_removes_every_tag_sharing_it(emulator, registry):
    name = "team-a/orders-api"
    repository = emulator.repositories.get(name)
    shared = repository["tags"][0]["manifest"]
    repository["tags"].append({"name": "stable", "manifest": shared})
    emulator.repositories.put(repository)
    client = registry(name, scope=lambda n: repository_scope(n, "pull,delete"))
    digest = client.tag_digest(name, "stable")
    before = [tag.name for tag in tags_of(emulator, name)]

    client.delete_manifest(name, digest)

    after = [tag.name for tag in tags_of(emulator, name)]
    assert after == [t for t in before if t not in ("stable", repository["tags"][0]["name"])]
    with pytest.raises(NotFound):
        client.delete_manifest(name, digest)


def test_a_repository_deleted_through_the_api_is_gone_from_the_registry(emulator, registry):
    client = registry("default/alpine")
    tag = tags_of(emulator, "default/alpine")[0]
    emulator.repositories.delete("default/alpine")
    with pytest.raises(NotFound):
        client.tag_digest("default/alpine", tag.name)


def test_a_delete_that_gets_no_answer_has_an_unknown_outcome(emulator, registry):
    name = "team-a/orders-api"
    client = registry(name, scope=lambda n: repository_scope(n, "pull,delete"), read_timeout=0.3)
    digest = client.tag_digest(name, tags_of(emulator, name)[0].name)
    emulator.faults.add(method="DELETE", path="^/v2/", latency=1.5)
    with pytest.raises(OutcomeUnknown):
        client.delete_manifest(name, digest)
    deletes = [r for r in emulator.requests if r.method == "DELETE"]
    assert len(deletes) == 1  # never retried


def test_it_checks_names_and_digests_before_any_call(emulator, registry):
    client = registry("default/alpine")
    emulator.requests.clear()
    with pytest.raises(InvalidRepositoryName):
        client.image_config("../etc", "sha256:" + "a" * 64)
    for digest in ("sha256:" + "A" * 64, "md5:abc", "", "sha256:" + "a" * 63, None):
        with pytest.raises(InvalidInput):
            client.image_config("default/alpine", digest)
        with pytest.raises(InvalidInput):
            client.delete_manifest("default/alpine", digest)
    with pytest.raises(InvalidInput):
        client.tag_digest("default/alpine", "../latest")
    assert list(emulator.requests) == []


def test_the_registry_token_is_never_logged_or_shown(emulator, registry_token, caplog):
    token = registry_token("default/alpine")
    caplog.set_level(logging.DEBUG)
    tag = tags_of(emulator, "default/alpine")[0]
    with RegistryClient(emulator.registry_url, token) as client:
        client.image_config("default/alpine", tag.manifest.config.digest)
        emulator.faults.add(path="^/v2/", status=401, body=f"bad token {token}", times=1)
        with pytest.raises(Unauthorized) as caught:
            client.image_config("default/alpine", tag.manifest.config.digest)
        shown = [repr(client), str(caught.value), repr(caught.value), caught.value.excerpt]
    assert caplog.records
    assert token not in caplog.text
    assert not any(token in text for text in shown)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("mycluster.icp:8500", "https://mycluster.icp:8500"),
        ("https://registry.example.com:5000/", "https://registry.example.com:5000"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://localhost:5000", "http://localhost:5000"),
    ],
)
def test_it_builds_the_registry_url(host, expected):
    assert registry_url("http://127.0.0.1:8443/image-manager/api/v1", host) == expected


def test_the_registry_of_a_tls_cluster_is_https_even_on_this_machine():
    api = "https://127.0.0.1:8443/image-manager/api/v1"
    assert registry_url(api, "127.0.0.1:8500") == "https://127.0.0.1:8500"


@pytest.mark.parametrize(
    "host", ["", "http://registry.example.com:5000", "ftp://x:1", "host:port", "a b:1", "h:1/x"]
)
def test_it_refuses_a_registry_address_that_would_send_the_token_astray(host):
    with pytest.raises(ConfigurationError):
        registry_url("https://master:8443/image-manager/api/v1", host)


def test_the_emulator_anchor_is_the_tests_fixed_date(emulator):
    assert emulator.anchor == datetime(2026, 1, 1, tzinfo=UTC)
