"""Signing in and out through the real forms, and the navigation a signed-in user sees."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_in_shows_the_navigation_and_signs_out(page, make_user, connect):
    connect(make_user("vera", "Viewer"), "viewer")

    page.goto("/accounts/login/")
    page.fill("#id_username", "vera")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/clusters/emu/repositories/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator("#cluster-switcher summary")).to_have_text("Emulator")
    expect(nav.get_by_role("link", name="Repositories", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(nav.get_by_role("link", name="Status", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Clusters", exact=True)).to_be_visible()
    expect(page.locator(".userbox")).to_contain_text("Signed in as vera")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in to imgdash")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_it_opens_and_closes_the_cluster_switcher(page, make_user, connect, sign_in):
    user = make_user("vera", "Viewer")
    connect(user, "viewer")
    sign_in(user)
    switcher = page.locator("#cluster-switcher")
    menu_link = switcher.get_by_role("link", name="All clusters & connections")
    expect(menu_link).to_be_hidden()

    switcher.locator("summary").click()
    expect(menu_link).to_be_visible()
    expect(switcher.get_by_role("link", name="Emulator")).to_have_attribute("aria-current", "true")

    page.locator("footer").click()  # a click elsewhere closes it
    expect(menu_link).to_be_hidden()

    switcher.locator("summary").click()
    expect(menu_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu_link).to_be_hidden()
    expect(switcher.locator("summary")).to_be_focused()


def test_it_sends_an_anonymous_visitor_to_sign_in_and_back(page, make_user, connect):
    connect(make_user("vera", "Viewer"), "viewer")

    page.goto("/clusters/emu/repositories/")
    page.wait_for_url("**/accounts/login/?next=/clusters/emu/repositories/")
    expect(page.get_by_role("heading", name="Sign in to imgdash")).to_be_visible()
    expect(page.locator("#repository-table")).to_have_count(0)

    page.fill("#id_username", "vera")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/clusters/emu/repositories/")
    expect(page.locator("#repository-table")).to_be_visible()
