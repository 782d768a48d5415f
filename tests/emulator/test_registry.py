"""The emulator's registry v2 API: auth, content that agrees with the API, deletes, faults."""

import hashlib
import time
from datetime import UTC, datetime, timedelta

import jwt
import orjson
import pytest
import requests

from imgdash.emulator import images
from imgdash.emulator.seed import generate_repositories
from imgdash.emulator.tokens import REGISTRY_ISSUER

ANCHOR = datetime(2025, 6, 1, tzinfo=UTC)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def pull(emulator, bearer):
    """pull(name, actions="pull", user="admin"): headers carrying a token from /auth/token."""

    def headers(name, actions="pull", user="admin"):
        answer = requests.get(
            emulator.api_url + "/auth/token",
            params={"service": "token-service", "scope": f"repository:{name}:{actions}"},
            headers=bearer(user),
            timeout=5,
        )
        return {"Authorization": "Bearer " + answer.json()["token"]}

    return headers


def get(emulator, path, headers, method="GET"):
    return requests.request(method, emulator.registry_url + path, headers=headers, timeout=5)


def test_the_base_endpoint_asks_for_a_token_from_the_api(emulator, pull):
    answer = get(emulator, "/v2/", {})
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge == (f'Bearer realm="{emulator.api_url}/auth/token",service="token-service"')
    assert answer.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert get(emulator, "/v2/", pull("default/alpine")).status_code == 200


def test_it_refuses_tokens_it_did_not_issue_or_that_expired(emulator):
    now = int(time.time())
    claims = {"iss": REGISTRY_ISSUER, "sub": "admin", "aud": "token-service", "iat": now}
    claims["access"] = [{"type": "repository", "name": "default/alpine", "actions": ["pull"]}]
    expired = jwt.encode({**claims, "exp": now - 10}, emulator.tokens.key, algorithm="RS256")
    other_key = jwt.encode({**claims, "exp": now + 600}, images_key(), algorithm="RS256")
    id_token = emulator.issue_id_token("admin")  # an ID token is not a registry token
    for token in (expired, other_key, id_token, "garbage"):
        answer = get(
            emulator, "/v2/default/alpine/manifests/latest", {"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 401
        assert 'scope="repository:default/alpine:pull"' in answer.headers["WWW-Authenticate"]


def images_key():
    from imgdash.emulator.tokens import generate_key

    return generate_key()


def test_it_checks_the_action_per_repository(emulator, pull):
    assert get(
        emulator, "/v2/default/alpine/manifests/latest", pull("team-a/orders-api")
    ).json() == {
        "errors": [
            {
                "code": "DENIED",
                "message": "requested access to the resource is denied: pull default/alpine",
                "detail": None,
            }
        ]
    }
    digest = sha256(
        orjson.dumps(emulator.repositories.get("default/alpine")["tags"][0]["manifest"])
    )
    answer = get(
        emulator, f"/v2/default/alpine/manifests/{digest}", pull("default/alpine"), "DELETE"
    )
    assert answer.status_code == 403
    assert len(emulator.repositories.get("default/alpine")["tags"]) == 4


def test_every_manifest_and_config_the_api_names_is_served_with_that_digest(emulator, pull):
    """The whole seeded showcase: what the API embeds, the registry serves byte for byte."""
    missing = {"manifest": 0, "config": 0, "no platform": 0}
    served = {"manifest": 0, "config": 0}
    for name in emulator.repositories:
        headers = pull(name)
        for tag in emulator.repositories.get(name)["tags"] or []:
            manifest = tag["manifest"]
            answer = get(emulator, f"/v2/{name}/manifests/{tag['name']}", headers)
            assert answer.status_code == 200
            assert answer.headers["Docker-Content-Digest"] == sha256(answer.content)
            assert orjson.loads(answer.content) == manifest
            if manifest.get("mediaType"):
                assert answer.headers["Content-Type"] == manifest["mediaType"]
            configs = [manifest["config"]] if "config" in manifest else []
            for entry in manifest.get("manifests") or []:
                missing["no platform"] += "platform" not in entry
                child = get(emulator, f"/v2/{name}/manifests/{entry['digest']}", headers)
                if images.is_missing_manifest(entry["digest"]):
                    assert child.status_code == 404
                    assert child.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
                    missing["manifest"] += 1
                    continue
                assert child.status_code == 200, (name, tag["name"])
                assert sha256(child.content) == entry["digest"]
                assert len(child.content) == entry["size"]
                assert child.headers["Content-Type"] == entry["mediaType"]
                served["manifest"] += 1
                configs.append(child.json()["config"])
            for config in configs:
                blob = get(emulator, f"/v2/{name}/blobs/{config['digest']}", headers)
                if images.is_missing_config(config["digest"]):
                    assert blob.status_code == 404
                    assert blob.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
                    missing["config"] += 1
                    continue
                assert blob.status_code == 200, (name, tag["name"])
                assert sha256(blob.content) == config["digest"]
                assert len(blob.content) == config["size"]
                served["config"] += 1
    print(f"served {served}, missing {missing}")
    assert served["manifest"] and served["config"] > 100
    assert missing["manifest"] and missing["config"] and missing["no platform"]


def test_seeded_configs_carry_dates_platforms_and_history_that_match_the_layers():
    repositories = generate_repositories(60, seed=7, anchor=ANCHOR)
    seen = 0
    for repository in repositories:
        name = repository["name"]
        for tag in repository["tags"] or []:
            manifest = tag["manifest"]
            if "layers" not in manifest:
                continue
            layers = [layer["digest"] for layer in manifest["layers"]]
            platform = images.single_arch_platform(name)
            blob = images.config_bytes(name, tag["name"], platform, layers, ANCHOR)
            assert sha256(blob) == manifest["config"]["digest"]
            config = orjson.loads(blob)
            created = datetime.fromisoformat(config["created"][:26] + "+00:00")
            assert ANCHOR - timedelta(days=731) <= created <= ANCHOR
            assert config["architecture"] and config["os"]
            steps = [step for step in config["history"] if not step.get("empty_layer")]
            assert len(steps) == len(layers) == len(config["rootfs"]["diff_ids"])
            assert all("=" in entry for entry in config["config"]["Env"])
            seen += 1
    assert seen > 50


def test_created_dates_spread_over_two_years():
    repositories = generate_repositories(400, seed=3, anchor=ANCHOR)
    ages = [
        (ANCHOR - images.created_at(r["name"], tag["name"], ANCHOR)).days
        for r in repositories
        for tag in r["tags"] or []
    ]
    assert min(ages) < 60 and max(ages) > 600 and max(ages) <= 730


def test_the_seed_is_deterministic_and_a_smaller_seed_is_a_prefix():
    small = generate_repositories(40, seed=7, anchor=ANCHOR)
    assert small == generate_repositories(40, seed=7, anchor=ANCHOR)
    assert generate_repositories(120, seed=7, anchor=ANCHOR)[:40] == small
    other_day = generate_repositories(40, seed=7, anchor=ANCHOR + timedelta(days=1))
    assert other_day[0]["name"] == small[0]["name"]
    assert other_day[0]["tags"][0]["manifest"] != small[0]["tags"][0]["manifest"]


def test_delete_by_digest_removes_every_tag_with_that_manifest(emulator, pull, bearer):
    name = "team-a/orders-api"
    repository = emulator.repositories.get(name)
    first = repository["tags"][0]
    repository["tags"].append({"name": "stable", "manifest": first["manifest"]})
    emulator.repositories.put(repository)
    digest = sha256(orjson.dumps(first["manifest"]))

    answer = get(emulator, f"/v2/{name}/manifests/{digest}", pull(name, "pull,delete"), "DELETE")

    assert answer.status_code == 202
    api = requests.get(
        f"{emulator.api_url}/repositories/{name}", headers=bearer(), timeout=5
    ).json()
    names = [tag["name"] for tag in api["tags"]]
    assert first["name"] not in names and "stable" not in names
    assert len(names) == len(repository["tags"]) - 2
    gone = get(emulator, f"/v2/{name}/manifests/stable", pull(name))
    assert gone.status_code == 404


def test_deleting_by_tag_is_not_supported(emulator, pull):
    name = "team-a/orders-api"
    tag = emulator.repositories.get(name)["tags"][0]["name"]
    answer = get(emulator, f"/v2/{name}/manifests/{tag}", pull(name, "pull,delete"), "DELETE")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_an_unknown_repository_is_name_unknown(emulator, pull):
    answer = get(emulator, "/v2/team-a/nothing-here/manifests/latest", pull("team-a/nothing-here"))
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_control_endpoint_faults_reach_the_registry(emulator, pull):
    headers = pull("default/alpine")
    fault = {"method": "*", "path": "^/v2/", "status": 503, "times": 1}
    assert requests.post(emulator.url + "/_emulator/faults", json=fault, timeout=5).ok
    assert get(emulator, "/v2/", headers).status_code == 503
    assert get(emulator, "/v2/", headers).status_code == 200
    requests.post(
        emulator.url + "/_emulator/faults", json={"path": "^/v2/", "reset": True}, timeout=5
    )
    with pytest.raises(requests.ConnectionError):
        get(emulator, "/v2/", headers)


def test_the_anchor_survives_a_restart_from_the_state_file(start_emulator, tmp_path):
    state = tmp_path / "state.json"
    first = start_emulator(state_file=state, registry_port=0, anchor=ANCHOR)
    digest = first.repositories.get("default/alpine")["tags"][0]["manifest"]["config"]["digest"]
    first.stop()
    again = start_emulator(state_file=state, registry_port=0)
    assert again.anchor == ANCHOR
    token = again.tokens.issue_registry_token(
        again.users["admin"],
        "token-service",
        [{"type": "repository", "name": "default/alpine", "actions": ["pull"]}],
    )["token"]
    blob = requests.get(
        f"{again.registry_url}/v2/default/alpine/blobs/{digest}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert blob.status_code == 200 and sha256(blob.content) == digest
