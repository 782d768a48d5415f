"""The action log in a real browser: htmx filtering with a shareable URL, rows that expand."""

import os

import pytest

from imgdash.audit.log import record_event

# Playwright's sync API runs an event loop in this thread; the ORM calls here stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-test-password-1"


@pytest.fixture
def chromium_page(live_server):
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        yield context.new_page()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_filters_the_log_and_expands_a_row(chromium_page, django_user_model):
    from playwright.sync_api import expect

    # A superuser, not an Auditor: other transactional tests may have flushed the role groups.
    django_user_model.objects.create_superuser("audra", "audra@example.com", PASSWORD)
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

    page = chromium_page
    page.goto("/accounts/login/")
    page.fill("#id_username", "audra")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto("/audit/")
    rows = page.locator("#audit-results tbody tr")
    expect(rows).to_have_count(5)  # the four above and the sign-in
    page.evaluate("window.stillTheSamePage = true")

    page.select_option("#id_outcome", "refused")
    page.wait_for_url("**/audit/?*outcome=refused*")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("team/app")
    assert page.evaluate("window.stillTheSamePage") is True  # swapped by htmx, not reloaded

    details = rows.first.locator("details.event-details")
    expect(details.locator("pre")).to_be_hidden()
    details.locator("summary").click()
    expect(details.locator("pre")).to_be_visible()
    expect(details).to_contain_text('"after": "global"')
    expect(details).to_contain_text("403")

    # The pushed URL is shareable: opening it fresh gives the same filtered page.
    page.goto(page.url)
    expect(rows).to_have_count(1)
    expect(page.locator("#id_outcome")).to_have_value("refused")
