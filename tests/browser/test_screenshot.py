"""The README's screenshots.

IMGDASH_SCREENSHOT=1 .venv/bin/pytest tests/browser/test_screenshot.py writes the list, a
detail page, the delete dialog and the action log, light and dark, into docs/screenshots/.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("IMGDASH_SCREENSHOT") != "1",
        reason="writes the README's screenshots into docs/: set IMGDASH_SCREENSHOT=1",
    ),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOTS = DOCS / "screenshots"


def snap(page, name):
    page.evaluate("document.fonts.ready")
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled")
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_saves_the_readme_screenshots(
    scheme, browser, live_server, make_user, connect, registry_cluster
):
    from django.core.management import call_command

    user = make_user("olivia", "Operator", "Auditor")
    connect(user, "admin")
    # Build dates on the list, as after a registry crawl.
    call_command("crawl_registry", "emu", "--user", "olivia", "--rate", "100", verbosity=0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, color_scheme=scheme
    )
    try:
        page = sign_in_through_form(context.new_page(), user)
        page.goto("/clusters/emu/repositories/")
        expect(page.locator("#repository-table tbody tr")).to_have_count(50)
        snap(page, f"list-{scheme}")

        page.goto("/clusters/emu/repositories/team-a/web/frontend/")
        expect(page.locator("h1")).to_be_visible()
        page.locator("#get-docker-token").click()  # something in the action log
        expect(page.locator("#docker-token-value")).to_be_visible()
        page.goto("/clusters/emu/repositories/default/alpine/")
        expect(page.locator("h1")).to_be_visible()
        snap(page, f"detail-{scheme}")

        page.locator("#delete-repository").click()
        expect(page.locator("dialog[open] [data-confirm-match]")).to_be_focused()
        page.locator("dialog[open] [data-confirm-match]").fill("default/alp")
        snap(page, f"delete-dialog-{scheme}")

        # A change, so the log shows one with its intent and outcome, its details open.
        page.keyboard.press("Escape")
        page.goto("/clusters/emu/repositories/team-a/web/frontend/")
        page.locator(".scope-cell a", has_text="change").click()
        cell = page.locator(".scope-cell.editing")
        cell.locator("input[name=scope]:not(:checked)").check()
        cell.get_by_role("button", name="Save scope").click()
        expect(page.locator(".scope-done")).to_be_visible()
        page.goto("/audit/")
        expect(page.locator("h1")).to_have_text("Action log")
        page.locator("details.event-toggle summary").first.click()
        expect(page.locator(".event-details-row").first).to_be_visible()
        snap(page, f"action-log-{scheme}")
    finally:
        context.close()
