"""The error family: excerpts a person can read, messages a person can act on."""

import pickle

import pytest

from imgdash.imagemanager import (
    BadRequest,
    ClientError,
    Forbidden,
    ImageManagerError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from imgdash.imagemanager import errors as E
from imgdash.imagemanager.errors import sanitise_excerpt
from imgdash.imagemanager.statuses import error_for_status


def test_excerpt_of_plain_text_is_one_line():
    assert sanitise_excerpt(b"repository not found\n") == "repository not found"
    assert sanitise_excerpt(b"line one\r\nline\ttwo\n\n") == "line one line two"


def test_excerpt_of_html_keeps_the_words_only():
    page = (
        b"<html><head><title>502 Bad Gateway</title><style>body{color:red}</style>"
        b"<script>alert('x')</script></head><body><center><h1>502 Bad Gateway</h1>"
        b"</center><hr><center>nginx &amp; friends</center></body></html>"
    )
    assert sanitise_excerpt(page, "text/html") == "502 Bad Gateway nginx & friends"
    assert sanitise_excerpt(b"<html><title>Sign in</title></html>", "text/html") == "Sign in"


def test_excerpt_of_json_prefers_the_human_field():
    assert sanitise_excerpt(b'{"code": 7, "message": "scope is wrong"}') == "scope is wrong"
    oauth = b'{"error_description":"CWOAU0069E: not verified.","error":"invalid_grant"}'
    assert sanitise_excerpt(oauth, "application/json") == "CWOAU0069E: not verified."
    registry = b'{"errors":[{"code":"DENIED","message":"requested access is denied"}]}'
    assert sanitise_excerpt(registry) == "requested access is denied"
    assert sanitise_excerpt(b'{"details": {"error": "deep"}}') == "deep"
    assert sanitise_excerpt(b'{"a": 1}', "application/json") == '{"a": 1}'
    assert sanitise_excerpt(b'{"broken": ', "application/json") == '{"broken":'


def test_excerpt_drops_control_characters_and_is_short():
    text = "evil\x1b[31m red\x00 \u202eoverride\u200b " + "x" * 500
    out = sanitise_excerpt(text.encode())
    assert "\x1b" not in out and "\x00" not in out and "\u202e" not in out
    assert "\u200b" not in out
    assert out.startswith("evil[31m red override")
    assert len(out) <= 200
    assert out.endswith("…")
    assert sanitise_excerpt(b"\xff\xfe bad utf-8") == "�� bad utf-8"
    assert sanitise_excerpt(b"") == sanitise_excerpt(None) == ""


def test_excerpt_redacts_secrets_and_anything_token_shaped():
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"
    body = f"bad token {jwt_like}; Authorization: Bearer abcdefghijkl; pw=hunter2-secret"
    out = sanitise_excerpt(body.encode(), secrets=["hunter2-secret", None, ""])
    assert jwt_like not in out
    assert "abcdefghijkl" not in out
    assert "hunter2-secret" not in out
    assert out.count("[redacted]") == 3


def test_messages_say_what_to_do():
    cases = [
        (401, E.LIST_REPOSITORIES, None, Unauthorized, "Reconnect to this cluster"),
        (
            403,
            E.DELETE_REPOSITORY,
            "team-a/app",
            Forbidden,
            "The cluster refused: your role in namespace team-a cannot delete images",
        ),
        (
            403,
            E.SET_SCOPE,
            "team-b/x/y",
            Forbidden,
            "your role in namespace team-b cannot change the scope of images",
        ),
        (403, E.LIST_REPOSITORIES, None, Forbidden, "your role cannot list images"),
        (404, E.GET_REPOSITORY, "team-a/app", NotFound, "Repository team-a/app was not found"),
        (404, E.LIST_REPOSITORIES, None, NotFound, "check the cluster's API URL"),
        (400, E.SET_SCOPE, "team-a/app", BadRequest, "change the scope of team-a/app"),
        (409, E.DELETE_REPOSITORY, "team-a/app", ClientError, "conflict"),
        (429, E.LIST_REPOSITORIES, None, RateLimited, "try again"),
        (418, E.GET_REPOSITORY, "team-a/app", ClientError, "HTTP 418"),
        (500, E.LIST_REPOSITORIES, None, Unavailable, "failed to list images (HTTP 500)"),
        (503, E.GET_REPOSITORY, "team-a/app", Unavailable, "is unavailable (HTTP 503"),
        (503, E.DELETE_REPOSITORY, "team-a/app", Unavailable, "most likely not applied"),
        (401, E.SIGN_IN, None, Unauthorized, "rejected the user name or password"),
    ]
    for status, operation, repository, cls, text in cases:
        err = error_for_status(operation, status, "", repository=repository)
        assert type(err) is cls, (status, operation)
        assert text in err.message, err.message
        assert str(err) == err.message
        assert (err.operation, err.status, err.repository) == (operation, status, repository)


def test_the_clusters_own_words_are_appended_unless_they_only_repeat_the_status():
    err = error_for_status(E.DELETE_REPOSITORY, 403, "Forbidden: viewer may not delete")
    assert err.message.endswith('The cluster said: "Forbidden: viewer may not delete"')
    assert err.excerpt == "Forbidden: viewer may not delete"
    assert "said" not in error_for_status(E.GET_REPOSITORY, 404, "Not Found").message
    assert "said" not in error_for_status(E.GET_REPOSITORY, 503, "Service Unavailable").message


def test_rate_limit_mentions_the_servers_hint():
    err = error_for_status(E.LIST_REPOSITORIES, 429, "", retry_after=30)
    assert isinstance(err, ClientError)
    assert err.retry_after == 30
    assert "try again in 30 s" in err.message


def test_retried_failures_say_how_many_attempts():
    err = error_for_status(E.LIST_REPOSITORIES, 503, "", attempts=3)
    assert "after 3 attempts" in err.message


def test_errors_pickle_with_their_details():
    err = error_for_status(E.DELETE_REPOSITORY, 403, "nope", repository="team-a/app")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert type(back) is Forbidden
    assert (back.message, back.status, back.excerpt, back.repository, back.operation) == (
        err.message,
        403,
        "nope",
        "team-a/app",
        E.DELETE_REPOSITORY,
    )


def test_repr_names_the_class_operation_and_status():
    err = ImageManagerError("boom", operation="list repositories", status=500)
    assert repr(err) == (
        "ImageManagerError(operation='list repositories', status=500, message='boom')"
    )
    with pytest.raises(ImageManagerError, match="boom"):
        raise err


@pytest.mark.parametrize(
    ("operation", "repository", "needed"),
    [
        (
            E.DELETE_REPOSITORY,
            "team-a/app",
            "Deleting needs the Administrator role in namespace team-a, or ClusterAdministrator",
        ),
        (
            E.SET_SCOPE,
            "team-b/x/y",
            "Changing the scope needs the Editor, Operator or Administrator role in namespace "
            "team-b, or ClusterAdministrator",
        ),
        (
            E.GET_REPOSITORY,
            "team-a/app",
            "Viewing needs at least the Viewer role in namespace team-a",
        ),
        (E.LIST_REPOSITORIES, None, "Listing needs at least the Viewer role in a namespace"),
    ],
)
def test_a_refusal_says_which_cluster_role_ibm_documents_for_it(operation, repository, needed):
    err = error_for_status(operation, 403, "", repository=repository)
    assert needed in err.message, err.message
    assert "IBM" in err.message  # whose word it is: the cluster may be configured otherwise


@pytest.mark.parametrize("operation", [E.DOCKER_TOKEN, E.LIST_ENDPOINTS])
def test_a_refusal_says_so_when_the_api_documents_no_role(operation):
    err = error_for_status(operation, 403, "")
    assert "does not say which cluster role" in err.message, err.message
    assert "Administrator role" not in err.message
