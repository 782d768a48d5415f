"""The action log in a real browser: htmx filtering with a shareable URL, rows that expand."""

import pytest
from playwright.sync_api import expect

from imgdash.audit.log import record_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_filters_the_log_and_expands_a_row(page, make_user, sign_in):
    auditor = make_user("audra", "Auditor")
    for n in range(3):
        record_event(None, "credential.connect", target=f"credential c{n}")
    record_event(
        None,
        "repository.scope",
        outcome="refused",
        target="team/app",
        status=403,
        message="Forbidden",
        details={"before": "namespace", "after": "global"},
    )

    sign_in(auditor)
    page.goto("/audit/")
    rows = page.locator("#audit-results tbody tr.event")
    expect(rows).to_have_count(5)  # the four above and the sign-in
    page.evaluate("window.stillTheSamePage = true")

    page.select_option("#id_outcome", "refused")
    page.wait_for_url("**/audit/?*outcome=refused*")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("team/app")
    assert page.evaluate("window.stillTheSamePage") is True  # swapped by htmx, not reloaded

    details = page.locator(".event-details-row").first
    expect(details.locator("pre")).to_be_hidden()
    rows.first.locator("details.event-toggle summary").click()
    expect(details.locator("pre")).to_be_visible()
    expect(details).to_contain_text('"after": "global"')
    expect(details).to_contain_text("403")

    # The pushed URL is shareable: opening it fresh gives the same filtered page.
    page.goto(page.url)
    expect(rows).to_have_count(1)
    expect(page.locator("#id_outcome")).to_have_value("refused")


def test_at_phone_width_an_entry_is_on_the_first_screen_and_nothing_scrolls_sideways(
    browser, live_server, make_user
):
    from tests.conftest import sign_in_through_form

    auditor = make_user("audra", "Auditor")
    record_event(
        None,
        "repository.scope",
        target="team-a/some/rather-long-repository-name-for-a-phone",
        message="Changed from namespace to global, as the team asked in its ticket",
        details={"before": "namespace", "after": "global"},
    )
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = sign_in_through_form(context.new_page(), auditor)
        page.goto("/audit/")
        first = page.locator("#audit-results tbody tr.event").first
        expect(first).to_be_visible()
        assert first.bounding_box()["y"] < 844  # the filters leave room for the log
        wide = "e => e.scrollWidth > e.clientWidth + 1"
        assert not page.evaluate(f"({wide})(document.documentElement)")
        assert not page.locator(".table-wrap").evaluate(wide)
        scope = page.locator("#audit-results tbody tr.event", has_text="rather-long")
        scope.locator("details.event-toggle summary").click()
        expect(page.locator(".event-details-row pre").first).to_be_visible()
        assert not page.evaluate(f"({wide})(document.documentElement)")
        assert not page.locator(".table-wrap").evaluate(wide)
    finally:
        context.close()
