"""Structured logs: one JSON line per request and per upstream call, naming the request, the
user and the cluster, and never a token, password or cookie."""

import io
import json
import logging

import pytest

from imgdash.core.logs import JsonFormatter, RequestContextFilter, TextFormatter
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Everything logged during the test, formatted as IMGDASH_LOG_FORMAT=json formats it."""
    yield from _captured(JsonFormatter(), json.loads)


@pytest.fixture
def text_lines():
    """Everything logged during the test, formatted as the default text format formats it."""
    yield from _captured(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"), str)


def _captured(formatter, parse):
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    lines = []

    def read():
        handler.flush()
        lines[:] = [parse(line) for line in buffer.getvalue().splitlines()]
        return lines

    yield read
    root.removeHandler(handler)
    root.setLevel(level)


def test_json_is_the_format_the_setting_chooses(settings):
    from imgdash import settings as project_settings

    assert project_settings.LOG_FORMAT == "text"  # the default
    assert project_settings.LOGGING["handlers"]["console"]["formatter"] == "text"
    assert "json" in project_settings.LOGGING["formatters"]


def test_each_request_is_one_line_with_its_id_user_and_view(client, make_user, json_lines):
    client.force_login(make_user("vera", "Viewer"))
    client.get("/clusters/?secret=x", headers={"X-Request-ID": "req-1"})
    (line,) = [line for line in json_lines() if line["logger"] == "imgdash.request"]
    assert line["request_id"] == "req-1"
    assert line["user"] == "vera"
    assert line["view"] == "clusters:list"
    assert line["method"] == "GET"
    assert line["path"] == "/clusters/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert "secret=x" not in json.dumps(line)


def test_an_upstream_call_is_a_line_naming_the_cluster(client, operator, cluster, json_lines):
    client.get("/clusters/emu/repositories/team-a/app/", headers={"X-Request-ID": "req-2"})
    calls = [line for line in json_lines() if line.get("upstream_operation")]
    assert calls, json_lines()
    call = calls[0]
    assert call["upstream_operation"] == "get repository"
    assert call["upstream_method"] == "GET"
    assert (call["request_id"], call["user"], call["cluster"]) == ("req-2", "olga", "emu")


def test_the_lists_background_fetch_names_the_request_that_started_it(
    client, operator, cluster, json_lines
):
    client.get("/clusters/emu/repositories/", headers={"X-Request-ID": "req-3"})
    calls = [line for line in json_lines() if line.get("upstream_operation") == "list repositories"]
    assert calls, json_lines()
    assert (calls[0]["request_id"], calls[0]["user"], calls[0]["cluster"]) == (
        "req-3",
        "olga",
        "emu",
    )


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_token_password_or_cookie_reaches_the_log(
    client, make_user, emulator, cluster, request, log_format
):
    read_lines = request.getfixturevalue(f"{log_format}_lines")
    from imgdash.clusters.services import save_credential

    user = make_user("olga", "Operator")
    token = emulator.issue_id_token("admin")
    save_credential(user, cluster, token)
    # A real sign-in: the password in the form, a session cookie and a CSRF cookie after.
    signed_in = client.post("/accounts/login/", {"username": "olga", "password": PASSWORD})
    assert signed_in.status_code == 302
    cookies = [morsel.value for morsel in client.cookies.values() if morsel.value]
    assert cookies
    # The cluster fails, echoing the request (token, Authorization header, cookie) back.
    echo = f"upstream broke; Authorization: Bearer {token}; token={token}; cookie={cookies[0]}"
    bare = f"upstream broke while reading {token} {' '.join(cookies)}"
    emulator.faults.add(method="GET", path=r"/repositories/team-a/", status=500, body=bare)
    emulator.faults.add(method="GET", path=r"/repositories$", status=500, body=echo)
    emulator.faults.add(method="PUT", path=r"/repositories/", status=502, body=echo)
    assert client.get("/clusters/emu/repositories/team-a/app/").status_code == 502
    client.get("/clusters/emu/repositories/")
    client.post(
        "/clusters/emu/repositories/team-a/app/-/scope/",
        {"scope": "global"},
        headers={"Cookie": f"sessionid={cookies[0]}", "Authorization": f"Bearer {token}"},
    )
    lines = read_lines()
    text = "\n".join(json.dumps(line) for line in lines)
    assert "upstream broke" in text, text
    for secret in (token, PASSWORD, *cookies):
        assert secret not in text
    assert "Bearer eyJ" not in text
    if log_format == "json":
        assert any(line.get("upstream_status") == 500 for line in lines), text
        for line in lines:
            assert not [key for key in line if "token" in key or "cookie" in key]


def test_extra_fields_with_secret_names_are_left_out(json_lines):
    logging.getLogger("imgdash.test").warning(
        "Sending Bearer abcdefghijklmnop",
        extra={"status": 200, "authorization": "Bearer x", "token": "t0k3n"},
    )
    (line,) = [line for line in json_lines() if line["logger"] == "imgdash.test"]
    assert line["status"] == 200
    assert line["message"] == "Sending Bearer [redacted]"
    assert "t0k3n" not in json.dumps(line)
    # Outside a request there is no request id, user or cluster to name.
    assert not {"request_id", "user", "cluster"} & set(line)


def test_free_text_fields_named_like_secrets_lose_their_values():
    from imgdash.core.logs import redact

    assert redact("password=hunter2 user=x") == "password=[redacted] user=x"
    assert redact("Cookie: sessionid=abc123; x") == "Cookie: [redacted]; x"
    assert redact('{"token": "abc"}') == '{"token": "[redacted]"}'
    assert redact("token=[redacted]; x") == "token=[redacted]; x"
