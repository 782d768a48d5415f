"""The repository list as an Operator works through it: deleting or re-scoping from a filtered,
sorted, paged list and landing back on it, paging a long list, what a `tag:` search matched,
what screen readers hear, and the list at phone width."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import has_param, matches_text, names, query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/clusters/emu/repositories/"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def operator_page(signed_in):
    return signed_in()


@pytest.fixture
def operator_page_without_js(signed_in):
    return signed_in(java_script_enabled=False)


@pytest.fixture
def phone_page(signed_in):
    return signed_in(viewport=PHONE)


def by_size(emulator, word="e"):
    """The repositories matching `word`, as the list sorts them by size, largest first."""
    from imgdash.imagemanager import SIZE_UNKNOWN, Repository

    found = [Repository.from_api(r) for r in emulator.repositories.all() if matches_text(r, word)]
    known = [r for r in found if r.size_state != SIZE_UNKNOWN]
    unknown = [r for r in found if r.size_state == SIZE_UNKNOWN]
    # Unknown sizes come last, by name (they are not 0 B).
    ordered = sorted(known, key=lambda r: (r.size, r.name), reverse=True)
    return [r.name for r in ordered + sorted(unknown, key=lambda r: r.name)]


PAGED = {"q": "e", "sort": "-size", "per_page": "25", "page": "2"}


def filtered_sorted_paged(emulator):
    """A list URL with a search, a sort, a page size and its second page, and the names it
    shows."""
    ordered = by_size(emulator)
    assert len(ordered) > 27, "the seeded emulator has enough matching repositories"
    return f"{LIST}?q=e&sort=-size&per_page=25&page=2", ordered[25:50]


def test_deleting_from_a_filtered_sorted_list_returns_to_it_in_place(operator_page, emulator):
    page = operator_page
    url, shown = filtered_sorted_paged(emulator)
    page.goto(url)
    expect(names(page)).to_have_text(shown)
    page.evaluate("window.__noReload = 1")
    victim = shown[1]

    page.get_by_role("link", name=f"Delete {victim}").click()
    dialog = page.locator("dialog#delete-dialog")
    dialog.locator("#confirm-name").fill(victim)
    dialog.locator("button[data-confirm-button]").click()

    expect(page.locator("dialog#delete-dialog")).to_have_count(0)
    expect(names(page)).to_have_text(by_size(emulator)[25:50])
    assert victim not in names(page).all_inner_texts()
    expect(page.locator("#results-status")).to_contain_text(f"Deleted {victim}")
    expect(page.locator("#results")).to_contain_text(f"Deleted {victim}")
    assert page.evaluate("window.__noReload") == 1
    assert query(page.url) == PAGED
    # The message was shown here; it does not come back on the next page.
    page.goto(f"{LIST}?q=zzzz-nothing")
    expect(page.locator("main")).not_to_contain_text(f"Deleted {victim}")


def test_without_javascript_delete_and_scope_return_to_the_same_list(
    operator_page_without_js, emulator
):
    page = operator_page_without_js
    url, shown = filtered_sorted_paged(emulator)
    page.goto(url)
    victim = shown[2]

    page.get_by_role("link", name=f"Delete {victim}").click()
    page.fill("#confirm-name", victim)
    page.click("button[data-confirm-button]")
    page.wait_for_url(re.compile(r"/repositories/\?"))
    assert query(page.url) == PAGED
    expect(page.locator(".messages")).to_contain_text(f"Deleted {victim}")
    assert victim not in names(page).all_inner_texts()

    other = names(page).first.inner_text()
    scope = emulator.repositories.get(other)["scope"]
    page.get_by_role("link", name=f"Change the scope of {other}").click()
    page.check(f"input[name=scope][value={'namespace' if scope == 'global' else 'global'}]")
    page.click("button[type=submit]:has-text('Save scope')")
    page.wait_for_url(re.compile(r"/repositories/\?"))
    assert query(page.url)["sort"] == "-size"
    expect(page.locator(".messages")).to_contain_text(f"{other} now has scope")


def test_a_return_address_elsewhere_falls_back_to_the_plain_list(
    operator_page_without_js, emulator
):
    page = operator_page_without_js
    victim = by_size(emulator)[0]
    page.goto(f"{LIST}{victim}/-/delete/?next=https://evil.example/{LIST}")
    page.fill("#confirm-name", victim)
    page.click("button[data-confirm-button]")
    page.wait_for_url(re.compile(r"/clusters/emu/repositories/$"))
    expect(page.locator(".messages")).to_contain_text(f"Deleted {victim}")


def test_paging_with_first_last_and_a_page_jump(operator_page, emulator):
    page = operator_page
    everything = sorted(r["name"] for r in emulator.repositories.all())
    pages = -(-len(everything) // 25)
    assert pages >= 3
    page.goto(f"{LIST}?per_page=25")
    pager = page.locator("nav.pager")
    expect(pager).to_contain_text(f"Page 1 of {pages}")
    page.evaluate("window.__noReload = 1")

    pager.get_by_role("link", name="Last").click()
    page.wait_for_url(has_param("page", str(pages)))
    expect(names(page)).to_have_text(everything[(pages - 1) * 25 :])
    expect(page.locator("#results-heading")).to_be_focused()

    pager.get_by_role("link", name="First").click()
    page.wait_for_url(has_param("page", "1"))
    expect(names(page)).to_have_text(everything[:25])

    page.get_by_label("Go to page").fill("2")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url(has_param("page", "2"))
    expect(names(page)).to_have_text(everything[25:50])
    expect(pager).to_contain_text(f"Page 2 of {pages}")
    assert page.evaluate("window.__noReload") == 1


def test_next_scrolls_to_the_results_and_focuses_them(operator_page, emulator):
    page = operator_page
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"{LIST}?per_page=50")
    page.get_by_role("link", name="Next →").scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 0
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(has_param("page", "2"))
    heading = page.locator("#results-heading")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()


def test_the_page_jump_works_without_javascript_and_clamps(operator_page_without_js, emulator):
    page = operator_page_without_js
    everything = sorted(r["name"] for r in emulator.repositories.all())
    pages = -(-len(everything) // 25)
    page.goto(f"{LIST}?per_page=25&q=")
    page.get_by_label("Go to page").fill("9999")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url(has_param("page", "9999"))
    expect(names(page)).to_have_text(everything[(pages - 1) * 25 :])
    expect(page.locator("nav.pager")).to_contain_text(f"Page {pages} of {pages}")
    assert query(page.url)["per_page"] == "25"


def test_size_and_tags_sort_largest_first_on_the_first_click(operator_page):
    page = operator_page
    page.goto(LIST)
    header = page.locator("#repository-table thead")
    header.get_by_role("link", name="Size").click()
    page.wait_for_url(has_param("sort", "-size"))
    header.get_by_role("link", name="Tags").click()
    page.wait_for_url(has_param("sort", "-tags"))
    header.get_by_role("link", name="Tags").click()
    page.wait_for_url(has_param("sort", "tags"))


def test_a_sort_header_keeps_the_keyboard_focus(operator_page):
    page = operator_page
    page.goto(LIST)
    page.locator("#sort-size").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(has_param("sort", "-size"))
    expect(page.locator("#repository-table th[aria-sort]")).to_contain_text("Size")
    expect(page.locator("#sort-size")).to_be_focused()


def test_a_tag_search_shows_the_tags_that_matched(operator_page, emulator):
    page = operator_page
    repository = next(r for r in emulator.repositories.all() if len(r.get("tags") or []) >= 2)
    tag = repository["tags"][0]["name"]
    page.goto(f"{LIST}?q=tag:{tag}")
    row = page.locator("#repository-table tbody tr").filter(
        has=page.locator(f"td.repo-name a[href$='/{repository['name']}/']")
    )
    matched = row.locator(".tag-match")
    expect(matched).to_contain_text(tag)
    expect(matched.locator("mark").first).to_have_text(tag.lower())


def test_counts_are_announced_in_a_small_live_region(operator_page, emulator):
    page = operator_page
    page.goto(LIST)
    assert page.locator("#results").get_attribute("aria-live") is None
    status = page.locator("#results-status")
    expect(status).to_have_attribute("role", "status")
    page.locator("#search").fill("alpine")
    page.wait_for_url(has_param("q", "alpine"))
    expect(status).to_contain_text("matching")
    assert status.locator("table").count() == 0


def test_column_widths_stay_put_between_searches(operator_page):
    page = operator_page
    page.goto(LIST)

    def widths():
        return page.locator("#repository-table thead th").evaluate_all(
            "cells => cells.map(c => Math.round(c.getBoundingClientRect().width))"
        )

    before = widths()
    page.locator("#search").fill("alpine")
    page.wait_for_url(has_param("q", "alpine"))
    expect(page.locator("#results-status")).to_contain_text("matching")
    assert widths() == before


def test_the_namespace_is_not_repeated_beside_the_name(operator_page):
    page = operator_page
    page.goto(LIST)
    headers = page.locator("#repository-table thead th").all_inner_texts()
    assert not any(h.strip().startswith("Namespace") for h in headers)


def test_the_refresh_button_says_what_it_is_doing(operator_page, emulator):
    page = operator_page
    page.goto(LIST)
    refresh = page.locator("#refresh-button")
    expect(refresh).to_have_accessible_name(re.compile("^Refresh"))
    emulator.faults.add(method="GET", path=r"/repositories$", latency=1.5, times=1)
    refresh.click()
    expect(refresh).to_have_accessible_name(re.compile("^Refreshing"))
    expect(refresh).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#refresh-button")).to_have_accessible_name(
        re.compile("^Refresh$"), timeout=15_000
    )


def test_the_error_state_keeps_the_chosen_page_size(operator_page, emulator):
    from django.core.cache import cache

    page = operator_page
    cache.clear()  # the list was fetched when signing in: fetch it again, and fail
    emulator.faults.add(method="GET", path=r"/repositories$", status=500, body="down\n")
    page.goto(f"{LIST}?per_page=100")
    expect(page.locator("#results")).to_contain_text("down")
    expect(page.locator("#per_page")).to_have_value("100")


def test_at_phone_width_the_first_screen_shows_repositories(phone_page):
    page = phone_page
    page.goto(LIST)
    first = page.locator("#repository-table tbody tr").first
    expect(first).to_be_in_viewport()
    box = first.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    name_cell = first.locator("td.repo-name")
    assert name_cell.bounding_box()["width"] >= 200  # a readable name, not a sliver
