"""A sign-in lasts IMGDASH_SESSION_AGE from the moment it happened, however busy the user is;
an idle browser is signed out sooner; and a user or an admin can end every session at once.
"""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from imgdash.accounts import sessions
from imgdash.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


class Clock:
    """The sessions' clock, moved by hand."""

    def __init__(self, monkeypatch):
        import time

        self.now = time.time()
        monkeypatch.setattr(sessions, "now", lambda: self.now)

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def sign_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def signed_in(client):
    response = client.get("/clusters/")
    return response.status_code == 200


@pytest.fixture
def olga(make_user, cluster, connect):
    user = make_user("olga", "Operator")
    connect(user, "operator")
    return user


def browse(client, cluster):
    pages = [
        f"/clusters/{cluster.slug}/repositories/",
        f"/clusters/{cluster.slug}/status/",
        "/clusters/",
        f"/clusters/{cluster.slug}/repositories/?q=app",
    ]
    return [client.get(page) for page in pages]


def test_browsing_does_not_give_the_session_a_new_expiry(client, olga, cluster):
    sign_in(client, "olga")
    expiry = Session.objects.get().expire_date
    browse(client, cluster)  # the first cluster page remembers the cluster: one save
    for _ in range(3):
        for response in browse(client, cluster):
            assert response.status_code == 200
            assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.get().expire_date == expiry


def test_the_absolute_lifetime_holds_for_a_busy_user(client, olga, cluster, clock):
    sign_in(client, "olga")
    step = 10 * 60  # a page every ten minutes: never idle
    for _ in range(settings.SESSION_COOKIE_AGE // step - 1):
        clock.advance(step)
        assert all(r.status_code == 200 for r in browse(client, cluster))
    clock.advance(2 * step)
    response = client.get(f"/clusters/{cluster.slug}/repositories/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not signed_in(client)


def test_an_idle_session_is_signed_out(client, olga, cluster, clock):
    sign_in(client, "olga")
    clock.advance(settings.SESSION_IDLE_TIMEOUT - 60)
    assert signed_in(client)
    clock.advance(settings.SESSION_IDLE_TIMEOUT + 1)
    response = client.get(f"/clusters/{cluster.slug}/repositories/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"signed out after" in response.content
    assert not signed_in(client)


def test_activity_is_written_at_most_once_a_minute(client, olga, cluster, clock):
    sign_in(client, "olga")
    browse(client, cluster)
    clock.advance(90)
    saved = [
        settings.SESSION_COOKIE_NAME in r.cookies for _ in range(5) for r in browse(client, cluster)
    ]
    assert saved.count(True) == 1


def test_sign_out_everywhere_ends_another_clients_session(olga, cluster):
    laptop, phone = Client(), Client()
    sign_in(laptop, "olga")
    sign_in(phone, "olga")
    assert signed_in(laptop) and signed_in(phone)
    page = laptop.get("/clusters/").content.decode()
    assert 'action="/accounts/sign-out-everywhere/"' in page
    response = laptop.post("/accounts/sign-out-everywhere/")
    assert response.status_code == 302
    assert not signed_in(phone)
    assert not signed_in(laptop)
    event = AuditEvent.objects.get(action="auth.sign_out_everywhere")
    assert (event.actor_username, event.target) == ("olga", "olga")
    # Signing in again works as before.
    sign_in(phone, "olga")
    assert signed_in(phone)


def test_sign_out_everywhere_needs_post(client, olga):
    sign_in(client, "olga")
    assert client.get("/accounts/sign-out-everywhere/").status_code == 405
    assert signed_in(client)


def test_an_admin_signs_a_user_out_everywhere(olga, make_user):
    phone, admin = Client(), Client()
    sign_in(phone, "olga")
    admin.force_login(make_user("root", superuser=True))
    response = admin.post(
        "/admin/auth/user/",
        {"action": "sign_out_everywhere", "_selected_action": [olga.pk]},
    )
    assert response.status_code == 302
    assert not signed_in(phone)
    event = AuditEvent.objects.get(action="auth.sign_out_everywhere")
    assert (event.actor_username, event.target) == ("root", "olga")
    assert admin.get("/admin/").status_code == 200  # the admin's own session goes on
