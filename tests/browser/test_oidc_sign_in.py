"""“Sign in with <cluster>” in a browser, against the emulator's provider over sockets."""

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from tests.clusters.oidc_helpers import CLIENT_ID, CLIENT_SECRET, offer_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TOKEN_PATH = "/oidc/endpoint/OP/token$"


@pytest.fixture
def provider(emulator, cluster, live_server):
    emulator.oidc_clients.register(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "client_name": "imgdash (tests)",
            "redirect_uris": [live_server.url + "/oidc/callback/"],
            "post_logout_redirect_uris": [live_server.url + "/"],
        }
    )
    return offer_sign_in(cluster, emulator)


def log_in_at_the_provider(page, username):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Emulator").click()
    expect(page.get_by_role("heading", name="Log in to IBM Cloud Private")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@override_settings(OIDC_ROLE_MAP={"team-a-devs": {"Operator"}})
def test_a_new_user_signs_in_with_the_cluster_and_lands_on_the_list(
    page, provider, django_user_model
):
    log_in_at_the_provider(page, "editor")

    page.wait_for_url("**/clusters/emu/repositories/**")
    expect(page.locator("#repository-table tbody tr").first).to_be_visible()
    expect(page.locator("#repository-table")).to_contain_text("team-a/")
    user = django_user_model.objects.get(username="editor")
    assert set(user.groups.values_list("name", flat=True)) == {"Operator"}
    assert user.cluster_credentials.get().subject == "editor"


@pytest.mark.parametrize(
    "fault, says",
    [
        ("bad_signature", "not signed by this cluster's provider"),
        ("expired", "has expired"),
        ("wrong_audience", "was issued to another application than imgdash"),
    ],
)
def test_a_tampered_expired_or_misaddressed_token_gives_a_clear_refusal(
    page, provider, emulator, django_user_model, fault, says
):
    from imgdash.audit.models import AuditEvent

    emulator.faults.add(method="POST", path=TOKEN_PATH, id_token=fault, times=1)
    log_in_at_the_provider(page, "editor")

    expect(page.get_by_role("heading")).to_contain_text("Signing in with Emulator did not work")
    expect(page.get_by_role("alert")).to_contain_text(says)
    expect(page.get_by_role("link", name="Sign in with your imgdash account")).to_be_visible()
    assert not django_user_model.objects.exists()
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed").get()
    assert says in failed.message


def test_signing_out_ends_the_provider_session_too(page, provider, emulator):
    log_in_at_the_provider(page, "editor")
    page.wait_for_url("**/clusters/emu/repositories/**")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("ends your session there too")).to_be_visible()
    page.wait_for_url("**/accounts/login/**")  # the provider sent the browser back
    # Back from the provider: the next "Sign in with" asks for the password again.
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Emulator").click()
    expect(page.get_by_role("heading", name="Log in to IBM Cloud Private")).to_be_visible()
