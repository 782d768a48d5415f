"""Password guessing is throttled: imgdash's own sign-in, and connect-by-password, which would
otherwise make imgdash an unthrottled guessing proxy against the cluster's identity provider.
"""

import re

import pytest
from django.conf import settings

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

IDENTITY = "/idprovider/v1/auth/identitytoken"


def sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def is_signed_in(client):
    return "_auth_user_id" in client.session


def test_200_wrong_passwords_then_the_right_one_does_not_sign_in(client, make_user):
    make_user("vera", "Viewer")
    for attempt in range(200):
        sign_in(client, "vera", f"guess-{attempt}")
    response = sign_in(client, "vera", PASSWORD)
    assert response.status_code == 429
    assert not is_signed_in(client)
    assert "Too many failed sign-ins" in response.content.decode()


def test_the_locked_out_page_says_when_to_try_again_in_the_sign_in_layout(client, make_user):
    make_user("vera", "Viewer")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, "vera", f"guess-{attempt}")
    assert response.status_code == 429
    page = response.content.decode()
    assert 'class="auth-box card"' in page
    assert re.search(r"Try again after <time[^>]*>\d\d:\d\d UTC", page)
    assert "15 minutes" in page
    assert 'href="/accounts/login/"' in page


def test_a_lockout_does_not_tell_whether_the_username_exists(client, make_user):
    make_user("vera", "Viewer")
    pages = {}
    for name in ("vera", "nobody-by-this-name"):
        for attempt in range(settings.AXES_FAILURE_LIMIT + 2):
            response = sign_in(client, name, f"guess-{attempt}")
        assert response.status_code == 429
        page = response.content.decode()
        # What differs anyway: times, the CSRF token, the request id.
        page = re.sub(
            r'"[^"]*\d\d:\d\d[^"]*"|"[A-Za-z0-9]{64}"|request (<span[^>]*>)?[0-9a-f]+|\d\d:\d\d',
            "",
            page,
        )
        pages[name] = page.replace(name, "NAME")
    assert pages["vera"] == pages["nobody-by-this-name"]


def test_one_log_row_per_lockout_not_one_per_rejected_attempt(client, make_user):
    make_user("vera", "Viewer")
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit + 30):
        sign_in(client, "vera", f"guess-{attempt}", REMOTE_ADDR="192.0.2.9")
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == limit
    lockout = AuditEvent.objects.get(action="auth.lockout")
    assert (lockout.target, lockout.ip, lockout.outcome) == ("vera", "192.0.2.9", "denied")
    assert lockout.details["failures"] == limit
    assert lockout.details["cooloff_seconds"] == 15 * 60
    assert "locked_until" in lockout.details


def test_the_lockout_is_per_username_and_address(client, make_user):
    make_user("vera", "Viewer")
    for attempt in range(settings.AXES_FAILURE_LIMIT + 3):
        sign_in(client, "vera", f"guess-{attempt}", REMOTE_ADDR="192.0.2.9")
    # Vera from her own desk is not locked out by someone guessing from elsewhere.
    assert sign_in(client, "vera", PASSWORD, REMOTE_ADDR="198.51.100.4").status_code == 302


def test_behind_a_proxy_the_lockout_follows_the_forwarded_address(client, make_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("vera", "Viewer")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "vera", f"guess-{attempt}", HTTP_X_FORWARDED_FOR="192.0.2.9", **proxy)
    assert (
        sign_in(client, "vera", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.9", **proxy).status_code
        == 429
    )
    # The same proxy forwarding someone else: not locked out.
    ok = sign_in(client, "vera", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
    assert ok.status_code == 302
    # A forged left-most entry does not move the attacker to a fresh address.
    client.logout()
    forged = sign_in(client, "vera", "x", HTTP_X_FORWARDED_FOR="203.0.113.1, 192.0.2.9", **proxy)
    assert forged.status_code == 429


@pytest.fixture
def viewer(client, make_user):
    user = make_user("vic", "Viewer")
    client.force_login(user)
    return user


def identity_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith(IDENTITY)]


def test_50_wrong_cluster_passwords_then_the_right_one_does_not_connect(
    client, viewer, cluster, emulator
):
    url = f"/clusters/{cluster.slug}/connect/"
    for attempt in range(50):
        client.post(url, {"username": "admin", "password": f"guess-{attempt}"})
    response = client.post(url, {"username": "admin", "password": "admin"})
    assert response.status_code == 429
    assert not Credential.objects.exists()
    assert len(identity_calls(emulator)) <= settings.AXES_FAILURE_LIMIT
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert re.search(r"Try again after <time[^>]*>\d\d:\d\d UTC", page)


def test_a_connect_lockout_is_logged_once_with_the_count(client, viewer, cluster, emulator):
    url = f"/clusters/{cluster.slug}/connect/"
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit + 20):
        client.post(url, {"username": "admin", "password": f"guess-{attempt}"})
    assert AuditEvent.objects.filter(action="credential.connect_failed").count() == limit
    lockout = AuditEvent.objects.get(action="credential.connect_locked")
    assert lockout.cluster == cluster
    assert lockout.actor_username == "vic"
    assert lockout.target == f"admin@{cluster.slug}"
    assert lockout.details["failures"] == limit
    assert lockout.details["cooloff_seconds"] == 15 * 60


def test_the_connect_lockout_is_per_cluster_username(client, viewer, cluster, emulator):
    url = f"/clusters/{cluster.slug}/connect/"
    for attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(url, {"username": "admin", "password": f"guess-{attempt}"})
    response = client.post(url, {"username": "nsadmin", "password": "nsadmin"})
    assert response.status_code == 302
    assert Credential.objects.get().subject == "nsadmin"


def test_a_pasted_token_still_connects_while_a_password_is_locked(
    client, viewer, cluster, emulator
):
    url = f"/clusters/{cluster.slug}/connect/"
    for attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(url, {"username": "admin", "password": f"guess-{attempt}"})
    response = client.post(url, {"token": emulator.issue_id_token("operator")})
    assert response.status_code == 302


def test_a_successful_connect_forgets_earlier_mistakes(client, viewer, cluster, emulator):
    url = f"/clusters/{cluster.slug}/connect/"
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        client.post(url, {"username": "nsadmin", "password": f"typo-{attempt}"})
    assert client.post(url, {"username": "nsadmin", "password": "nsadmin"}).status_code == 302
    for attempt in range(limit - 1):
        client.post(url, {"username": "nsadmin", "password": f"typo-{attempt}"})
    assert client.post(url, {"username": "nsadmin", "password": "nsadmin"}).status_code == 302


def test_an_unreachable_provider_does_not_count_as_a_wrong_password(
    client, viewer, cluster, emulator
):
    url = f"/clusters/{cluster.slug}/connect/"
    emulator.faults.add(method="POST", path=IDENTITY, status=503)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        assert client.post(url, {"username": "admin", "password": "admin"}).status_code == 400
    emulator.faults.clear()
    assert client.post(url, {"username": "admin", "password": "admin"}).status_code == 302


def test_a_client_without_a_usable_address_is_throttled_too(client, make_user):
    # e.g. gunicorn on a unix socket with no trusted proxy set: REMOTE_ADDR is empty.
    make_user("vera", "Viewer")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "vera", f"guess-{attempt}", REMOTE_ADDR="")
    assert sign_in(client, "vera", PASSWORD, REMOTE_ADDR="").status_code == 429


def test_a_name_longer_than_any_username_is_refused_and_still_counted(client, make_user):
    """axes stores the attempted name in 255 characters: PostgreSQL refused a longer one, and
    the sign-in answered 500 (found by the fuzzing in test_fuzz_connect.py)."""
    from axes.models import AccessAttempt

    long_name = "team-a/" * 100
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, long_name, f"guess-{attempt}")
    assert response.status_code == 429
    stored = AccessAttempt.objects.values_list("username", flat=True).get()
    assert stored == long_name[:255]
