"""“Sign in with <cluster>” against the emulator's OpenID provider over a real socket."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import ClusterIdentity, Credential, SignInProvider
from tests.clusters.oidc_helpers import (
    callback_path,
    offer_sign_in,
    register_client,
    sign_in_at_provider,
    sign_in_with_cluster,
    start,
)

pytestmark = pytest.mark.django_db
TOKEN_PATH = "/oidc/endpoint/OP/token$"


@pytest.fixture
def provider(emulator, cluster):
    """The emulator cluster, offering "Sign in with Emulator"."""
    register_client(emulator)
    return offer_sign_in(cluster, emulator)


def failures():
    return list(AuditEvent.objects.filter(action="auth.sign_in_failed").order_by("pk"))


def test_it_offers_a_button_for_each_enabled_cluster(client, provider):
    page = client.get("/accounts/login/")
    assert "Sign in with Emulator" in page.content.decode()
    SignInProvider.objects.update(enabled=False)
    assert "Sign in with Emulator" not in client.get("/accounts/login/").content.decode()


def test_a_new_user_is_made_from_the_claims_and_connected(client, provider, cluster):
    answer = sign_in_with_cluster(client, cluster, "editor")
    assert answer.status_code == 302
    user = get_user_model().objects.get(username="editor")
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name, user.email) == ("Edith", "Editor", user.email)
    assert user.last_login is not None
    identity = ClusterIdentity.objects.get(user=user)
    assert identity.subject == "editor" and identity.issuer.endswith("/oidc/endpoint/OP")
    assert identity.refresh_token  # kept, encrypted
    credential = Credential.objects.get(user=user, cluster=cluster)
    assert credential.subject == "editor" and credential.expires_at > datetime.now(UTC)
    # The stored token is the cluster's Bearer token: the repository list works at once.
    page = client.get(f"/clusters/{cluster.slug}/repositories/")
    assert page.status_code == 200
    assert "team-a/" in page.content.decode()


def test_signing_in_again_finds_the_same_user_and_refreshes_the_token(client, provider, cluster):
    sign_in_with_cluster(client, cluster, "editor")
    first = Credential.objects.get(cluster=cluster).fingerprint
    client.logout()
    sign_in_with_cluster(client, cluster, "editor")
    assert get_user_model().objects.count() == 1
    assert Credential.objects.get(cluster=cluster).fingerprint != first


def test_a_local_account_of_the_same_name_is_never_signed_into(
    client, provider, cluster, make_user
):
    local = make_user("editor", "Operator")
    sign_in_with_cluster(client, cluster, "editor")
    made = ClusterIdentity.objects.get().user
    assert made.pk != local.pk
    assert made.username == "editor-2"
    assert not Credential.objects.filter(user=local).exists()
    assert client.get("/").wsgi_request.user.pk == made.pk


@override_settings(OIDC_ROLE_MAP={"team-a-devs": {"Operator"}, "auditors": {"Auditor"}})
def test_roles_come_from_the_groups_claim(client, provider, cluster):
    sign_in_with_cluster(client, cluster, "editor")  # groups: team-a-devs
    user = get_user_model().objects.get(username="editor")
    assert set(user.groups.values_list("name", flat=True)) == {"Operator"}


@override_settings(OIDC_ROLE_MAP={}, OIDC_DEFAULT_ROLE="Viewer")
def test_anyone_unmapped_gets_the_default_role(client, provider, cluster):
    sign_in_with_cluster(client, cluster, "operator")
    user = get_user_model().objects.get(username="operator")
    assert set(user.groups.values_list("name", flat=True)) == {"Viewer"}


@override_settings(OIDC_ROLE_MAP={}, OIDC_DEFAULT_ROLE=None)
def test_default_role_none_gives_no_role(client, provider, cluster):
    sign_in_with_cluster(client, cluster, "operator")
    user = get_user_model().objects.get(username="operator")
    assert not user.groups.exists()
    assert client.get(f"/clusters/{cluster.slug}/repositories/").status_code == 403


@override_settings(OIDC_ROLE_MAP={"team-a-devs": {"Viewer"}})
def test_a_role_granted_by_hand_survives_the_next_sign_in(client, provider, cluster):
    from imgdash.accounts.roles import grant_role

    sign_in_with_cluster(client, cluster, "editor")
    user = get_user_model().objects.get(username="editor")
    grant_role(user, "Auditor")
    client.logout()
    sign_in_with_cluster(client, cluster, "editor")
    assert set(user.groups.values_list("name", flat=True)) == {"Viewer", "Auditor"}


@pytest.mark.parametrize(
    "fault",
    ["bad_signature", "wrong_audience", "expired", "wrong_issuer", "no_nonce", "wrong_nonce"],
)
def test_a_bad_id_token_is_refused_and_logged(client, provider, cluster, emulator, fault):
    emulator.faults.add(method="POST", path=TOKEN_PATH, id_token=fault, times=1)
    answer = sign_in_with_cluster(client, cluster, "editor")
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "did not work" in text and "Sign in with your imgdash account" in text
    assert not get_user_model().objects.exists()
    assert not Credential.objects.exists()
    [failure] = failures()
    assert failure.details["reason"] in {
        "bad_signature",
        "wrong_audience",
        "expired",
        "wrong_issuer",
        "bad_nonce",
    }
    assert "eyJ" not in failure.message  # no token in the log


def test_a_replayed_state_is_refused(client, provider, cluster):
    location = sign_in_at_provider(start(client, cluster), "editor")
    assert client.get(callback_path(location)).status_code == 302
    client.logout()
    again = client.get(callback_path(location))
    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert failures()[-1].details["reason"] == "unknown_state"


def test_a_missing_or_forged_state_is_refused(client, provider, cluster):
    location = sign_in_at_provider(start(client, cluster), "editor")
    code = callback_path(location).split("code=")[1].split("&")[0]
    assert client.get(f"/oidc/callback/?code={code}").status_code == 400
    assert client.get(f"/oidc/callback/?code={code}&state=forged").status_code == 400
    assert not get_user_model().objects.exists()
    assert len(failures()) == 2


def test_a_state_from_another_browser_is_refused(client, provider, cluster, django_user_model):
    from django.test import Client

    location = sign_in_at_provider(start(client, cluster), "editor")
    assert Client().get(callback_path(location)).status_code == 400
    assert not django_user_model.objects.exists()


def test_an_error_from_the_provider_is_shown(client, provider, cluster):
    start(client, cluster)
    state = next(iter(client.session["oidc_pending"]))
    answer = client.get(f"/oidc/callback/?error=access_denied&state={state}")
    assert answer.status_code == 400
    assert "access_denied" in answer.content.decode()


def test_a_provider_that_is_down_gives_a_clear_page(client, provider, cluster):
    provider.discovery_url = "http://127.0.0.1:9/oidc/endpoint/OP/.well-known/openid-configuration"
    provider.save()
    answer = client.post(f"/accounts/oidc/{cluster.slug}/start/")
    assert answer.status_code == 502
    assert "could not be reached" in answer.content.decode()
    assert failures()[-1].details["reason"] == "provider_unavailable"


@override_settings(LOCKOUT_FAILURES=2, AXES_FAILURE_LIMIT=2)
def test_repeated_bad_tokens_lock_the_sign_in_for_a_while(client, provider, cluster, emulator):
    emulator.faults.add(method="POST", path=TOKEN_PATH, id_token="bad_signature")
    sign_in_with_cluster(client, cluster, "editor")
    locked = sign_in_with_cluster(client, cluster, "editor")
    assert locked.status_code == 429
    assert client.post(f"/accounts/oidc/{cluster.slug}/start/").status_code == 429


def test_the_token_is_renewed_with_the_refresh_token_before_it_expires(client, provider, cluster):
    sign_in_with_cluster(client, cluster, "editor")
    credential = Credential.objects.get(cluster=cluster)
    old = credential.fingerprint
    Credential.objects.filter(pk=credential.pk).update(
        expires_at=datetime.now(UTC) + timedelta(seconds=30)
    )
    page = client.get(f"/clusters/{cluster.slug}/repositories/")
    assert page.status_code == 200
    renewed = Credential.objects.get(cluster=cluster)
    assert renewed.fingerprint != old and renewed.expires_at > datetime.now(UTC) + timedelta(
        minutes=10
    )
    assert AuditEvent.objects.filter(action="credential.refresh", outcome="ok").exists()


def test_a_refused_renewal_sends_the_user_to_sign_in_again(client, provider, cluster, emulator):
    sign_in_with_cluster(client, cluster, "editor")
    emulator.app.oidc.grants.clear()  # the provider forgets every refresh token
    Credential.objects.update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    page = client.get(f"/clusters/{cluster.slug}/repositories/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith(f"/accounts/oidc/{cluster.slug}/start/")
    assert AuditEvent.objects.filter(action="credential.refresh", outcome="failed").exists()


def test_sign_out_also_ends_the_provider_session(client, provider, cluster, emulator):
    sign_in_with_cluster(client, cluster, "editor")
    answer = client.post("/accounts/logout/")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "ends your session there too" in text
    assert f'href="{emulator.oidc_url}/logout?id_token_hint=' in text
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2F" in text
    assert client.get("/").wsgi_request.user.is_anonymous


def test_a_local_sign_out_stays_local(client, make_user, provider):
    client.force_login(make_user("vera", "Viewer"))
    answer = client.post("/accounts/logout/")
    assert answer.headers["Location"] == "/accounts/login/"


def test_a_deactivated_user_is_refused_and_gets_no_token(client, provider, cluster):
    sign_in_with_cluster(client, cluster, "editor")
    client.logout()
    user = get_user_model().objects.get(username="editor")
    user.is_active = False
    user.save()
    Credential.objects.all().delete()
    answer = sign_in_with_cluster(client, cluster, "editor")
    assert answer.status_code == 403
    assert "deactivated" in answer.content.decode()
    assert not Credential.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_pages_renewing_at_once_renew_once_and_keep_the_user_signed_in(
    client, provider, cluster, emulator
):
    # The provider rotates refresh tokens: a second renewal with the same one is refused.
    import threading

    from django.db import connections
    from django.test import Client

    sign_in_with_cluster(client, cluster, "editor")
    Credential.objects.update(expires_at=datetime.now(UTC) + timedelta(seconds=30))
    emulator.faults.add(method="POST", path=TOKEN_PATH, latency=1)  # both wait on the first
    answers = []

    def open_the_list():
        browser = Client()
        browser.cookies = client.cookies
        answers.append(browser.get(f"/clusters/{cluster.slug}/repositories/").status_code)
        connections.close_all()

    pages = [threading.Thread(target=open_the_list) for _ in range(2)]
    for page in pages:
        page.start()
    for page in pages:
        page.join(timeout=60)
    assert answers == [200, 200]
    renewals = AuditEvent.objects.filter(action="credential.refresh")
    assert [event.outcome for event in renewals] == ["ok"]
    assert Credential.objects.get(cluster=cluster).expires_at > datetime.now(UTC) + timedelta(
        minutes=10
    )
