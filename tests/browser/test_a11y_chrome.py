"""The page chrome as a user meets it: a progress bar when something takes a while, and the
footer's request id."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL = "/clusters/emu/repositories/default/alpine/"


@pytest.fixture
def olga(make_user, connect):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    return user


@pytest.fixture
def signed_in(browser, live_server, olga):
    """A page of a new browser context, signed in as Olga, an Operator."""

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return sign_in_through_form(context.new_page(), olga)

    contexts = []
    yield open_page
    for context in contexts:
        context.close()


def test_a_slow_htmx_request_shows_the_progress_bar_and_marks_its_region_busy(signed_in, emulator):
    page = signed_in()
    page.goto(DETAIL)
    bar = page.locator("#progress-bar")
    expect(bar).to_be_hidden()
    emulator.faults.add(method="GET", path="/auth/token", latency=1.5)
    page.click("#get-docker-token")
    expect(bar).to_be_visible()
    expect(page.locator("#docker-token-slot")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#docker-token-value")).to_be_visible()
    expect(bar).to_be_hidden()
    expect(page.locator("#docker-token-slot")).not_to_have_attribute("aria-busy", "true")


def test_a_slow_page_load_shows_the_progress_bar_until_the_next_page(signed_in, emulator):
    page = signed_in()
    page.goto("/clusters/emu/repositories/")
    # While the next page loads, the browser runs no script of ours for this one: the page
    # itself reports the bar appearing, on its console.
    said = []
    page.on("console", lambda message: said.append(message.text))
    page.evaluate(
        """() => {
            const bar = document.querySelector("#progress-bar");
            new MutationObserver(() => { if (!bar.hidden) console.log("progress bar shown"); })
                .observe(bar, {attributes: true});
        }"""
    )
    emulator.faults.add(method="GET", path="/repositories/default/alpine$", latency=2)
    page.locator("#repository-table a", has_text=re.compile(r"^default/alpine$")).first.click()
    page.wait_for_url(f"**{DETAIL}")
    expect(page.locator("h1")).to_be_visible()
    assert "progress bar shown" in said
    expect(page.locator("#progress-bar")).to_be_hidden()


def test_the_footer_shows_the_request_id_of_the_last_htmx_swap(signed_in):
    page = signed_in()
    page.goto(DETAIL)
    first = page.locator("#request-id").inner_text()
    with page.expect_response(re.compile(r"/docker-token/$")) as answer:
        page.click("#get-docker-token")
    expect(page.locator("#docker-token-value")).to_be_visible()
    latest = answer.value.headers["x-request-id"]
    assert latest != first
    expect(page.locator("#request-id")).to_have_text(latest)
