"""Sizes the Image Manager API does not give (multi-arch and schema 1 tags): the list, the bulk
delete confirmation and the storage page say "unknown" or "at least", never 0 B."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import names, query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/clusters/emu/repositories/"
# In the emulator's seed: a manifest list, an OCI index and schema 1 (no sizes), an empty one.
UNKNOWN = ["team-a/web/frontend", "team-b/ml/scorer", "team-c/legacy/billing"]
EMPTY = "team-a/scratch"
MIXED = "team-a/mixed"


@pytest.fixture
def operator_page(page, emulator, make_user, connect, sign_in):
    """An Operator who sees every repository, one of them with tags of both kinds."""
    sized = emulator.repositories.get("default/alpine")["tags"][:2]
    listed = emulator.repositories.get("team-a/web/frontend")["tags"][:1]
    emulator.repositories.put(
        {"name": MIXED, "owner": "team-a", "scope": "global", "tags": sized + listed}
    )
    user = make_user("olga", "Operator")
    connect(user, "admin")
    sign_in(user)
    return page


def size_cells(page):
    return page.locator("#repository-table tbody td.size")


def size_of(page, name):
    row = page.locator("#repository-table tbody tr").filter(
        has=page.locator("td.repo-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )
    return row.locator("td.size")


def test_the_list_says_unknown_or_at_least_and_why(operator_page):
    page = operator_page
    page.goto(LIST + "?per_page=200")
    for name in UNKNOWN:
        expect(size_of(page, name)).to_have_text("unknown")
        assert "multi-arch" in size_of(page, name).locator("[title]").get_attribute("title")
    expect(size_of(page, EMPTY)).to_have_text("0 B")
    expect(size_of(page, MIXED)).to_have_text(re.compile(r"^at least [\d.]+ (KB|MB)$"))
    title = size_of(page, MIXED).locator("[title]").get_attribute("title")
    assert "Counts only the tags that have a size" in title
    expect(size_of(page, "default/alpine")).to_have_text(re.compile(r"^[\d.]+ (KB|MB)$"))


def test_unknown_sizes_sort_last_whichever_way_the_sizes_go(operator_page):
    page = operator_page
    page.goto(LIST + "?per_page=200")
    header = page.locator("#repository-table thead a", has_text="Size")
    directions = []
    for _ in range(2):
        before = page.url
        header.click()
        page.wait_for_url(lambda url, before=before: url != before and "size" in query(url)["sort"])
        expect(size_cells(page).first).to_be_visible()
        directions.append(query(page.url)["sort"])
        cells = size_cells(page).all_inner_texts()
        unknown = cells.count("unknown")
        assert unknown >= len(UNKNOWN)
        assert cells[-unknown:] == ["unknown"] * unknown
        assert "0 B" in cells  # the empty repositories sort as 0 B, among the known sizes
        # Those of unknown size come by name, A to Z, in both directions.
        tail = names(page).all_inner_texts()[-unknown:]
        assert tail == sorted(tail)
    assert sorted(directions) == ["-size", "size"]


def test_the_bulk_confirmation_total_is_a_lower_bound(operator_page):
    page = operator_page
    page.goto(LIST + "?per_page=200&sort=name")
    for name in ("default/alpine", "team-a/web/frontend", EMPTY):
        page.locator(f'input[data-bulk][value="{name}"]').check()
    page.locator("[data-bulk-submit]").click()
    expect(page.locator("dialog#bulk-dialog[open]")).to_be_visible()
    intro = page.locator("p", has_text="Every tag of each goes")
    expect(intro).to_contain_text(re.compile(r"at least [\d.]+ (KB|MB) compressed in all"))
    expect(intro).to_contain_text("1 repository has tags of unknown size")
    expect(page.locator("#bulk-confirm td.size")).to_have_text(
        [re.compile(r"^[\d.]+ (KB|MB)$"), "0 B", "unknown"]  # in the list's order, by name
    )


def test_the_storage_totals_say_they_are_lower_bounds(operator_page, emulator):
    page = operator_page
    page.goto("/clusters/emu/storage/")
    total = page.locator("#storage-total")
    expect(total).to_contain_text(re.compile(r"at least [\d.]+ GB in all"))
    expect(total).to_contain_text(re.compile(r"\d+ repositories have tags of unknown size"))
    team_a = page.locator(
        "#storage-table tr", has=page.locator("a", has_text=re.compile("^team-a$"))
    )
    expect(team_a.locator("td.size")).to_have_text(re.compile(r"^at least "))
    assert "of these repositories have tags of unknown size" in team_a.locator(
        "td.size [title]"
    ).get_attribute("title")
    expect(page.locator("#storage-chart")).to_contain_text("at least")
