"""The /_emulator/ control endpoint: on only when asked for."""

import jwt
import pytest

from tests.emulator import client

LIST = "/image-manager/api/v1/repositories"


def test_it_adds_lists_and_clears_faults(emulator, bearer):
    control = emulator.url + "/_emulator/faults"

    added = client.post(control, json={"method": "GET", "path": "/repositories$", "status": 503})

    assert added.status_code == 201
    fault = added.json()["fault"]
    assert fault["status"] == 503
    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 503
    assert [f["id"] for f in client.get(control).json()["faults"]] == [fault["id"]]
    assert client.delete(control).json() == {"cleared": 1}
    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 200


def test_it_adds_several_faults_at_once_and_removes_one_by_id(emulator):
    control = emulator.url + "/_emulator/faults"

    added = client.post(control, json=[{"path": "a", "status": 500}, {"path": "b", "reset": True}])

    first, second = added.json()["faults"]
    assert client.delete(f"{control}/{first['id']}").status_code == 200
    assert [f.id for f in emulator.faults] == [second["id"]]
    assert client.delete(f"{control}/{first['id']}").status_code == 404


@pytest.mark.parametrize("body", ['{"status": 99}', '{"colour": "red"}', "{", '"x"'])
def test_it_refuses_a_bad_fault_with_a_reason(emulator, body):
    response = client.post(emulator.url + "/_emulator/faults", data=body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert len(emulator.faults) == 0


def test_it_resets_the_repositories(emulator, bearer):
    client.delete(emulator.url + LIST + "/default/alpine", headers=bearer())
    emulator.faults.add(path=LIST, status=500)

    response = client.post(emulator.url + "/_emulator/reset")

    assert response.json() == {"reset": True, "repositories": 60}
    assert emulator.repositories.get("default/alpine") is not None
    assert len(emulator.faults) == 0


def test_it_shows_and_clears_the_request_log(emulator, bearer):
    client.get(emulator.url + LIST, headers=bearer("viewer"))

    logged = client.get(emulator.url + "/_emulator/requests").json()["requests"]

    assert [(r["method"], r["path"], r["username"]) for r in logged] == [("GET", LIST, "viewer")]
    client.delete(emulator.url + "/_emulator/requests")
    assert len(emulator.requests) == 0


def test_it_mints_id_tokens(emulator):
    response = client.post(emulator.url + "/_emulator/tokens", json={"username": "editor"})

    token = response.json()["id_token"]
    claims = jwt.decode(token, emulator.tokens.public_key, algorithms=["RS256"])
    assert claims["sub"] == "editor"
    unknown = client.post(emulator.url + "/_emulator/tokens", json={"username": "ghost"})
    assert unknown.status_code == 400


def test_control_requests_are_neither_logged_nor_faulted(emulator):
    emulator.faults.add(method="*", path="", status=500)

    assert client.get(emulator.url + "/_emulator/faults").status_code == 200
    assert client.get(emulator.url + "/_emulator/").json()["endpoints"]
    assert len(emulator.requests) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_emulator/"),
        ("GET", "/_emulator/faults"),
        ("POST", "/_emulator/faults"),
        ("DELETE", "/_emulator/faults"),
        ("POST", "/_emulator/reset"),
        ("GET", "/_emulator/requests"),
        ("POST", "/_emulator/tokens"),
    ],
)
def test_without_control_the_endpoint_does_not_exist(control_off, method, path):
    response = client.request(
        method, control_off.url + path, json={"path": "", "status": 500, "username": "admin"}
    )

    assert response.status_code == 404
    assert response.text == "404 page not found\n"
    assert len(control_off.faults) == 0


@pytest.fixture(scope="module")
def control_off():
    from imgdash.emulator.server import EmulatorServer

    with EmulatorServer(repos=5) as server:
        yield server


def test_control_is_off_by_default(control_off):
    assert control_off.control is False
    # Requests to the would-be control path are ordinary requests: logged like any other.
    client.get(control_off.url + "/_emulator/faults")
    assert control_off.requests.matching(path="/_emulator/faults")
