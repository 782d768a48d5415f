"""The list's Last built column and its built: filter in a browser, after a registry crawl
with the real registry client against the emulator's registry. The expected dates are the
emulator's own (tests/repositories/registry_truth.py)."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from imgdash.repositories import built
from tests.browser.conftest import names
from tests.repositories.registry_truth import (
    emulator_server,  # noqa: F401 - created dates that end today
    last_built,
    newer_than,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_after_a_crawl_the_list_shows_last_built_newest_first_and_filters_by_it(
    signed_in, operator, registry_cluster, emulator
):
    page = signed_in()
    call_command(
        "crawl_registry", "emu", "--user", operator.username, "--rate", "100", stdout=io.StringIO()
    )
    dates = last_built(emulator)
    newest = max(dates, key=dates.get)

    page.goto("/clusters/emu/repositories/?per_page=100")
    check_last_built_and_the_filter(page, emulator, dates, newest)


def test_an_operator_starts_the_crawl_from_the_list_and_a_worker_runs_it(
    signed_in, registry_cluster, emulator, start_worker, settings
):
    settings.REGISTRY_CRAWL_RATE = 100
    start_worker()
    page = signed_in()
    page.goto("/clusters/emu/repositories/")
    expect(page.locator("#built-completeness")).to_contain_text("Build dates for 0 of")
    page.get_by_role("link", name="read the whole registry").click()
    page.locator("#crawl-start").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-state")).to_have_text("done", timeout=60_000)
    # The worker announces new facts through the cache; a test's cache is its own process's
    # memory, not the one a deployment's processes share, so the announcement is made here.
    built.facts_changed()
    dates = last_built(emulator)

    page.goto("/clusters/emu/repositories/?per_page=100")
    check_last_built_and_the_filter(page, emulator, dates, max(dates, key=dates.get))


def check_last_built_and_the_filter(page, emulator, dates, newest):
    page.get_by_role("link", name="Last built").click()  # descending first
    expect(names(page).first).to_have_text(newest)
    first = page.locator("#repository-table tbody tr").first.locator("time")
    expect(first).to_have_attribute("title", dates[newest].strftime("%Y-%m-%d %H:%M:%S UTC"))
    expect(first).to_contain_text("ago")
    total = len(emulator.repositories.all())
    expect(page.locator("#built-completeness")).to_contain_text(
        f"Build dates for {len(dates)} of {total} repositories"
    )

    page.locator("#search").fill("built:<30d")
    recent = sorted(newer_than(dates, 30), key=dates.get, reverse=True)
    assert recent
    expect(names(page)).to_have_text(recent)
    page.reload()  # the filter is in the URL
    expect(names(page)).to_have_text(recent)
