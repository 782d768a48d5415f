"""Build dates that miss the page's deadline fill in by htmx; without JavaScript a link
reloads the page to show them."""

import sys

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from tests.repositories.registry_fake import NAME, put_repository, standard_registry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_registry(monkeypatch, emulator):
    fake = standard_registry()
    fake.delay = 0.4
    monkeypatch.setitem(sys.modules, "imgdash.imagemanager.registry", fake.module())
    put_repository(emulator)
    with override_settings(REGISTRY_DEADLINE_MS=100):
        yield fake


def test_dates_the_page_did_not_wait_for_fill_in(signed_in, slow_registry):
    page = signed_in()
    page.goto(f"/clusters/emu/repositories/{NAME}/")

    expect(page.locator("#tag-table .facts-pending")).to_have_count(0)
    first = page.locator("#tag-table > tbody > tr").first
    expect(first.locator("strong").first).to_have_text("1.0")
    expect(first.locator("td.tag-built time")).to_have_text("3\u00a0days ago")
    expect(page.locator("#repository-size")).not_to_contain_text("unknown")


def test_without_javascript_a_link_reloads_the_page_with_the_dates(signed_in, slow_registry):
    page = signed_in(java_script_enabled=False)
    page.goto(f"/clusters/emu/repositories/{NAME}/")
    expect(page.locator("#registry-pending")).to_be_visible()

    slow_registry.delay = 0
    page.get_by_role("link", name="Reload").click()

    expect(page.locator("#tag-table .facts-pending")).to_have_count(0)
    expect(page.locator("td.tag-built time").first).to_have_text("3\u00a0days ago")
