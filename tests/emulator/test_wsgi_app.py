"""The WSGI application on its own (no socket), fed arbitrary input: it answers, never fails."""

import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imgdash.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def server():
    # Not started: only its WSGI app is used.
    return EmulatorServer(repos=20)


def call(app, method, path, body=b"", headers=None, query=""):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer = {}

    def start_response(status, response_headers):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    answer["body"] = b"".join(app(environ, start_response))
    return answer


def test_it_is_a_wsgi_app(server):
    answer = call(server.app, "GET", "/image-manager/api/v1")

    assert answer["status"] == 200
    assert answer["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert int(answer["headers"]["Content-Length"]) == len(answer["body"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | st.from_regex(r'\{"scope": ?"?[a-z]{0,12}"?\}'))
def test_any_put_body_is_answered_200_or_400(server, body):
    if isinstance(body, str):
        body = body.encode()
    headers = {"Authorization": "Bearer " + server.issue_id_token("admin")}

    answer = call(
        server.app, "PUT", "/image-manager/api/v1/repositories/default/alpine", body, headers
    )

    assert answer["status"] in (200, 400)
    server.reset()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=80))
def test_any_repository_name_is_answered_200_or_404(server, name):
    headers = {"Authorization": "Bearer " + server.issue_id_token("viewer")}

    answer = call(server.app, "GET", "/image-manager/api/v1/repositories/" + name, b"", headers)

    assert answer["status"] in (200, 404)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(authorization=st.text(max_size=120), query=st.text(max_size=80))
@example(authorization="Basic \u00e9t\u00e9", query="")
@example(authorization="Basic //79", query="scope=repository:::")
@example(authorization="Bearer \u00e9", query="scope=%ff")
def test_any_credentials_and_query_on_auth_token_are_answered(server, authorization, query):
    answer = call(
        server.app,
        "GET",
        "/image-manager/api/v1/auth/token",
        headers={"Authorization": authorization.encode("utf-8").decode("latin-1")},
        query=query,
    )

    assert answer["status"] in (200, 401)
