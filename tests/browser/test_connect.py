"""Connecting a cluster credential through the real connect page."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import visible_repositories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_connects_with_a_pasted_token(page, make_user, sign_in, cluster, emulator):
    sign_in(make_user("vera", "Viewer"))
    page.goto("/clusters/emu/connect/")
    expect(page.get_by_role("heading", name="Connect to Emulator")).to_be_visible()

    page.get_by_label("ID token").fill(emulator.issue_id_token("operator"))
    page.get_by_role("button", name="Connect with token").click()

    page.wait_for_url("**/clusters/emu/repositories/")
    expect(page.locator("#messages")).to_contain_text("Connected to Emulator as operator")
    names = sorted(r["name"] for r in visible_repositories(emulator, "operator"))
    rows = page.locator("#repository-table tbody tr")
    expect(rows).to_have_count(min(50, len(names)))
    expect(page.locator("#results .pager").first).to_contain_text(f"of {len(names)}")
    expect(rows.first.locator("td.repo-name")).to_have_text(names[0])


def test_it_shows_a_refused_password_and_forgets_it(page, make_user, sign_in, cluster):
    sign_in(make_user("vera", "Viewer"))
    page.goto("/clusters/emu/connect/")

    page.get_by_label("Cluster username").fill("operator")
    page.get_by_label("Cluster password").fill("not-the-password")
    page.get_by_role("button", name="Sign in and connect").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not connected")
    expect(alert).to_contain_text("Nothing was saved.")
    assert page.url.endswith("/clusters/emu/connect/")
    expect(page.get_by_label("Cluster password")).to_have_value("")
    expect(page.get_by_label("Cluster username")).to_have_value("operator")
    expect(page.get_by_label("ID token")).to_have_value("")
