"""The signed, single-use tokens that keep a confirmed delete from being sent twice."""

import threading
import types

import pytest
from django.core import signing

from imgdash.repositories.confirmation import claim_confirmation, confirmation_token

pytestmark = pytest.mark.django_db

PURPOSE = "delete:team-a/orders-api"
SALT = "imgdash.confirm"


@pytest.fixture
def olga(make_user):
    return make_user("olga", "Operator")


@pytest.fixture
def clock(monkeypatch):
    """clock.now = seconds: the time the token signer reads (the cache keeps real time)."""
    clock = types.SimpleNamespace(now=1_800_000_000)
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: clock.now))
    return clock


def test_a_token_is_claimed_once_and_a_replay_is_refused(olga):
    token = confirmation_token(olga, PURPOSE)
    assert claim_confirmation(olga, PURPOSE, token) is True
    assert claim_confirmation(olga, PURPOSE, token) is False
    assert claim_confirmation(olga, PURPOSE, token) is False


def test_each_confirmation_form_gets_its_own_token(olga):
    first, second = confirmation_token(olga, PURPOSE), confirmation_token(olga, PURPOSE)
    assert first != second
    assert claim_confirmation(olga, PURPOSE, first) is True
    assert claim_confirmation(olga, PURPOSE, second) is True


def test_only_one_of_many_simultaneous_claims_wins(olga):
    token = confirmation_token(olga, PURPOSE)
    start = threading.Barrier(8)
    results = []

    def claim():
        start.wait(timeout=10)
        results.append(claim_confirmation(olga, PURPOSE, token))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]


def test_another_users_token_is_refused_and_stays_usable_by_its_owner(olga, make_user):
    token = confirmation_token(olga, PURPOSE)
    assert claim_confirmation(make_user("otto", "Operator"), PURPOSE, token) is False
    assert claim_confirmation(olga, PURPOSE, token) is True


@pytest.mark.parametrize("other", ["delete:team-a/orders-ui", "bulk-delete", "", PURPOSE + " "])
def test_a_token_for_another_purpose_is_refused_and_stays_usable(olga, other):
    token = confirmation_token(olga, PURPOSE)
    assert claim_confirmation(olga, other, token) is False
    assert claim_confirmation(olga, PURPOSE, token) is True


def changed_at(token, index):
    """The token with one character changed."""
    return token[:index] + ("x" if token[index] != "x" else "y") + token[index + 1 :]


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda token: changed_at(token, len(token) - 1), id="signature"),
        pytest.param(lambda token: changed_at(token, 5), id="payload"),
        pytest.param(lambda token: token.rsplit(":", 1)[0], id="no signature"),
        pytest.param(lambda token: token + "x", id="appended"),
        pytest.param(lambda token: token.upper(), id="case"),
    ],
)
def test_a_tampered_token_is_refused(olga, spoil):
    token = confirmation_token(olga, PURPOSE)
    assert spoil(token) != token
    assert claim_confirmation(olga, PURPOSE, spoil(token)) is False


@pytest.mark.parametrize(
    "token", [None, "", " ", "garbage", "a:b:c", ":::", "x" * 10_000, "\x00", "é:é"]
)
def test_garbage_is_refused(olga, token):
    assert claim_confirmation(olga, PURPOSE, token) is False


def test_a_value_signed_for_something_else_is_refused(olga):
    payload = {"user": olga.pk, "purpose": PURPOSE, "nonce": "abc"}
    assert claim_confirmation(olga, PURPOSE, signing.dumps(payload)) is False
    assert claim_confirmation(olga, PURPOSE, signing.dumps(payload, salt="other")) is False
    assert claim_confirmation(olga, PURPOSE, signing.dumps(payload, salt=SALT)) is True


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda pk: ["user", pk, "purpose", PURPOSE, "nonce", "n1"], id="list"),
        pytest.param(lambda pk: PURPOSE, id="string"),
        pytest.param(lambda pk: pk, id="number"),
        pytest.param(lambda pk: None, id="null"),
        pytest.param(lambda pk: {"purpose": PURPOSE, "nonce": "n1"}, id="no user"),
        pytest.param(lambda pk: {"user": str(pk), "purpose": PURPOSE, "nonce": "n1"}, id="pk text"),
        pytest.param(lambda pk: {"user": pk, "nonce": "n1"}, id="no purpose"),
        pytest.param(lambda pk: {"user": pk, "purpose": PURPOSE}, id="no nonce"),
        pytest.param(lambda pk: {"user": pk, "purpose": PURPOSE, "nonce": ""}, id="empty nonce"),
    ],
)
def test_a_validly_signed_payload_of_the_wrong_shape_is_refused(olga, payload):
    token = signing.dumps(payload(olga.pk), salt=SALT)
    assert claim_confirmation(olga, PURPOSE, token) is False


def test_a_form_left_open_for_an_hour_can_still_be_confirmed(olga, clock):
    token = confirmation_token(olga, PURPOSE)
    clock.now += 3600
    assert claim_confirmation(olga, PURPOSE, token) is True


def test_a_token_older_than_an_hour_is_refused(olga, clock):
    token = confirmation_token(olga, PURPOSE)
    clock.now += 3601
    assert claim_confirmation(olga, PURPOSE, token) is False
    clock.now += 86_400
    assert claim_confirmation(olga, PURPOSE, token) is False
