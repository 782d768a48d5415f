"""Fault injection: every knob, matching rules, and the request log that counts retries."""

import json
import socket
import time

import pytest
import requests

from imgdash.emulator.faults import Fault, FaultSpecError
from tests.emulator import client

LIST = "/image-manager/api/v1/repositories"


def raw_request(emulator, path, authorization, method="GET"):
    """Send one request on a bare socket and read until the server closes it."""
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: {emulator.host}\r\n"
            f"Authorization: {authorization}\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return head.decode(), body


def content_length(head):
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return int(value)
    return None


def test_latency_delays_the_answer(emulator, bearer):
    emulator.faults.add(path=LIST + "$", latency=0.3)
    started = time.monotonic()

    response = client.get(emulator.url + LIST, headers=bearer())

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert len(response.json()["repositories"]) == 60


def test_latency_combines_with_a_status(emulator, bearer):
    emulator.faults.add(path=LIST, latency=0.2, status=504)
    started = time.monotonic()

    response = client.get(emulator.url + LIST, headers=bearer())

    assert time.monotonic() - started >= 0.2
    assert response.status_code == 504


def test_a_status_without_a_body_answers_like_go(emulator, bearer):
    emulator.faults.add(path=LIST, status=503)

    response = client.get(emulator.url + LIST, headers=bearer())

    assert response.status_code == 503
    assert response.text == "Service Unavailable\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_status_with_a_body_and_content_type(emulator, bearer):
    emulator.faults.add(
        path=LIST, status=500, body='{"error": "registry down"}', content_type="application/json"
    )

    response = client.get(emulator.url + LIST, headers=bearer())

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "registry down"}


def test_a_status_with_an_empty_body(emulator, bearer):
    emulator.faults.add(path=LIST, status=502, body="")

    response = client.get(emulator.url + LIST, headers=bearer())

    assert response.status_code == 502
    assert response.content == b""


def test_reset_closes_the_connection_with_a_tcp_rst_and_sends_nothing(emulator, bearer):
    emulator.faults.add(path=LIST, reset=True)

    with pytest.raises(ConnectionResetError):
        raw_request(emulator, LIST, bearer()["Authorization"])


def test_reset_reaches_a_requests_client_as_a_connection_error(emulator, bearer):
    emulator.faults.add(path=LIST, reset=True)

    with pytest.raises(requests.ConnectionError):
        client.get(emulator.url + LIST, headers=bearer())


def test_truncate_promises_the_whole_body_then_hangs_up(emulator, bearer):
    full = emulator.repositories.list_body()
    emulator.faults.add(path=LIST, truncate=True)

    head, body = raw_request(emulator, LIST, bearer()["Authorization"])

    assert head.startswith("HTTP/1.1 200 OK")
    assert content_length(head) == len(full)
    assert 0 < len(body) < len(full)
    assert full.startswith(body)


def test_truncate_reaches_a_requests_client_as_a_broken_read(emulator, bearer):
    emulator.faults.add(path=LIST, truncate=True)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        client.get(emulator.url + LIST, headers=bearer())


def test_truncate_of_an_empty_answer_still_promises_more(emulator, bearer):
    emulator.faults.add(method="DELETE", path="/default/alpine$", truncate=True)
    path = LIST + "/default/alpine"

    head, body = raw_request(emulator, path, bearer()["Authorization"], method="DELETE")

    assert head.startswith("HTTP/1.1 200 OK")
    assert content_length(head) > 0
    assert body == b""
    # The operation itself happened: the answer was lost on the way.
    assert emulator.repositories.get("default/alpine") is None


def test_drip_sends_the_headers_then_the_body_a_byte_at_a_time(emulator, bearer):
    emulator.faults.add(path=LIST, status=200, body='{"repositories": []}', drip=0.02)
    started = time.monotonic()
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(f"GET {LIST} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
        body = b""
        while len(body) < len('{"repositories": []}'):
            body += sock.recv(65536)

    assert body == b'{"repositories": []}'
    # Nothing faster than one byte per pause.
    assert time.monotonic() - started >= 0.02 * len(body)


def test_a_dripped_body_stops_when_the_client_hangs_up(emulator, bearer):
    emulator.faults.add(path=LIST, drip=0.01)
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(f"GET {LIST} HTTP/1.1\r\nHost: x\r\n{_auth(bearer)}\r\n".encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")

    assert emulator.wait_idle(timeout=5)


def test_rate_sends_the_whole_answer_paced(emulator, bearer):
    expected = client.get(emulator.url + LIST, headers=bearer()).content
    emulator.faults.add(path=LIST, rate=len(expected) * 2)
    head, body = raw_request(emulator, LIST, bearer()["Authorization"])

    assert head.startswith("HTTP/1.1 200 OK")
    assert content_length(head) == len(expected)
    assert body == expected


def _auth(bearer):
    return f"Authorization: {bearer()['Authorization']}\r\n"


def test_malformed_answers_invalid_json(emulator, bearer):
    emulator.faults.add(path=LIST, malformed=True)

    response = client.get(emulator.url + LIST, headers=bearer())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(response.content)


def test_oversize_answers_exactly_that_many_bytes_of_json(emulator, bearer):
    emulator.faults.add(path=LIST, oversize=3_000_000)

    response = client.get(emulator.url + LIST, headers=bearer())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == 3_000_000
    assert len(response.content) == 3_000_000
    assert response.json()["repositories"] == []


def test_an_oversize_body_can_be_abandoned_by_the_client(emulator, bearer):
    emulator.faults.add(path=LIST, oversize=50_000_000, times=1)

    with client.get(emulator.url + LIST, headers=bearer(), stream=True) as response:
        assert next(response.iter_content(65536))
    # The server thread shrugs off the hang-up and keeps serving.
    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 200


def test_redirect_answers_302_with_the_location(emulator, bearer):
    emulator.faults.add(path=LIST, redirect="https://evil.example/steal")

    response = client.get(emulator.url + LIST, headers=bearer(), allow_redirects=False)

    assert response.status_code == 302
    assert response.headers["Location"] == "https://evil.example/steal"


def test_times_limits_a_fault_to_the_next_requests(emulator, bearer):
    emulator.faults.add(path=LIST + "$", status=503, times=2)

    statuses = [client.get(emulator.url + LIST, headers=bearer()).status_code for _ in range(4)]

    assert statuses == [503, 503, 200, 200]
    assert len(emulator.faults) == 0


def test_a_fault_matches_only_its_method(emulator, bearer):
    emulator.faults.add(method="PUT", path="/repositories/", status=500)
    url = emulator.url + LIST + "/default/alpine"

    assert client.get(url, headers=bearer()).status_code == 200
    assert client.put(url, json={"scope": "global"}, headers=bearer()).status_code == 500
    assert client.delete(url, headers=bearer()).status_code == 200


def test_method_star_matches_every_method(emulator, bearer):
    emulator.faults.add(method="*", path="/repositories/team-a/", status=500)
    url = emulator.url + LIST + "/team-a/orders-api"

    assert client.get(url, headers=bearer()).status_code == 500
    assert client.put(url, json={"scope": "global"}, headers=bearer()).status_code == 500
    assert client.delete(url, headers=bearer()).status_code == 500
    assert client.get(emulator.url + LIST + "/team-b/payments", headers=bearer()).ok


def test_the_path_regex_is_searched_in_the_full_path(emulator, bearer):
    emulator.faults.add(path=r"/repositories/team-a/.+", status=500)

    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 200
    assert (
        client.get(emulator.url + LIST + "/team-a/tools/builder", headers=bearer()).status_code
        == 500
    )
    assert client.get(emulator.url + LIST + "/default/alpine", headers=bearer()).status_code == 200


def test_the_first_matching_fault_wins_and_clear_removes_all(emulator, bearer):
    emulator.faults.add(path=LIST, status=502, times=1)
    emulator.faults.add(path=LIST, status=503)

    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 502
    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 503
    emulator.faults.clear()
    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 200


def test_faults_also_hit_the_identity_provider(emulator):
    emulator.faults.add(method="POST", path="/identitytoken$", status=500)

    response = client.post(
        emulator.url + "/idprovider/v1/auth/identitytoken",
        data={"grant_type": "password", "username": "admin", "password": "admin"},
    )

    assert response.status_code == 500


def test_reset_clears_faults(emulator, bearer):
    emulator.faults.add(path=LIST, status=500)

    emulator.reset()

    assert client.get(emulator.url + LIST, headers=bearer()).status_code == 200


def test_faults_given_at_start_are_active(start_emulator):
    emulator = start_emulator(faults=[{"path": "/repositories$", "status": 503, "times": 1}])
    headers = {"Authorization": "Bearer " + emulator.issue_id_token("admin")}

    assert client.get(emulator.url + LIST, headers=headers).status_code == 503
    assert client.get(emulator.url + LIST, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"path": "("},
        {"status": 99},
        {"status": "500"},
        {"latency": -1},
        {"oversize": 0},
        {"times": 0},
        {"reset": "yes"},
        {"status": 500, "reset": True},
        {"malformed": True, "redirect": "/x"},
        {"drip": 0},
        {"drip": "1"},
        {"drip": 0.1, "truncate": True},
        {"rate": 10},
        {"rate": 4096, "drip": 0.1},
        {"colour": "red"},
        [],
    ],
)
def test_a_bad_fault_spec_is_refused_with_a_reason(spec):
    with pytest.raises(FaultSpecError):
        Fault.from_spec(spec)


# -- the request log ------------------------------------------------------------------


def test_every_request_is_logged_in_order_faulted_ones_included(emulator, bearer):
    emulator.faults.add(path=LIST + "$", status=503, times=2)
    headers = bearer("viewer")
    for _ in range(3):
        client.get(emulator.url + LIST, headers=headers, params={"q": ["a", "b"]})
    client.put(
        emulator.url + LIST + "/team-a/orders-api", json={"scope": "global"}, headers=headers
    )

    log = list(emulator.requests)

    assert [(entry.method, entry.path) for entry in log] == [
        ("GET", LIST),
        ("GET", LIST),
        ("GET", LIST),
        ("PUT", LIST + "/team-a/orders-api"),
    ]
    assert log[0].query == {"q": ["a", "b"]}
    assert log[3].body == b'{"scope": "global"}'
    assert all(entry.username == "viewer" for entry in log)
    assert all("Authorization" not in entry.headers for entry in log)
    assert len(emulator.requests.matching(method="GET", path=LIST)) == 3


def test_a_reset_connection_is_still_logged(emulator, bearer):
    emulator.faults.add(path=LIST, reset=True)

    with pytest.raises(requests.ConnectionError):
        client.get(emulator.url + LIST, headers=bearer())

    assert len(emulator.requests) == 1


def test_the_log_records_basic_users_and_clears(emulator):
    client.get(emulator.api_url + "/auth/token", auth=("editor", "wrong"))

    assert emulator.requests[0].username == "editor"
    emulator.requests.clear()
    assert len(emulator.requests) == 0


def test_reset_empties_the_request_log(emulator):
    client.get(emulator.api_url)

    emulator.reset()

    assert list(emulator.requests) == []
