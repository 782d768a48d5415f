import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client

from imgdash.accounts import sessions
from imgdash.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username):
    assert (
        client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code
        == 302
    )


def signed_in(client):
    return client.get("/clusters/").status_code == 200


def test_sign_out_everywhere_leaves_other_users_signed_in(make_user):
    make_user("olga", "Viewer")
    make_user("vera", "Viewer")
    olga, vera = Client(), Client()
    sign_in(olga, "olga")
    sign_in(vera, "vera")
    olga.post("/accounts/sign-out-everywhere/")
    assert signed_in(vera)
    assert not signed_in(olga)


def test_the_service_can_be_called_for_any_user_and_is_logged(make_user):
    olga = make_user("olga", "Viewer")
    phone = Client()
    sign_in(phone, "olga")
    root = make_user("root", superuser=True)
    sessions.sign_out_everywhere(olga, actor=root)
    sessions.sign_out_everywhere(olga, actor=root)  # twice is fine
    assert not signed_in(phone)
    assert (
        AuditEvent.objects.filter(
            action="auth.sign_out_everywhere", actor_username="root", target="olga"
        ).count()
        == 2
    )


def test_a_session_from_before_the_clocks_goes_on_and_gets_them(client, make_user):
    olga = make_user("olga", "Viewer")
    client.force_login(olga)
    store = SessionStore(client.session.session_key)
    for key in (sessions.SIGNED_IN_AT, sessions.LAST_SEEN, sessions.EPOCH):
        store.pop(key)
    store.save()
    assert signed_in(client)
    assert sessions.SIGNED_IN_AT in SessionStore(client.session.session_key).load()


def test_the_idle_timeout_comes_from_the_settings(client, make_user, settings, monkeypatch):
    import time

    settings.SESSION_IDLE_TIMEOUT = 300
    make_user("olga", "Viewer")
    sign_in(client, "olga")
    monkeypatch.setattr(sessions, "now", lambda: time.time() + 301)
    response = client.get("/clusters/", follow=True)
    assert b"signed out after 5 minutes without activity" in response.content
