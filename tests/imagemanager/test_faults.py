"""The fault matrix: every failure, for GET, PUT and DELETE, over a real socket.

For each fault and method the test checks the error type, the actionable words of the
message, and, from the emulator's request log, how many times the request was sent: GETs
retry on connection errors and 502/503/504, PUT and DELETE never do.
"""

import http.server
import logging
import socket
import threading
import time

import pytest
import requests
from urllib3.exceptions import ConnectTimeoutError

from imgdash.imagemanager import (
    BadRequest,
    ClientError,
    Forbidden,
    ImageManagerClient,
    NotFound,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from imgdash.imagemanager.failures import Call, transport_error
from imgdash.imagemanager.retries import worth_retrying

NAME = "team-a/orders-api"
PATH = "/image-manager/api/v1/repositories/" + NAME
READ_TIMEOUT = 0.25
CAP = 1_000_000

CALLS = {
    "GET": lambda client: client.get_repository(NAME),
    "PUT": lambda client: client.set_scope(NAME, "global"),
    "DELETE": lambda client: client.delete_repository(NAME),
}
OPERATIONS = {"GET": "get repository", "PUT": "set scope", "DELETE": "delete repository"}
REFUSED_ACTIONS = {
    "GET": "view images",
    "PUT": "change the scope of images",
    "DELETE": "delete images",
}

UNKNOWN = "may or may not have been applied — refresh to check"


def each(error, words, sent=1):
    return {method: (error, words, sent) for method in CALLS}


def get_and_mutations(get, mutations):
    return {"GET": get, "PUT": mutations, "DELETE": mutations}


# fault id -> (fault knobs, {method: (error type, words in the message, requests sent)})
MATRIX = {
    "timeout": (
        {"latency": 0.7, "status": 500},
        get_and_mutations(
            (Unavailable, f"did not answer within {READ_TIMEOUT:g} s", 1),
            (OutcomeUnknown, f"no answer came within {READ_TIMEOUT:g} s; it {UNKNOWN}", 1),
        ),
    ),
    "reset": (
        {"reset": True},
        get_and_mutations(
            (Unavailable, "broke before a complete answer came", 3),
            (OutcomeUnknown, f"the connection was cut); it {UNKNOWN}", 1),
        ),
    ),
    "truncated": (
        {"truncate": True},
        get_and_mutations(
            (Unavailable, "broke before a complete answer came", 1),
            (OutcomeUnknown, UNKNOWN, 1),
        ),
    ),
    "400": (
        {"status": 400, "body": "invalid request body: not JSON"},
        each(BadRequest, 'as invalid (HTTP 400). The cluster said: "invalid request body'),
    ),
    "401": ({"status": 401}, each(Unauthorized, "Reconnect to this cluster with a fresh token")),
    "403": (
        {"status": 403, "body": "Forbidden: viewer (Viewer in team-a) may not delete"},
        {
            method: (
                Forbidden,
                f"The cluster refused: your role in namespace team-a cannot {action}",
                1,
            )
            for method, action in REFUSED_ACTIONS.items()
        },
    ),
    "404": ({"status": 404}, each(NotFound, f"Repository {NAME} was not found")),
    "409": ({"status": 409}, each(ClientError, "conflict (HTTP 409); refresh and try again")),
    "429": ({"status": 429}, each(RateLimited, "rate-limiting requests (HTTP 429)")),
    "500": ({"status": 500}, each(Unavailable, "failed to")),
    "502": (
        {"status": 502},
        get_and_mutations(
            (Unavailable, "unavailable (HTTP 502 after 3 attempts)", 3),
            (Unavailable, "unavailable (HTTP 502)", 1),
        ),
    ),
    "503": (
        {"status": 503, "body": "<html><body><h1>503 Service Unavailable</h1></body></html>"},
        get_and_mutations(
            (Unavailable, "unavailable (HTTP 503 after 3 attempts)", 3),
            (Unavailable, "most likely not applied", 1),
        ),
    ),
    "504": (
        {"status": 504},
        get_and_mutations(
            (Unavailable, "unavailable (HTTP 504 after 3 attempts)", 3),
            (Unavailable, "unavailable (HTTP 504)", 1),
        ),
    ),
    "malformed JSON": (
        {"malformed": True},
        get_and_mutations(
            (ProtocolError, "is not valid JSON", 1),
            (ProtocolError, "with invalid JSON instead of the API's confirmation", 1),
        ),
    ),
    "wrong content type": (
        {
            "status": 200,
            "content_type": "text/html; charset=utf-8",
            "body": "<html><title>Log in</title><form>user</form></html>",
        },
        get_and_mutations(
            (ProtocolError, "with text/html instead of JSON: check the cluster's API URL", 1),
            (ProtocolError, "with a web page (text/html) instead of the API's confirmation", 1),
        ),
    ),
    "oversized body": (
        {"oversize": 2 * CAP},
        get_and_mutations(
            (ProtocolError, f"larger than the response size limit of {CAP:,} bytes", 1),
            (ProtocolError, "unexpectedly large body (2,000,000 bytes)", 1),
        ),
    ),
    "redirect": (
        {"redirect": "{origin}/console/login?next=/x"},
        each(ProtocolError, "redirect (HTTP 302 to {origin}/console/login) instead of an API"),
    ),
}


def matrix_cases():
    for fault_id, (knobs, expected) in MATRIX.items():
        for method in CALLS:
            yield pytest.param(method, knobs, *expected[method], id=f"{fault_id}-{method}")


def make_client(emulator, read_timeout=5.0):
    return ImageManagerClient(
        emulator.api_url,
        emulator.issue_id_token("admin"),
        read_timeout=read_timeout,
        max_response_bytes=CAP,
        get_retries=2,
        backoff=0.01,
    )


@pytest.fixture
def client(emulator):
    with make_client(emulator) as client:
        yield client


@pytest.mark.parametrize(("method", "knobs", "error", "words", "sent"), list(matrix_cases()))
def test_fault_matrix(emulator, method, knobs, error, words, sent):
    origin = emulator.url
    knobs = {k: v.format(origin=origin) if isinstance(v, str) else v for k, v in knobs.items()}
    words = words.format(origin=origin)
    emulator.faults.add(method=method, path=PATH + "$", **knobs)
    # A short read timeout only where the fault is a delay: on a busy machine the other
    # faults must not turn into timeouts.
    client = make_client(emulator, READ_TIMEOUT if "latency" in knobs else 5.0)

    with client, pytest.raises(error) as info:
        CALLS[method](client)

    err = info.value
    assert type(err) is error
    assert words in err.message, err.message
    assert str(err) == err.message
    assert err.operation == OPERATIONS[method]
    assert err.repository == NAME
    if "status" in knobs and "latency" not in knobs:
        assert err.status == knobs["status"]
    if knobs.keys() & {"latency", "reset"}:
        assert err.status is None  # no answer came
    # Only GETs are retried, and a redirect is never followed: the log holds nothing else.
    assert [(e.method, e.path) for e in emulator.requests] == [(method, PATH)] * sent
    if error is OutcomeUnknown:
        assert err.outcome_unknown


def test_connection_refused_is_retried_for_get_only(caplog):
    caplog.set_level(logging.WARNING, logger="imgdash.imagemanager")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is closed now: nothing listens there.
    client = ImageManagerClient(
        f"http://127.0.0.1:{port}/image-manager/api/v1", "token", backoff=0.01
    )
    for method, call in CALLS.items():
        caplog.clear()
        with pytest.raises(Unavailable) as info:
            call(client)
        assert "the connection was refused" in info.value.message
        assert f"127.0.0.1:{port}" in info.value.message
        assert info.value.status is None
        assert not info.value.outcome_unknown
        retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
        assert len(retries) == (2 if method == "GET" else 0), method


def test_an_unknown_host_is_not_retried(caplog):
    caplog.set_level(logging.WARNING, logger="imgdash.imagemanager")
    client = ImageManagerClient("https://no-such-master.invalid:8443/image-manager/api/v1", "t")
    with client, pytest.raises(Unavailable) as info:
        client.list_repositories()
    assert "Could not resolve the cluster's host name no-such-master.invalid" in str(info.value)
    assert not [r for r in caplog.records if "retrying in" in r.getMessage()]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_connect_timeout_means_nothing_was_sent(method):
    # A black-holed address cannot be relied on in every sandbox: map the exception itself.
    client = ImageManagerClient("https://master:8443/image-manager/api/v1", "t")
    exc = requests.exceptions.ConnectTimeout("connect timed out")
    call = Call("op", method, None, client.api_url, client.connect_timeout, client.read_timeout)
    err = transport_error(call, exc)
    assert type(err) is Unavailable
    assert "Could not connect to the cluster at master:8443 within 5 s" in err.message
    assert not err.outcome_unknown
    assert not worth_retrying(ConnectTimeoutError(None, "Connection to master timed out."))


def test_a_get_recovers_from_brief_trouble(emulator, client):
    emulator.faults.add(method="GET", path=PATH + "$", status=503, times=1)
    emulator.faults.add(method="GET", path=PATH + "$", reset=True, times=1)
    assert client.get_repository(NAME).name == NAME
    assert [(e.method, e.path) for e in emulator.requests] == [("GET", PATH)] * 3


def test_retries_back_off(emulator):
    emulator.faults.add(method="GET", path="/repositories$", status=503)
    client = ImageManagerClient(
        emulator.api_url, emulator.issue_id_token("admin"), get_retries=2, backoff=0.1
    )
    started = time.perf_counter()
    with client, pytest.raises(Unavailable):
        client.list_repositories()
    assert time.perf_counter() - started >= 0.1 + 0.2
    assert len(emulator.requests) == 3


def test_retries_can_be_turned_off(emulator):
    emulator.faults.add(method="GET", path="/repositories$", status=502)
    client = ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin"), get_retries=0)
    with client, pytest.raises(Unavailable):
        client.list_repositories()
    assert len(emulator.requests) == 1


def test_the_sign_in_is_never_retried_and_a_timeout_is_not_an_unknown_outcome(emulator):
    with ImageManagerClient(emulator.api_url) as anonymous:
        emulator.faults.add(method="POST", status=503)
        with pytest.raises(Unavailable, match="HTTP 503"):
            anonymous.sign_in("admin", "admin")
    emulator.faults.clear()
    emulator.faults.add(method="POST", latency=0.7, status=500)
    anonymous = ImageManagerClient(emulator.api_url, read_timeout=READ_TIMEOUT)
    with anonymous, pytest.raises(Unavailable, match="did not answer") as info:
        anonymous.sign_in("admin", "admin")
    assert not info.value.outcome_unknown
    assert len(emulator.requests) == 2


def test_the_banner_must_not_be_a_web_page(emulator, client):
    emulator.faults.add(
        method="GET",
        path="/api/v1$",
        status=200,
        content_type="text/html",
        body="<html>ICP console</html>",
    )
    with pytest.raises(ProtocolError, match="web page instead of the Image Manager banner"):
        client.endpoints()


def test_a_docker_token_answer_without_a_token_is_a_protocol_error(emulator, client):
    emulator.faults.add(
        method="GET",
        path="/auth/token$",
        status=200,
        content_type="application/json",
        body='{"expires_in": 1800, "access": "eyJhbGciOi.eyJzdWIi.sig"}',
    )
    with pytest.raises(ProtocolError, match="not an object with a token") as info:
        client.docker_token(["registry:catalog:*"])
    assert info.value.excerpt == ""


def test_a_list_that_is_not_a_list_is_a_protocol_error(emulator, client):
    emulator.faults.add(
        method="GET",
        path="/repositories$",
        status=200,
        content_type="application/json",
        body='{"repositories": {"name": "x"}}',
    )
    with pytest.raises(ProtocolError, match='not an object with a "repositories" list'):
        client.list_repositories()


def test_a_list_of_null_is_empty(emulator, client):
    emulator.faults.add(
        method="GET",
        path="/repositories$",
        status=200,
        content_type="application/json",
        body='{"repositories": null, "extra": 1}',
    )
    assert client.list_repositories() == []


# -- a body with no Content-Length: the cap holds while streaming ---------------------------


class _ChunkedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    size = 0

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        body = b'{"repositories": [], "pad": "' + b"x" * self.server.size + b'"}'
        try:
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up at the cap

    def log_message(self, *args):
        pass


@pytest.fixture
def chunked_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChunkedHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_streamed_body_is_cut_off_at_the_cap(chunked_server):
    url = f"http://127.0.0.1:{chunked_server.server_address[1]}/image-manager/api/v1"
    chunked_server.size = 5 * CAP
    client = ImageManagerClient(url, "token", max_response_bytes=CAP)
    with client, pytest.raises(ProtocolError, match="larger than the response size limit"):
        client.list_repositories()
    chunked_server.size = CAP // 2
    with ImageManagerClient(url, "token", max_response_bytes=CAP) as client:
        assert client.list_repositories() == []
