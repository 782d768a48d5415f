"""The account menu's "Sign out everywhere": found, used, and what it does to another browser."""

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_out_this_browser_and_another_one(page, browser, live_server, make_user):
    user = make_user("vera", "Viewer")
    other = browser.new_context(base_url=live_server.url).new_page()
    sign_in_through_form(other, user)
    sign_in_through_form(page, user)

    menu = page.locator("#account-menu")
    button = menu.get_by_role("button", name="Sign out everywhere")
    expect(button).to_be_hidden()
    menu.locator("summary").click()
    expect(button).to_be_visible()
    button.click()

    page.wait_for_url("**/accounts/login/")
    expect(page.get_by_role("status")).to_contain_text("signed out on every device")
    other.goto("/clusters/")
    expect(other.get_by_role("heading", name="Sign in to imgdash")).to_be_visible()
    other.context.close()
