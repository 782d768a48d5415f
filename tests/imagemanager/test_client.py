"""Every API operation against the emulator over a real socket, and what goes on the wire."""

import logging
import pprint
import socket
import sys
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests

from imgdash.imagemanager import (
    CATALOG_SCOPE,
    ConfigurationError,
    DockerToken,
    Forbidden,
    ImageManagerClient,
    ImageManagerError,
    InvalidInput,
    InvalidScope,
    NotFound,
    Repository,
    Unauthorized,
    repository_scope,
    token_claims,
    token_expires_at,
    token_subject,
)

API = "/image-manager/api/v1"


@pytest.fixture
def admin(emulator):
    with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as client:
        yield client


def client_for(emulator, user, **options):
    return ImageManagerClient(emulator.api_url, emulator.issue_id_token(user), **options)


def logged(emulator):
    return [(entry.method, entry.path) for entry in emulator.requests]


# -- the six operations and the sign-in ----------------------------------------------------


def test_it_reads_the_banner_as_plain_text(emulator, admin):
    banner = admin.endpoints()
    assert banner.text.startswith("IBM Cloud Private Image Management API.")
    assert ("GET", "/image-manager/api/v1/repositories") in banner.endpoints
    assert ("DELETE", "/image-manager/api/v1/repositories/{repo:.*}") in banner.endpoints
    assert len(banner.endpoints) == 7
    assert 0 < banner.elapsed < 5
    assert logged(emulator) == [("GET", API)]


def test_it_gets_a_docker_token_for_the_asked_scopes(emulator, admin):
    before = datetime.now(UTC) - timedelta(seconds=5)
    token = admin.docker_token([CATALOG_SCOPE, repository_scope("team-a/orders-api", "pull")])
    assert isinstance(token, DockerToken)
    assert token.expires_in == 1800
    assert token.issued_at >= before
    assert token.expires_at == token.issued_at + timedelta(seconds=1800)
    assert token.token not in repr(token)
    entry = emulator.requests[0]
    assert (entry.method, entry.path) == ("GET", API + "/auth/token")
    assert entry.query == {
        "service": ["token-service"],
        "scope": ["registry:catalog:*", "repository:team-a/orders-api:pull"],
    }
    granted = jwt.decode(token.token, options={"verify_signature": False}).get("access")
    assert {"type": "registry", "name": "catalog", "actions": ["*"]} in granted


def test_it_refuses_a_malformed_scope_without_asking(emulator, admin):
    with pytest.raises(InvalidInput):
        admin.docker_token(["repository:a b:pull"])
    assert logged(emulator) == []


def test_it_lists_repositories_sorted_and_typed(emulator, admin):
    repositories = admin.list_repositories()
    names = [r.name for r in repositories]
    assert names == sorted(names)
    assert len(names) == len(emulator.repositories)
    assert all(isinstance(r, Repository) for r in repositories)
    by_name = {r.name: r for r in repositories}
    assert by_name["team-a/web/frontend"].tags[0].manifest.kind == "manifest-list"
    assert by_name["team-c/legacy/billing"].tags[0].manifest.kind_label == "schema 1"
    assert by_name["team-a/tools/builder"].tags[0].manifest.kind == "oci"
    assert by_name["team-b/ml/scorer"].tags[0].manifest.kind == "oci-index"
    assert by_name["team-a/scratch"].tags == []
    assert by_name["team-b/placeholder"].tags == []  # `tags: null` upstream
    assert by_name["default/alpine"].size > 0
    assert by_name["team-a/ci/runner"].tag_count == 40
    assert logged(emulator) == [("GET", API + "/repositories")]


def test_a_namespace_user_sees_their_namespaces_and_global_images(emulator):
    with client_for(emulator, "editor") as client:
        repositories = client.list_repositories()
    assert repositories
    for r in repositories:
        assert r.namespace == "team-a" or r.is_global, r.name


def test_it_gets_one_repository_with_a_deep_name(emulator, admin):
    r = admin.get_repository("team-b/batch/jobs/report")
    assert r.name == "team-b/batch/jobs/report"
    assert r.namespace == "team-b"
    assert r.short_name == "batch/jobs/report"
    assert r.tag_count >= 1
    assert logged(emulator) == [("GET", API + "/repositories/team-b/batch/jobs/report")]


def test_it_changes_the_scope_with_a_json_body(emulator, admin):
    admin.set_scope("team-a/orders-api", "global")
    entry = emulator.requests[0]
    assert (entry.method, entry.path) == ("PUT", API + "/repositories/team-a/orders-api")
    assert entry.headers["Content-Type"] == "application/json"
    assert entry.body == b'{"scope":"global"}'
    assert admin.get_repository("team-a/orders-api").scope == "global"
    admin.set_scope("team-a/orders-api", "namespace")
    assert admin.get_repository("team-a/orders-api").scope == "namespace"


@pytest.mark.parametrize("body", ["OK", "OK\n", "", '{"status": "ok"}', "Updated"])
def test_any_plain_success_answer_to_a_change_is_fine(emulator, admin, body):
    # The answer is canned (the emulator applies nothing), so this tests how the client reads
    # it: neither call raises, so the dashboard reports the change as made; each went out once.
    content_type = "application/json" if body.startswith("{") else "text/plain"
    emulator.faults.add(method="*", status=200, body=body, content_type=content_type)
    admin.set_scope("team-a/orders-api", "global")
    admin.delete_repository("team-a/orders-api")
    assert logged(emulator) == [
        ("PUT", API + "/repositories/team-a/orders-api"),
        ("DELETE", API + "/repositories/team-a/orders-api"),
    ]
    assert emulator.requests[0].body == b'{"scope":"global"}'


def test_it_refuses_a_scope_that_does_not_exist_without_asking(emulator, admin):
    for scope in ("Global", "public", "", None):
        with pytest.raises(InvalidScope, match="use 'global' or 'namespace'"):
            admin.set_scope("team-a/orders-api", scope)
    assert logged(emulator) == []


def test_it_deletes_a_repository(emulator, admin):
    admin.delete_repository("team-a/orders-api")
    assert logged(emulator) == [("DELETE", API + "/repositories/team-a/orders-api")]
    assert emulator.repositories.get("team-a/orders-api") is None
    with pytest.raises(NotFound, match="team-a/orders-api was not found"):
        admin.get_repository("team-a/orders-api")


def test_the_clusters_rbac_refusal_is_explained(emulator):
    with client_for(emulator, "viewer") as viewer, pytest.raises(Forbidden) as info:
        viewer.delete_repository("team-a/orders-api")
    err = info.value
    assert "The cluster refused: your role in namespace team-a cannot delete images" in str(err)
    assert err.status == 403
    assert err.operation == "delete repository"
    assert "Viewer in team-a" in err.excerpt
    assert emulator.repositories.get("team-a/orders-api") is not None


def test_an_expired_token_asks_to_reconnect(emulator):
    client = ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin", ttl=-60))
    with client, pytest.raises(Unauthorized, match="Reconnect"):
        client.list_repositories()
    assert len(emulator.requests) == 1  # a 401 is not retried


def test_it_signs_in_without_a_token_and_reads_the_expiry(emulator):
    with ImageManagerClient(emulator.api_url) as anonymous:
        identity = anonymous.sign_in("operator", "operator")
    assert identity.subject == "operator"
    assert identity.expires_in == 43200
    assert identity.expires_at == token_expires_at(identity.id_token)
    assert identity.expires_at > datetime.now(UTC)
    assert identity.id_token not in repr(identity)
    entry = emulator.requests[0]
    assert (entry.method, entry.path) == ("POST", "/idprovider/v1/auth/identitytoken")
    assert entry.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert b"grant_type=password" in entry.body and b"scope=openid" in entry.body
    with ImageManagerClient(emulator.api_url, identity.id_token) as client:
        assert client.list_repositories()


def test_sign_in_does_not_send_the_clients_token(emulator, admin):
    admin.sign_in("viewer", "viewer")
    assert emulator.requests[0].username is None  # no Authorization header at all


def test_a_wrong_password_is_said_plainly(emulator):
    with ImageManagerClient(emulator.api_url) as anonymous:
        with pytest.raises(Unauthorized, match="rejected the user name or password"):
            anonymous.sign_in("admin", "not-the-password")
        with pytest.raises(InvalidInput):
            anonymous.sign_in("admin", "")
    assert len(emulator.requests) == 1  # a POST is never retried; "" never sent


def test_the_sign_in_address_comes_from_the_api_urls_origin(emulator):
    with ImageManagerClient(emulator.url + "/some/prefix/image-manager/api/v1/") as client:
        assert client.origin == emulator.url
        assert client.api_url == emulator.url + "/some/prefix/image-manager/api/v1"
        client.sign_in("viewer", "viewer")
    assert logged(emulator) == [("POST", "/idprovider/v1/auth/identitytoken")]


# -- the wire ---------------------------------------------------------------------------------


def test_every_request_names_imgdash_and_accepts_json(emulator, admin):
    admin.endpoints()
    admin.list_repositories()
    for entry in emulator.requests:
        assert entry.headers["User-Agent"].startswith("imgdash/")
        assert "application/json" in entry.headers["Accept"]


def test_connections_are_pooled(emulator, admin):
    for _ in range(3):
        admin.endpoints()
    adapter = admin._session.get_adapter(emulator.api_url)
    keys = adapter.poolmanager.pools.keys()
    assert len(keys) == 1
    assert adapter.poolmanager.pools[next(iter(keys))].num_connections == 1


def test_the_session_fills_in_a_timeout_for_any_call(emulator, admin):
    # Even a call that forgets `timeout=` cannot hang: the adapter supplies one.
    emulator.faults.add(method="GET", path="/repositories$", latency=0.6, status=500)
    slow = ImageManagerClient(emulator.api_url, read_timeout=0.15)
    with slow, pytest.raises(requests.exceptions.ReadTimeout):
        slow._session.get(emulator.api_url + "/repositories")


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "master:8443/image-manager/api/v1",
        "ftp://master/image-manager/api/v1",
        "https:///image-manager/api/v1",
        "https://user:pw@master:8443/image-manager/api/v1",
        "https://master:8443/image-manager/api/v1?x=1",
        "https://master:8443/image-manager/api/v1#frag",
        "https://master:99999/image-manager/api/v1",
        "https://master:8443/image manager",
        None,
    ],
)
def test_an_unusable_api_url_is_refused_up_front(url):
    with pytest.raises(ConfigurationError) as info:
        ImageManagerClient(url, "token")
    assert "API URL" in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {"connect_timeout": 0},
        {"read_timeout": -1},
        {"read_timeout": "60"},
        {"max_response_bytes": 0},
        {"max_response_bytes": 1.5},
        {"get_retries": -1},
        {"backoff": -0.1},
    ],
)
def test_nonsense_knobs_are_refused(options):
    with pytest.raises(ConfigurationError):
        ImageManagerClient("https://master:8443/image-manager/api/v1", **options)


# -- secrets ----------------------------------------------------------------------------------

CANARY_PASSWORD = "canary-Pa55word-7f3a"


def _frames_and_locals(err):
    """Every frame's locals, as a crash reporter (Django's 500 page, Sentry) would dump them:
    this exception and every cause or context it drags along."""
    seen = []
    exc = err
    while exc is not None and exc not in seen:
        seen.append(exc)
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if not frame.f_code.co_filename.startswith(str(__file__)):
                yield frame.f_code.co_name, pprint.pformat(dict(frame.f_locals))
            tb = tb.tb_next
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def _assert_hidden(secret, err, caplog):
    assert secret not in str(err)
    assert secret not in repr(err)
    assert secret not in err.excerpt
    assert secret not in err.detail
    for name, dump in _frames_and_locals(err):
        assert secret not in dump, f"secret in the locals of {name}"
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.args)


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_the_token_never_shows_in_repr_or_session_headers(emulator):
    token = emulator.issue_id_token("admin")
    client = ImageManagerClient(emulator.api_url, token)
    assert token not in repr(client)
    assert token not in repr(vars(client))
    assert token not in repr(client._session.__dict__)
    assert "Authorization" not in client._session.headers
    assert "token=set" in repr(client)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 401},
        {"status": 403, "body": "Forbidden: {token} may not"},
        {"status": 500, "body": '{"message": "bad token {token}"}'},
        {"latency": 0.5, "status": 500},
        {"reset": True},
        {"truncate": True},
        {"status": 200, "content_type": "text/html", "body": "<p>{token}</p>"},
        {"malformed": True},
    ],
)
@pytest.mark.parametrize("operation", ["list", "delete"])
def test_the_token_never_shows_in_errors_logs_or_traceback_locals(
    emulator, all_logs, fault, operation
):
    token = emulator.issue_id_token("admin")
    fault = {k: v.replace("{token}", token) if isinstance(v, str) else v for k, v in fault.items()}
    emulator.faults.add(method="*", **fault)
    client = ImageManagerClient(emulator.api_url, token, read_timeout=0.2, get_retries=1)
    call = client.list_repositories if operation == "list" else client.delete_repository
    args = () if operation == "list" else ("team-a/orders-api",)
    with client, pytest.raises(ImageManagerError) as info:
        call(*args)
    _assert_hidden(token, info.value, all_logs)


def test_the_password_never_shows_in_errors_logs_or_traceback_locals(emulator, all_logs):
    emulator.faults.add(method="POST", status=400, body=f"bad password={CANARY_PASSWORD}")
    with ImageManagerClient(emulator.api_url) as anonymous, pytest.raises(Unauthorized) as info:
        anonymous.sign_in("admin", CANARY_PASSWORD)
    _assert_hidden(CANARY_PASSWORD, info.value, all_logs)
    assert info.value.excerpt == ""  # the identity provider's body is never quoted


def test_the_password_never_shows_when_the_sign_in_times_out(emulator, all_logs):
    emulator.faults.add(method="POST", latency=0.5, status=500)
    anonymous = ImageManagerClient(emulator.api_url, read_timeout=0.2)
    with anonymous, pytest.raises(ImageManagerError) as info:
        anonymous.sign_in("admin", CANARY_PASSWORD)
    _assert_hidden(CANARY_PASSWORD, info.value, all_logs)
    assert len(emulator.requests) == 1


def test_a_crash_page_shows_no_token_even_without_sensitive_variables(emulator, settings):
    from django.views.debug import ExceptionReporter

    settings.DEBUG = True
    token = emulator.issue_id_token("admin")
    emulator.faults.add(method="GET", status=401)
    client = ImageManagerClient(emulator.api_url, token)
    try:
        client.list_repositories()
    except Unauthorized:
        exc_type, exc, tb = sys.exc_info()
    # Drop this test's own frame: it holds the token on purpose.
    exc.__traceback__ = tb.tb_next
    html = ExceptionReporter(None, exc_type, exc, tb.tb_next).get_traceback_html()
    assert "list_repositories" in html
    assert token not in html


# -- token claims -----------------------------------------------------------------------------


def test_token_claims_are_read_without_verifying(emulator):
    token = emulator.issue_id_token("viewer")
    claims = token_claims(token)
    assert claims["sub"] == "viewer"
    assert token_subject(token) == "viewer"
    assert token_expires_at(token) > datetime.now(UTC)
    expired = emulator.issue_id_token("viewer", ttl=-10)
    assert token_expires_at(expired) < datetime.now(UTC)  # still readable when expired


def test_token_claims_of_garbage_are_empty():
    for garbage in ("", "not.a.jwt", "a.b", None, 42, "eyJ.eyJ.x", "é" * 10):
        assert token_claims(garbage) == {}
        assert token_expires_at(garbage) is None
        assert token_subject(garbage) == ""
    no_exp = jwt.encode({"name": "Alice"}, "k" * 32, algorithm="HS256")
    assert token_subject(no_exp) == "Alice"
    assert token_expires_at(no_exp) is None


def test_a_closed_port_is_reported_without_a_traceback_of_secrets(all_logs):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "canary-token-not-a-jwt-123456"
    client = ImageManagerClient(f"http://127.0.0.1:{port}/image-manager/api/v1", token, backoff=0)
    with client, pytest.raises(ImageManagerError) as info:
        client.delete_repository("team-a/app")
    _assert_hidden(token, info.value, all_logs)
