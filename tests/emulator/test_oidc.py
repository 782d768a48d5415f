"""The emulator's OpenID provider over real sockets: discovery, the code flow with PKCE,
the token endpoint, userinfo, end-session and client registration."""

import jwt
import pytest

from tests.emulator import client
from tests.emulator.oidc_flow import (
    CLIENT,
    CLIENT_ID,
    CLIENT_SECRET,
    LOGOUT_URI,
    REDIRECT_URI,
    Flow,
    query_of,
)


@pytest.fixture
def op(emulator):
    """The shared emulator with the test client registered (reset() unregisters it)."""
    emulator.oidc_clients.register(dict(CLIENT))
    return emulator


@pytest.fixture
def flow(op):
    return Flow(op.oidc_url)


def verified_claims(op, id_token, audience=CLIENT_ID):
    """The ID token's claims checked as a relying party checks them, keys from the JWKS."""
    discovery = client.get(op.oidc_url + "/.well-known/openid-configuration").json()
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token)
    return jwt.decode(
        id_token,
        key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=discovery["issuer"],
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


def list_repositories(op, token):
    return client.get(op.api_url + "/repositories", headers={"Authorization": "Bearer " + token})


def test_it_publishes_a_discovery_document_under_its_issuer(op):
    answer = client.get(op.url + "/oidc/endpoint/OP/.well-known/openid-configuration")

    assert answer.status_code == 200
    document = answer.json()
    assert document["issuer"] == op.url + "/oidc/endpoint/OP" == op.oidc_url
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
        "registration_endpoint",
    ):
        assert document[endpoint].startswith(document["issuer"] + "/")
        assert client.request("OPTIONS", document[endpoint]).status_code == 405
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "openid" in document["scopes_supported"]
    keys = client.get(document["jwks_uri"]).json()["keys"]
    assert [key["kid"] for key in keys] == [op.tokens.key_id]


def test_a_code_flow_by_hand_gives_an_id_token_the_api_accepts(op, flow):
    page = flow.authorize()
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert 'name="password"' in page.text and "<script" not in page.text

    answer = flow.submit_login(page, "editor", "editor")
    assert answer.status_code == 302
    redirect = answer.headers["Location"]
    assert redirect.startswith(REDIRECT_URI + "?")
    assert query_of(redirect)["state"] == flow.state

    tokens = flow.exchange(query_of(redirect)["code"])
    assert tokens.status_code == 200
    assert tokens.headers["Cache-Control"] == "no-store"
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0 and body["access_token"] and body["refresh_token"]

    claims = verified_claims(op, body["id_token"])
    assert claims["nonce"] == flow.nonce
    assert claims["sub"] == "editor" and claims["preferred_username"] == "editor"
    assert claims["groups"] == ["team-a-devs"]
    assert claims["email"] == "editor@mycluster.icp" and claims["name"] == "Edith Editor"

    listed = list_repositories(op, body["id_token"])
    assert listed.status_code == 200
    owners = {repo["owner"] for repo in listed.json()["repositories"] if repo["scope"] != "global"}
    assert owners == {"team-a"}


def test_a_signed_in_browser_gets_a_code_without_the_form_again(flow):
    flow.sign_in("viewer")

    again = flow.authorize()

    assert again.status_code == 302
    assert "code" in query_of(again.headers["Location"])


def test_pkce_plain_or_missing_is_refused_back_to_the_client(flow):
    for overrides in ({"code_challenge_method": "plain"}, {"code_challenge": None}):
        answer = flow.authorize(**overrides)

        assert answer.status_code == 302
        query = query_of(answer.headers["Location"])
        assert query["error"] == "invalid_request"
        assert query["state"] == flow.state
        assert "code" not in query


def test_an_unregistered_redirect_uri_or_client_gets_an_error_page_not_a_redirect(flow):
    for overrides in (
        {"redirect_uri": "https://attacker.example/callback"},
        {"redirect_uri": REDIRECT_URI + "extra"},
        {"client_id": "nobody"},
    ):
        answer = flow.authorize(**overrides)

        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "text/html" in answer.headers["Content-Type"]


def test_a_code_is_single_use_and_a_replay_revokes_its_refresh_token(op, flow):
    code = flow.sign_in()["code"]
    first = flow.exchange(code)
    assert first.status_code == 200

    replay = flow.exchange(code)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    refreshed = refresh(op, first.json()["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


def test_the_code_verifier_and_redirect_uri_must_match(flow):
    code = flow.sign_in()["code"]
    wrong = flow.exchange(code, verifier="x" * 50)
    assert wrong.json()["error"] == "invalid_grant"

    code = flow.sign_in()["code"]
    other = flow.exchange(code, redirect_uri=REDIRECT_URI + "?other=1")
    assert other.json()["error"] == "invalid_grant"


def refresh(op, refresh_token, auth=(CLIENT_ID, CLIENT_SECRET)):
    return client.post(
        op.oidc_url + "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=auth,
    )


def test_refresh_tokens_rotate(op, flow):
    first = flow.tokens("operator")

    renewed = refresh(op, first["refresh_token"])

    assert renewed.status_code == 200
    body = renewed.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert verified_claims(op, body["id_token"])["sub"] == "operator"
    assert list_repositories(op, body["id_token"]).status_code == 200
    again = refresh(op, first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert refresh(op, body["refresh_token"]).status_code == 200


def test_clients_authenticate_by_basic_or_post_and_a_wrong_secret_is_refused(op, flow):
    code = flow.sign_in()["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": flow.verifier,
    }
    wrong = client.post(op.oidc_url + "/token", data=form, auth=(CLIENT_ID, "guess"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"

    posted = client.post(
        op.oidc_url + "/token",
        data={**form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert posted.status_code == 200


def test_userinfo_answers_for_the_access_token(op, flow):
    tokens = flow.tokens("nsadmin")

    info = client.get(
        op.oidc_url + "/userinfo",
        headers={"Authorization": "Bearer " + tokens["access_token"]},
    )
    refused = client.get(op.oidc_url + "/userinfo", headers={"Authorization": "Bearer nope"})

    assert info.json()["sub"] == "nsadmin"
    assert info.json()["groups"] == ["team-a-admins", "team-b-admins"]
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers["WWW-Authenticate"]


def test_end_session_ends_the_login_and_returns_to_the_registered_uri(op, flow):
    tokens = flow.tokens()

    answer = flow.browser.get(
        op.oidc_url + "/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_URI,
            "state": "bye",
        },
        allow_redirects=False,
        timeout=client.TIMEOUT,
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == LOGOUT_URI + "?state=bye"
    assert flow.authorize().status_code == 200  # the login form again


def test_end_session_does_not_redirect_to_an_unregistered_uri(op, flow):
    tokens = flow.tokens()

    answer = flow.browser.get(
        op.oidc_url + "/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://attacker.example/",
        },
        allow_redirects=False,
        timeout=client.TIMEOUT,
    )

    assert answer.status_code == 200
    assert "Location" not in answer.headers
    assert flow.authorize().status_code == 200


def test_registration_needs_the_registration_secret(op):
    metadata = {
        "client_id": "newcomer",
        "redirect_uris": ["https://newcomer.example/oidc/callback/"],
    }
    url = op.oidc_url + "/registration"

    anonymous = client.post(url, json=metadata)
    guessed = client.post(url, json=metadata, auth=("oauthadmin", "guess"))
    registered = client.post(url, json=metadata, auth=("oauthadmin", "registration-secret"))

    assert anonymous.status_code == guessed.status_code == 401
    assert registered.status_code == 201
    body = registered.json()
    assert body["client_id"] == "newcomer" and body["client_secret"]
    assert op.oidc_clients.get("newcomer").redirect_uris == metadata["redirect_uris"]
    taken = client.post(url, json=metadata, auth=("oauthadmin", "registration-secret"))
    assert taken.status_code == 400


def test_registration_refuses_a_client_without_redirect_uris(op):
    answer = client.post(
        op.oidc_url + "/registration",
        json={"client_name": "no callback"},
        auth=("oauthadmin", "registration-secret"),
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


def test_a_failed_login_shows_the_username_escaped(flow):
    page = flow.authorize()

    answer = flow.submit_login(page, "<script>alert(1)</script>", "wrong")

    assert answer.status_code == 401
    assert "Invalid username or password" in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert "<script>" not in answer.text


def test_the_login_form_is_refused_from_a_browser_that_did_not_open_it(op, flow):
    page = flow.authorize()
    elsewhere = Flow(op.oidc_url)

    answer = elsewhere.submit_login(page, "admin", "admin")

    assert answer.status_code == 400
    assert "Location" not in answer.headers
