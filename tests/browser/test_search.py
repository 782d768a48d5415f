"""The repository list's search, filters, sorting and paging: htmx swaps with shareable URLs."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import has_param, matches_text, names, query, tag_count

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/clusters/emu/repositories/"
PER_PAGE = 50


@pytest.fixture
def repository_list(page, make_user, connect, sign_in):
    """A Viewer connected as the emulator's admin (who sees every repository), on the list,
    with a marker that only survives as long as no full page load happens."""
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    sign_in(user)
    page.wait_for_url(f"**{LIST}")  # where signing in lands a connected user
    expect(rows(page)).to_have_count(PER_PAGE)
    page.evaluate("window.__marker = 1")
    return page


def rows(page):
    return page.locator("#repository-table tbody tr")


def still_the_same_page(page):
    return page.evaluate("window.__marker") == 1


def test_it_searches_as_you_type_and_goes_back(repository_list, emulator):
    page = repository_list
    everything = sorted(r["name"] for r in emulator.repositories.all())
    found = sorted(r["name"] for r in emulator.repositories.all() if matches_text(r, "alpine"))
    assert 0 < len(found) < PER_PAGE

    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("alpine", delay=30)

    page.wait_for_url(has_param("q", "alpine"))
    expect(names(page)).to_have_text(found)
    expect(page.locator(".pager").first).to_contain_text(f"of {len(found)} matching")
    assert still_the_same_page(page)

    page.go_back()
    page.wait_for_url(lambda url: "q" not in query(url))
    expect(names(page)).to_have_text(everything[:PER_PAGE])
    expect(page.locator("#search")).to_have_value("")
    assert still_the_same_page(page)


def test_it_leaves_a_slash_typed_in_a_field_alone(repository_list):
    page = repository_list
    search = page.locator("#search")
    search.click()
    search.press_sequentially("ns:team-a/", delay=20)
    expect(search).to_have_value("ns:team-a/")


def test_it_pages_and_sorts_without_a_page_load(repository_list, emulator):
    page = repository_list
    repositories = emulator.repositories.all()
    by_name = sorted(r["name"] for r in repositories)

    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(has_param("page", "2"))
    expect(names(page)).to_have_text(by_name[PER_PAGE:])
    expect(page.get_by_role("link", name="← Previous")).to_be_visible()

    header = page.locator("#repository-table thead").get_by_role("link", name="Tags")
    header.click()
    page.wait_for_url(has_param("sort", "-tags"))  # largest first on the first click
    assert "page" not in query(page.url)  # a new order starts on its first page

    by_tags = sorted(repositories, key=lambda r: (tag_count(r), r["name"]), reverse=True)
    expect(names(page)).to_have_text([r["name"] for r in by_tags[:PER_PAGE]])
    expect(page.locator("#repository-table thead th[aria-sort]")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert still_the_same_page(page)


def test_it_filters_by_namespace(repository_list, emulator):
    page = repository_list
    team_b = sorted(r["name"] for r in emulator.repositories.all() if r["owner"] == "team-b")
    assert team_b

    page.select_option("#namespace", "team-b")
    page.wait_for_url(has_param("namespace", "team-b"))
    expect(names(page)).to_have_text(team_b)
    assert still_the_same_page(page)


def search_for(page, text):
    page.locator("#search").fill(text)
    page.wait_for_url(has_param("q", text))


def test_it_swaps_the_results_in_place(repository_list, emulator):
    page = repository_list
    found = [r for r in emulator.repositories.all() if matches_text(r, "alpine")]
    search_for(page, "alpine")
    expect(names(page)).to_have_count(len(found))

    assert page.locator("#results").count() == 1


def test_it_shows_the_whole_list_when_coming_back_from_a_repository(repository_list, emulator):
    page = repository_list
    found = sorted(r["name"] for r in emulator.repositories.all() if matches_text(r, "alpine"))
    search_for(page, "alpine")
    expect(names(page)).to_have_text(found)

    # Followed without a click, so the test is about Back alone.
    page.goto(names(page).first.get_by_role("link").get_attribute("href"))
    page.go_back()  # waits for the load event: whatever came back is complete

    assert has_param("q", "alpine")(page.url)
    assert page.locator("header.topbar").count() == 1
    assert page.locator("#search").input_value() == "alpine"
    expect(names(page)).to_have_text(found)


def test_it_restores_the_whole_page_when_the_history_cache_misses(repository_list, emulator):
    page = repository_list
    everything = sorted(r["name"] for r in emulator.repositories.all())
    search_for(page, "alpine")
    expect(names(page)).not_to_have_count(PER_PAGE)
    # htmx keeps ten pages in its history cache; a longer session evicts the older ones.
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")

    page.go_back()
    page.wait_for_url(lambda url: "q" not in query(url))
    expect(names(page)).to_have_text(everything[:PER_PAGE])

    assert page.locator("header.topbar").count() == 1
    assert page.locator("#search").count() == 1


def test_it_searches_once_when_leaving_the_search_box(repository_list):
    page = repository_list
    search_for(page, "alpine")
    page.evaluate("""window.searches = 0;
        document.body.addEventListener("htmx:beforeRequest", () => window.searches++)""")

    page.locator("h1").click()  # htmx would send at once: the click's blur fires `change`

    assert page.evaluate("window.searches") == 0
