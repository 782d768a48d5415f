"""The page chrome as a user meets it: a progress bar when something takes a while, the footer's
request id, copy buttons only where they work, the token countdown, the sign-in error, the
favicon, and the status page at phone width."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL = "/clusters/emu/repositories/default/alpine/"


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


def test_copy_buttons_show_only_with_javascript_and_the_text_stays_selectable(signed_in):
    page = signed_in(java_script_enabled=False)
    page.goto(DETAIL)
    pull = page.locator("code").filter(has_text="docker pull").first
    expect(pull).to_be_visible()
    expect(page.locator("[data-copy]").first).to_be_attached()
    expect(page.locator("[data-copy]:visible")).to_have_count(0)
    assert pull.evaluate("(el) => getComputedStyle(el).userSelect") in ("all", "text", "auto")

    page = signed_in()
    page.goto(DETAIL)
    expect(page.locator("[data-copy]:visible").first).to_be_visible()


def test_the_docker_token_countdown_reads_in_minutes(signed_in):
    page = signed_in(java_script_enabled=False)
    page.goto(DETAIL)
    page.click("#get-docker-token")
    page.wait_for_url("**/docker-token/")
    expect(page.locator("[data-countdown]")).to_have_text("expires in 30 min")

    page = signed_in()
    page.goto(DETAIL)
    page.click("#get-docker-token")
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^expires in (30|29) min$"))


def test_a_failed_sign_in_moves_focus_to_the_error(page, operator):
    page.goto("/accounts/login/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "not her password")
    page.get_by_role("button", name="Sign in").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("username and password")
    expect(error).to_be_focused()


def test_the_favicon_is_served(page):
    page.goto("/accounts/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(icon)
    assert answer.ok and answer.headers["content-type"].startswith("image/")
    answer = page.request.get("/favicon.ico")
    assert answer.ok and answer.headers["content-type"].startswith("image/")


def test_the_status_page_does_not_scroll_sideways_on_a_phone(signed_in):
    page = signed_in(viewport={"width": 390, "height": 844})
    page.goto("/clusters/emu/status/")
    expect(page.locator("#endpoints")).to_be_visible()
    widths = page.evaluate(
        """() => [document.documentElement.scrollWidth,
                  ...[...document.querySelectorAll("main *")]
                      .filter((el) => el.scrollWidth > el.clientWidth + 1
                              && getComputedStyle(el).overflowX !== "visible")
                      .map((el) => el.tagName + "." + el.className)]"""
    )
    assert widths == [390]


def test_the_action_log_does_not_scroll_sideways_on_a_phone(browser, live_server, make_user):
    auditor = make_user("alma", "Auditor")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = sign_in_through_form(context.new_page(), auditor)
        page.goto("/audit/")
        expect(page.locator("#audit-filters")).to_be_visible()
        # The filter's longest action name once made the whole page 485 px wide.
        assert page.evaluate("document.documentElement.scrollWidth") == 390
    finally:
        context.close()
