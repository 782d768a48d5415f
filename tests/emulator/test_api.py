"""The Image Manager API operations, over a real socket."""

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.emulator import client

BANNER = """IBM Cloud Private Image Management API.
The listener is working. Now try a valid endpoint
Available APIs:
GET /
GET /image-manager/api/v1
GET /image-manager/api/v1/auth/token
GET /image-manager/api/v1/repositories
GET /image-manager/api/v1/repositories/{repo:.*}
PUT /image-manager/api/v1/repositories/{repo:.*}
DELETE /image-manager/api/v1/repositories/{repo:.*}
"""


def assert_go_error(response, status, message):
    assert response.status_code == status
    assert response.text == message + "\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_it_serves_the_banner_as_plain_text(emulator, suffix):
    response = client.get(emulator.api_url + suffix)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == BANNER


def test_it_serves_the_banner_at_the_root_too(emulator):
    assert client.get(emulator.url + "/").text == BANNER


def test_the_banner_needs_no_token_and_refuses_other_methods(emulator):
    response = client.post(emulator.api_url)

    assert_go_error(response, 405, "Method Not Allowed")
    assert response.headers["Allow"] == "GET"


def test_it_lists_every_repository_for_a_cluster_administrator(emulator, bearer):
    response = client.get(emulator.api_url + "/repositories", headers=bearer("admin"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    repositories = response.json()["repositories"]
    assert [r["name"] for r in repositories] == emulator.repositories.names()
    assert len(repositories) == 60
    for repository in repositories:
        assert set(repository) == {"name", "owner", "scope", "tags"}
        assert repository == emulator.repositories.get(repository["name"])


def test_it_gets_a_repository_by_its_full_name_slashes_included(emulator, bearer):
    url = emulator.api_url + "/repositories/team-b/batch/jobs/report"

    response = client.get(url, headers=bearer("admin"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == emulator.repositories.get("team-b/batch/jobs/report")
    assert response.json()["owner"] == "team-b"


def test_it_answers_404_for_an_unknown_repository(emulator, bearer):
    response = client.get(emulator.api_url + "/repositories/default/nope", headers=bearer())

    assert_go_error(response, 404, "repository not found")


@pytest.mark.parametrize("name", ["", "default", "default/alpine/", "DEFAULT/ALPINE"])
def test_it_answers_404_for_names_that_are_not_repositories(emulator, bearer, name):
    response = client.get(emulator.api_url + "/repositories/" + name, headers=bearer())

    assert_go_error(response, 404, "repository not found")


def test_it_answers_404_for_unknown_paths(emulator, bearer):
    response = client.get(emulator.url + "/image-manager/api/v2/repositories", headers=bearer())

    assert_go_error(response, 404, "404 page not found")


def test_it_changes_the_scope_and_answers_ok(emulator, bearer):
    url = emulator.api_url + "/repositories/team-a/orders-api"
    assert emulator.repositories.get("team-a/orders-api")["scope"] == "namespace"
    before = client.get(emulator.api_url + "/repositories", headers=bearer()).json()

    response = client.put(url, json={"scope": "global"}, headers=bearer())

    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert emulator.repositories.get("team-a/orders-api")["scope"] == "global"
    assert client.get(url, headers=bearer()).json()["scope"] == "global"
    # The cached list body is dropped on change, and nothing else moved.
    after = client.get(emulator.api_url + "/repositories", headers=bearer()).json()
    pairs = zip(after["repositories"], before["repositories"], strict=True)
    changed = [(old, new) for new, old in pairs if new != old]
    assert len(changed) == 1
    old, new = changed[0]
    assert new == {**old, "scope": "global"}
    assert old["name"] == "team-a/orders-api"


def test_it_changes_the_scope_back_to_namespace(emulator, bearer):
    url = emulator.api_url + "/repositories/default/alpine"

    response = client.put(url, data='{"scope": "namespace"}', headers=bearer())

    assert response.status_code == 200
    assert emulator.repositories.get("default/alpine")["scope"] == "namespace"


@pytest.mark.parametrize("body", ["{", "not json", ""])
def test_it_answers_400_to_a_body_that_is_not_json(emulator, bearer, body):
    url = emulator.api_url + "/repositories/team-a/orders-api"

    response = client.put(url, data=body, headers=bearer())

    assert_go_error(response, 400, "invalid request body: not JSON")
    assert emulator.repositories.get("team-a/orders-api")["scope"] == "namespace"


@pytest.mark.parametrize(
    "body", ['{"scope": "public"}', "{}", "[]", '"global"', '{"scope": null}', '{"scope": 1}']
)
def test_it_answers_400_to_a_bad_scope(emulator, bearer, body):
    url = emulator.api_url + "/repositories/team-a/orders-api"

    response = client.put(url, data=body, headers=bearer())

    assert_go_error(response, 400, 'invalid scope: must be "global" or "namespace"')
    assert emulator.repositories.get("team-a/orders-api")["scope"] == "namespace"


def test_it_answers_404_to_a_scope_change_of_an_unknown_repository(emulator, bearer):
    url = emulator.api_url + "/repositories/team-a/nope"

    response = client.put(url, json={"scope": "global"}, headers=bearer())

    assert_go_error(response, 404, "repository not found")


def test_it_deletes_the_repository_with_every_tag(emulator, bearer):
    url = emulator.api_url + "/repositories/team-a/ci/runner"
    assert len(emulator.repositories.get("team-a/ci/runner")["tags"]) == 40

    response = client.delete(url, headers=bearer())

    assert response.status_code == 200
    assert response.content == b""
    assert "Content-Type" not in response.headers
    assert emulator.repositories.get("team-a/ci/runner") is None
    assert client.get(url, headers=bearer()).status_code == 404
    listed = client.get(emulator.api_url + "/repositories", headers=bearer()).json()
    assert "team-a/ci/runner" not in {r["name"] for r in listed["repositories"]}
    assert len(listed["repositories"]) == 59


def test_it_answers_404_to_deleting_twice(emulator, bearer):
    url = emulator.api_url + "/repositories/default/busybox"
    assert client.delete(url, headers=bearer()).status_code == 200

    response = client.delete(url, headers=bearer())

    assert_go_error(response, 404, "repository not found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/repositories/default/alpine", "GET, PUT, DELETE"),
        ("PATCH", "/repositories/default/alpine", "GET, PUT, DELETE"),
        ("DELETE", "/repositories", "GET"),
        ("POST", "/auth/token", "GET"),
    ],
)
def test_it_answers_405_to_other_methods(emulator, bearer, method, path, allow):
    response = client.request(method, emulator.api_url + path, headers=bearer())

    assert_go_error(response, 405, "Method Not Allowed")
    assert response.headers["Allow"] == allow


def test_it_keeps_the_connection_alive_across_requests(emulator, bearer):
    with requests.Session() as session:
        session.headers.update(bearer("admin"))
        for _ in range(5):
            assert session.get(emulator.api_url + "/repositories").status_code == 200
        url = emulator.api_url + "/repositories/default/alpine"
        assert session.put(url, json={"scope": "namespace"}).text == "OK"
        assert session.get(url).json()["scope"] == "namespace"
        assert session.delete(url).status_code == 200
        assert session.get(url).status_code == 404


def test_it_serves_many_concurrent_requests(emulator, bearer):
    headers = bearer("viewer")

    def fetch(_):
        return client.get(emulator.api_url + "/repositories", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(fetch, range(48)))

    assert statuses == [200] * 48


def test_the_list_body_is_reused_until_something_changes(emulator):
    store = emulator.repositories
    first = store.list_body()

    assert store.list_body() is first
    store.set_scope("default/alpine", "namespace")
    assert store.list_body() is not first
    assert store.list_body(frozenset({"team-a"})) is store.list_body(frozenset({"team-a"}))


def test_an_unknown_method_reaches_the_router(emulator, bearer):
    response = client.request("BREW", emulator.api_url + "/repositories", headers=bearer())

    assert_go_error(response, 405, "Method Not Allowed")


def test_a_request_http_cannot_parse_is_answered_in_plain_text(emulator):
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(b"GET /image-manager/api/v1 HTTP/9.9\r\n\r\n")
        answer = b""
        while data := sock.recv(4096):
            answer += data
        answer = answer.decode()

    assert answer.startswith("HTTP/1.1 505 HTTP Version Not Supported\r\n")
    assert answer.endswith("\r\n\r\n505 HTTP Version Not Supported\n")


def test_reset_restores_users_and_their_roles(emulator, bearer):
    emulator.users["viewer"].roles["kube-system"] = "Viewer"
    del emulator.users["editor"]

    emulator.reset()

    assert emulator.users["viewer"].roles == {"team-a": "Viewer", "team-b": "Viewer"}
    assert "editor" in emulator.users
