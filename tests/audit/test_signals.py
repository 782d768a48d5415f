import pytest

from imgdash.audit.chain import CONTENT_FIELDS
from imgdash.audit.models import AuditEvent
from tests.conftest import PASSWORD


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_it_records_a_sign_in(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        HTTP_USER_AGENT="Firefox/140",
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("auth.sign_in", "ok")
    assert (event.actor, event.actor_username, event.target) == (alice, "alice", "alice")
    assert (event.ip, event.user_agent) == ("192.0.2.7", "Firefox/140")
    assert event.request_id == response["X-Request-ID"]


def test_it_records_a_failed_sign_in_without_the_password(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "guess-" + PASSWORD}
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("auth.sign_in_failed", "failed")
    assert event.actor is None
    assert event.target == "alice"
    stored = AuditEvent.objects.values(*CONTENT_FIELDS, "hash").get()
    assert PASSWORD not in repr(stored)
    assert event.request_id == response["X-Request-ID"]


def test_it_records_a_failed_sign_in_for_an_unknown_name(client, db):
    client.post("/accounts/login/", {"username": "mallory\nadmin", "password": "x"})
    event = AuditEvent.objects.get()
    assert (event.action, event.target) == ("auth.sign_in_failed", "mallory\\nadmin")


def test_it_records_a_sign_out(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert list(AuditEvent.objects.order_by("id").values_list("action", "actor_username")) == [
        ("auth.sign_in", "alice"),
        ("auth.sign_out", "alice"),
    ]


def test_signing_out_when_not_signed_in_records_nothing(client, db):
    client.post("/accounts/logout/")
    assert not AuditEvent.objects.exists()
