"""The people page in a browser: a role granted there counts on the person's next page load,
and deactivation is confirmed in a dialog, then ends their session and deletes their tokens."""

import pytest
from playwright.sync_api import expect

from imgdash.clusters.models import Credential
from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_browsers(browser, live_server, make_user):
    """(the admin's page, Vera's page), each signed in through the form in its own browser."""
    contexts = [browser.new_context(base_url=live_server.url) for _ in range(2)]
    admin_page, vera_page = (context.new_page() for context in contexts)
    sign_in_through_form(admin_page, make_user("ada", superuser=True))
    sign_in_through_form(vera_page, make_user("vera"))
    yield admin_page, vera_page
    for context in contexts:
        context.close()


def test_a_role_granted_on_the_page_counts_on_the_next_page_load(two_browsers):
    admin_page, vera_page = two_browsers
    vera_page.goto("/clusters/")
    expect(vera_page.get_by_role("heading", name="Not allowed")).to_be_visible()

    admin_page.get_by_role("link", name="People").click()
    row = admin_page.locator('tr[data-username="vera"]')
    row.get_by_label("Role to grant vera").select_option("Viewer")
    row.get_by_role("button", name="Grant the chosen role to vera").click()
    expect(admin_page.get_by_role("status").first).to_contain_text("vera now has the Viewer role")
    expect(admin_page.locator('tr[data-username="vera"] .badge')).to_have_text(["Viewer"])

    vera_page.reload()
    expect(vera_page.get_by_role("heading", name="Clusters", exact=True)).to_be_visible()


def test_deactivation_is_confirmed_in_a_dialog(two_browsers, connect, django_user_model):
    admin_page, vera_page = two_browsers
    vera = django_user_model.objects.get(username="vera")
    connect(vera, "viewer")
    admin_page.goto("/people/?q=vera")

    admin_page.get_by_role("link", name="Deactivate… vera").click()
    dialog = admin_page.locator("dialog[open]")
    expect(dialog).to_contain_text("1 stored cluster token is deleted")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_have_count(0)
    admin_page.get_by_role("link", name="Deactivate… vera").click()
    admin_page.locator("dialog[open]").get_by_role("button", name="Deactivate vera").click()

    admin_page.wait_for_url("**/people/?q=vera")
    expect(admin_page.get_by_role("status").first).to_contain_text("vera is deactivated")
    expect(admin_page.locator('tr[data-username="vera"]')).to_contain_text("inactive")
    assert not Credential.objects.filter(user=vera).exists()
    vera_page.goto("/clusters/")
    expect(vera_page.get_by_role("heading", name="Sign in to imgdash")).to_be_visible()
