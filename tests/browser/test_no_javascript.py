"""With JavaScript off, the repository list is still a plain form and plain links."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import has_param, matches_text, names
from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_it_searches_and_pages_by_submitting(page_without_js, make_user, connect, emulator):
    page = page_without_js
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    sign_in_through_form(page, user)
    page.goto("/clusters/emu/repositories/")
    expect(names(page)).to_have_count(50)

    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(has_param("page", "2"))
    everything = sorted(r["name"] for r in emulator.repositories.all())
    expect(names(page)).to_have_text(everything[50:])

    found = sorted(r["name"] for r in emulator.repositories.all() if matches_text(r, "team-b"))
    assert 0 < len(found) < 50
    page.locator("#search").fill("team-b")
    page.locator("#search").press("Enter")
    page.wait_for_url(has_param("q", "team-b"))
    expect(names(page)).to_have_text(found)
    expect(page.locator("#search")).to_have_value("team-b")
