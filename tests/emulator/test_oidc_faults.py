"""The OpenID provider's faults, switched on through the control endpoint: each gives a
relying party the bad answer it must refuse."""

import jwt
import pytest
import requests

from tests.emulator import client
from tests.emulator.oidc_flow import CLIENT, CLIENT_ID, Flow
from tests.emulator.test_oidc import list_repositories, verified_claims

TOKEN_PATH = "/oidc/endpoint/OP/token$"


@pytest.fixture
def op(emulator):
    emulator.oidc_clients.register(dict(CLIENT))
    return emulator


def switch_on(op, **knobs):
    answer = client.post(
        op.url + "/_emulator/faults", json={"method": "POST", "path": TOKEN_PATH, **knobs}
    )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("fault", "refusal"),
    [
        ("bad_signature", jwt.InvalidSignatureError),
        ("wrong_audience", jwt.InvalidAudienceError),
        ("expired", jwt.ExpiredSignatureError),
        ("wrong_issuer", jwt.InvalidIssuerError),
    ],
)
def test_a_bad_id_token_is_refused_by_a_relying_party_and_by_the_api(op, fault, refusal):
    switch_on(op, id_token=fault, times=1)

    tokens = Flow(op.oidc_url).tokens("admin")

    with pytest.raises(refusal):
        verified_claims(op, tokens["id_token"])
    assert list_repositories(op, tokens["id_token"]).status_code == 401
    # Once: the next sign-in gets a good token.
    assert verified_claims(op, Flow(op.oidc_url).tokens("admin")["id_token"])["sub"] == "admin"


def test_the_nonce_can_be_left_out_or_wrong(op):
    switch_on(op, id_token="no_nonce", times=1)
    missing = verified_claims(op, Flow(op.oidc_url).tokens()["id_token"])

    switch_on(op, id_token="wrong_nonce", times=1)
    flow = Flow(op.oidc_url)
    wrong = verified_claims(op, flow.tokens()["id_token"])

    assert "nonce" not in missing
    assert wrong["nonce"] and wrong["nonce"] != flow.nonce


def test_the_token_endpoint_can_be_down(op):
    flow = Flow(op.oidc_url)
    code = flow.sign_in()["code"]
    switch_on(op, status=503, times=1)

    assert flow.exchange(code).status_code == 503


def test_the_token_endpoint_can_be_slow(op):
    flow = Flow(op.oidc_url)
    code = flow.sign_in()["code"]
    switch_on(op, latency=1.0, times=1)

    with pytest.raises(requests.exceptions.ReadTimeout):
        client.post(
            op.oidc_url + "/token",
            data={"grant_type": "authorization_code", "code": code},
            auth=(CLIENT_ID, CLIENT["client_secret"]),
            timeout=0.2,
        )


def test_an_unknown_id_token_fault_is_refused(op):
    answer = client.post(
        op.url + "/_emulator/faults", json={"path": TOKEN_PATH, "id_token": "sloppy"}
    )

    assert answer.status_code == 400
    assert "id_token" in answer.json()["error"]
