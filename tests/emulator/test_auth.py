"""The identity provider, the docker-token endpoint, and every way a token is refused."""

import re
import time

import jwt
import pytest

from imgdash.emulator.tokens import TokenIssuer
from imgdash.emulator.users import User
from tests.emulator import client

IDENTITY = "/idprovider/v1/auth/identitytoken"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def password_grant(username="admin", password="admin", **extra):
    return {
        "grant_type": "password",
        "username": username,
        "password": password,
        "scope": "openid",
        **extra,
    }


def claims_of(emulator, token):
    return jwt.decode(token, emulator.tokens.public_key, algorithms=["RS256"])


# -- the identity provider ------------------------------------------------------------


def test_it_issues_an_id_token_for_a_form_encoded_password_grant(emulator):
    before = int(time.time())

    response = client.post(emulator.url + IDENTITY, data=password_grant("editor", "editor"))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert set(answer) >= {"access_token", "id_token", "refresh_token", "token_type", "expires_in"}
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 43200
    claims = claims_of(emulator, answer["id_token"])
    assert claims["sub"] == "editor"
    assert claims["name"] == "editor"
    assert before <= claims["iat"] <= time.time()
    assert claims["exp"] - claims["iat"] == 43200
    assert answer["access_token"] != answer["id_token"]


def test_it_accepts_a_json_password_grant(emulator):
    response = client.post(emulator.url + IDENTITY, json=password_grant("viewer", "viewer"))

    assert response.status_code == 200
    assert claims_of(emulator, response.json()["id_token"])["sub"] == "viewer"


def test_the_issued_id_token_opens_the_image_manager_api(emulator):
    answer = client.post(emulator.url + IDENTITY, data=password_grant()).json()

    response = client.get(
        emulator.api_url + "/repositories",
        headers={"Authorization": f"Bearer {answer['id_token']}"},
    )

    assert response.status_code == 200


def test_the_access_token_is_not_an_id_token(emulator):
    answer = client.post(emulator.url + IDENTITY, data=password_grant()).json()

    response = client.get(
        emulator.api_url + "/repositories",
        headers={"Authorization": f"Bearer {answer['access_token']}"},
    )

    assert response.status_code == 401


def test_no_id_token_without_the_openid_scope(emulator):
    response = client.post(emulator.url + IDENTITY, data=password_grant(scope="profile"))

    assert response.status_code == 200
    assert "id_token" not in response.json()


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong"), ("nobody", "admin")])
def test_it_refuses_wrong_credentials_with_a_json_401(emulator, username, password):
    response = client.post(emulator.url + IDENTITY, data=password_grant(username, password))

    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_grant"
    assert "error_description" in response.json()


@pytest.mark.parametrize("missing", ["grant_type", "username", "password"])
def test_it_answers_400_when_a_field_is_missing(emulator, missing):
    fields = password_grant()
    del fields[missing]

    response = client.post(emulator.url + IDENTITY, data=fields)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_it_answers_400_to_another_grant_type(emulator):
    response = client.post(
        emulator.url + IDENTITY, data=password_grant(grant_type="client_credentials")
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_it_answers_400_to_broken_json(emulator):
    response = client.post(
        emulator.url + IDENTITY, data="{", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400


def test_the_identity_endpoint_only_takes_post(emulator):
    assert client.get(emulator.url + IDENTITY).status_code == 405


# -- refusing tokens ------------------------------------------------------------------


OPERATIONS = [
    ("GET", "/repositories"),
    ("GET", "/repositories/default/alpine"),
    ("PUT", "/repositories/default/alpine"),
    ("DELETE", "/repositories/default/alpine"),
]


@pytest.fixture(scope="module")
def stranger():
    """Another emulator's token issuer: same claims, someone else's key."""
    return TokenIssuer()


def bad_authorization(case, emulator, stranger):
    admin = emulator.users["admin"]
    cases = {
        "missing": lambda: None,
        "empty bearer": lambda: "Bearer ",
        "garbage": lambda: "Bearer not-a-jwt",
        "wrong scheme": lambda: "Token " + emulator.issue_id_token("admin"),
        "basic on the API": lambda: "Basic YWRtaW46YWRtaW4=",
        "expired": lambda: "Bearer " + emulator.issue_id_token("admin", ttl=-5),
        "wrong signature": lambda: "Bearer " + stranger.issue_id_token(admin),
        "unknown user": lambda: "Bearer " + emulator.tokens.issue_id_token(User("ghost", "x")),
        "tampered": lambda: "Bearer " + tamper(emulator.issue_id_token("viewer")),
        "unsigned": lambda: "Bearer " + jwt.encode({"sub": "admin"}, key=None, algorithm="none"),
    }
    return cases[case]()


def tamper(token):
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "admin"
    forged = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    return ".".join([header, forged, signature])


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty bearer",
        "garbage",
        "wrong scheme",
        "basic on the API",
        "expired",
        "wrong signature",
        "unknown user",
        "tampered",
        "unsigned",
    ],
)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_it_answers_401_to_a_bad_token(emulator, stranger, case, method, path):
    authorization = bad_authorization(case, emulator, stranger)
    headers = {"Authorization": authorization} if authorization else {}

    response = client.request(
        method, emulator.api_url + path, headers=headers, json={"scope": "global"}
    )

    assert response.status_code == 401
    assert response.text.startswith("Unauthorized")
    assert response.text.endswith("\n")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert emulator.repositories.get("default/alpine")["scope"] == "global"


def test_an_expired_token_says_so(emulator):
    headers = {"Authorization": "Bearer " + emulator.issue_id_token("admin", ttl=-5)}

    response = client.get(emulator.api_url + "/repositories", headers=headers)

    assert response.text == "Unauthorized: token expired\n"


def test_a_docker_registry_token_is_not_an_id_token(emulator, bearer):
    answer = client.get(emulator.api_url + "/auth/token", headers=bearer()).json()

    response = client.get(
        emulator.api_url + "/repositories",
        headers={"Authorization": "Bearer " + answer["token"]},
    )

    assert response.status_code == 401


def test_tokens_expire_with_time(start_emulator):
    emulator = start_emulator(token_ttl=2)
    answer = client.post(emulator.url + IDENTITY, data=password_grant()).json()
    assert answer["expires_in"] == 2
    headers = {"Authorization": "Bearer " + answer["id_token"]}
    exp = jwt.decode(answer["id_token"], options={"verify_signature": False})["exp"]
    assert client.get(emulator.api_url + "/repositories", headers=headers).status_code == 200

    time.sleep(max(0, exp - time.time()) + 0.05)

    response = client.get(emulator.api_url + "/repositories", headers=headers)
    assert response.status_code == 401
    assert response.text == "Unauthorized: token expired\n"


def test_a_token_for_a_removed_user_stops_working(emulator, bearer):
    headers = bearer("viewer")
    del emulator.users["viewer"]

    response = client.get(emulator.api_url + "/repositories", headers=headers)

    assert response.status_code == 401


# -- the docker-client token (operation 2) --------------------------------------------


def registry_claims(emulator, answer):
    return jwt.decode(
        answer["token"],
        emulator.tokens.public_key,
        algorithms=["RS256"],
        options={"verify_aud": False},
    )


def test_auth_token_with_a_bearer_id_token_and_no_scope_grants_nothing(emulator, bearer):
    response = client.get(emulator.api_url + "/auth/token", headers=bearer("viewer"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()
    assert set(answer) == {"expires_in", "issued_at", "token"}
    assert answer["expires_in"] == 1800
    assert RFC3339_UTC.match(answer["issued_at"])
    claims = registry_claims(emulator, answer)
    assert claims["access"] == []
    assert claims["sub"] == "viewer"
    assert claims["exp"] - claims["iat"] == 1800


def test_auth_token_accepts_basic_credentials(emulator):
    response = client.get(
        emulator.api_url + "/auth/token",
        params={"service": "token-service", "scope": "registry:catalog:*"},
        auth=("admin", "admin"),
    )

    assert response.status_code == 200
    claims = registry_claims(emulator, response.json())
    assert claims["sub"] == "admin"
    assert claims["aud"] == "token-service"
    assert claims["access"] == [{"type": "registry", "name": "catalog", "actions": ["*"]}]


@pytest.mark.parametrize(
    "auth", [("admin", "wrong"), ("ghost", "ghost")], ids=["wrong password", "unknown user"]
)
def test_auth_token_refuses_wrong_basic_credentials(emulator, auth):
    response = client.get(emulator.api_url + "/auth/token", auth=auth)

    assert response.status_code == 401
    assert response.text == "Unauthorized: invalid username or password\n"


def test_auth_token_refuses_a_missing_token(emulator):
    assert client.get(emulator.api_url + "/auth/token").status_code == 401


def test_auth_token_takes_several_scopes_repeated_or_space_separated(emulator, bearer):
    scopes = [
        "repository:team-a/orders-api:pull,push",
        "repository:default/alpine:pull registry:catalog:*",
    ]

    response = client.get(
        emulator.api_url + "/auth/token", params={"scope": scopes}, headers=bearer("admin")
    )

    assert registry_claims(emulator, response.json())["access"] == [
        {"type": "repository", "name": "team-a/orders-api", "actions": ["pull", "push"]},
        {"type": "repository", "name": "default/alpine", "actions": ["pull"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]


@pytest.mark.parametrize(
    ("username", "scope", "actions"),
    [
        ("admin", "repository:kube-system/tiller:*", ["*"]),
        ("nsadmin", "repository:team-a/orders-api:*", ["*"]),
        ("operator", "repository:team-a/orders-api:*", ["pull", "push"]),
        ("editor", "repository:team-a/orders-api:pull,push", ["pull", "push"]),
        ("viewer", "repository:team-a/orders-api:pull,push", ["pull"]),
        ("viewer", "repository:ibmcom/icp-inception:pull,push", ["pull"]),
        ("editor", "repository:team-b/batch/jobs/report:pull", None),
        ("viewer", "repository:kube-system/tiller:pull", None),
        ("viewer", "registry:catalog:*", None),
        ("nsadmin", "registry:catalog:*", None),
        ("editor", "repository:team-a/new-image:push", ["push"]),
        ("viewer", "repository:team-a/new-image:push", None),
        ("viewer", "nonsense", None),
    ],
)
def test_auth_token_grants_what_rbac_allows(emulator, bearer, username, scope, actions):
    response = client.get(
        emulator.api_url + "/auth/token", params={"scope": scope}, headers=bearer(username)
    )

    access = registry_claims(emulator, response.json())["access"]
    if actions is None:
        assert access == []
    else:
        assert len(access) == 1
        assert access[0]["actions"] == actions
