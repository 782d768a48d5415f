"""The README's screenshot of the repository list.

IMGDASH_SCREENSHOT=1 .venv/bin/pytest tests/browser/test_screenshot.py writes docs/screenshot.png.
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
        reason="writes docs/screenshot.png: set IMGDASH_SCREENSHOT=1",
    ),
]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"


def test_it_saves_the_repository_list_for_the_readme(browser, live_server, make_user, connect):
    user = make_user("olivia", "Operator")
    connect(user, "admin")
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, color_scheme="light"
    )
    try:
        page = sign_in_through_form(context.new_page(), user)
        page.goto("/clusters/emu/repositories/")
        expect(page.locator("#repository-table tbody tr")).to_have_count(50)
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(SCREENSHOT), full_page=False, animations="disabled")
    finally:
        context.close()
    assert SCREENSHOT.stat().st_size > 10_000
