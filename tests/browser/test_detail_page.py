"""A repository's page as people read it: its name as the heading, the tag to pull first,
tags newest first with their pull commands one click away, and a tag table that fits a phone."""

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# The emulator's showcase: one repository of each manifest kind, and one with 40 tags.
EVERY_KIND = [
    "default/alpine",  # Docker v2, with `latest`
    "team-a/web/frontend",  # manifest list
    "team-c/legacy/billing",  # schema 1
    "team-a/tools/builder",  # OCI
    "team-b/ml/scorer",  # OCI index
    "team-a/ci/runner",  # 40 tags
]


@pytest.fixture
def open_page(browser, live_server, make_user, connect):
    """open_page(viewport, role="Operator", javascript=True) -> a signed-in page of that size."""
    contexts = []
    users = {}

    def open_with(viewport=DESKTOP, role="Operator", javascript=True):
        if role not in users:
            users[role] = make_user(role.lower(), role)
            connect(users[role], "admin")
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, java_script_enabled=javascript
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return sign_in_through_form(context.new_page(), users[role])

    yield open_with
    for context in contexts:
        context.close()


def goto_repository(page, name):
    page.goto(f"/clusters/emu/repositories/{name}/")


def tag_names(page):
    return page.locator("#tag-table > tbody > tr > td:first-child strong").all_inner_texts()


def largest_other_text(page):
    """The font size (px) of the largest visible text on the page outside the <h1>."""
    return page.evaluate("""() => {
        let largest = 0;
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const parent = walker.currentNode.parentElement;
            if (!walker.currentNode.textContent.trim() || parent.closest("h1")) continue;
            if (!parent.getClientRects().length) continue;
            largest = Math.max(largest, parseFloat(getComputedStyle(parent).fontSize));
        }
        return largest;
    }""")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_repository_name_is_the_heading_and_the_largest_text(open_page, viewport):
    page = open_page(viewport)
    goto_repository(page, "team-b/ml/scorer")

    heading = page.locator("h1")
    expect(heading).to_have_count(1)
    expect(heading).to_have_text("team-b/ml/scorer")
    size = heading.evaluate("h1 => parseFloat(getComputedStyle(h1).fontSize)")
    assert size > largest_other_text(page)


@pytest.mark.parametrize(
    ("name", "suggested"),
    [("default/alpine", "latest"), ("team-a/ci/runner", "2.13.7"), ("team-b/payments", "latest")],
)
def test_the_pull_card_suggests_latest_or_the_highest_version(open_page, name, suggested):
    page = open_page(role="Viewer")
    goto_repository(page, name)

    expect(page.locator("#pull-latest")).to_have_text(
        f"docker pull 127.0.0.1:8500/{name}:{suggested}"
    )


def test_the_pull_card_points_at_the_token_button_where_it_is(open_page):
    page = open_page()
    goto_repository(page, "default/alpine")
    card = page.locator("section.card").filter(has=page.locator("#pull-latest"))

    token_hint = card.locator("p", has_text="token")
    expect(token_hint).to_contain_text("Docker-login token above")
    expect(token_hint).not_to_contain_text("below")
    button = page.get_by_role("button", name="Docker-login token")
    assert button.bounding_box()["y"] < card.bounding_box()["y"]


def test_a_viewer_is_not_pointed_at_a_token_button_they_do_not_have(open_page):
    page = open_page(role="Viewer")
    goto_repository(page, "default/alpine")

    expect(page.get_by_role("button", name="Docker-login token")).to_have_count(0)
    expect(
        page.locator("section.card").filter(has=page.locator("#pull-latest"))
    ).not_to_contain_text("token")


def test_tags_are_listed_newest_version_first(open_page):
    page = open_page(role="Viewer")
    goto_repository(page, "team-a/ci/runner")
    names = tag_names(page)
    assert names[:4] == ["2.13.7", "2.13.6", "2.13.5", "2.13.4"]
    assert names[-3:] == ["2.10.5", "2.10.4", "2.10.3"]
    assert names.index("2.11.10") < names.index("2.11.9")

    goto_repository(page, "kube-system/tiller")
    assert tag_names(page)[:3] == ["latest", "build-1063", "build-1056"]


def test_a_40_tag_repository_is_not_a_wall_of_pull_commands(open_page):
    page = open_page(DESKTOP, role="Viewer")
    goto_repository(page, "team-a/ci/runner")
    assert len(tag_names(page)) == 40

    height = page.evaluate("document.body.scrollHeight")

    assert height < 2_200  # it was 3,189 px with every pull command written out
    commands = page.locator("#tag-table code")
    expect(commands.first).to_be_hidden()
    expect(
        page.locator("#tag-table").get_by_role("button", name="Copy the pull command for")
    ).to_have_count(40)


def test_a_tags_pull_command_opens_in_place_and_copies(open_page):
    page = open_page(role="Viewer")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    goto_repository(page, "team-a/ci/runner")
    row = page.locator("#tag-table > tbody > tr").nth(1)
    command = row.locator("code")
    expect(command).to_be_hidden()
    page.evaluate("navigator.clipboard.writeText('')")

    row.get_by_role("button", name="Copy the pull command for 2.13.6").click()

    assert page.evaluate("navigator.clipboard.readText()") == (
        "docker pull 127.0.0.1:8500/team-a/ci/runner:2.13.6"
    )
    row.locator("details.pull-command summary").click()
    expect(command).to_be_visible()
    expect(command).to_have_text("docker pull 127.0.0.1:8500/team-a/ci/runner:2.13.6")


def test_every_pull_command_is_readable_without_javascript(open_page):
    page = open_page(role="Viewer", javascript=False)
    goto_repository(page, "default/alpine")
    row = page.locator("#tag-table > tbody > tr").first
    expect(row.locator("strong")).to_have_text("latest")

    row.locator("details.pull-command summary").click()

    expect(row.locator("code")).to_be_visible()
    expect(row.locator("code")).to_have_text("docker pull 127.0.0.1:8500/default/alpine:latest")


def assert_nothing_scrolls_sideways(page):
    """Neither the page nor any box in it (visually hidden text aside) scrolls sideways."""
    overflowing = page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth) return ["the page"];
        return [...document.querySelectorAll("main *")].filter(el =>
            el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1
            && getComputedStyle(el).overflowX !== "visible"
        ).map(el => el.tagName + "." + el.className);
    }""")
    assert overflowing == []


@pytest.mark.parametrize("name", EVERY_KIND)
def test_at_phone_width_each_tag_shows_its_type_and_size_and_nothing_scrolls_sideways(
    open_page, name
):
    page = open_page(PHONE)
    goto_repository(page, name)
    rows = page.locator("#tag-table > tbody > tr")
    for index in range(min(rows.count(), 5)):
        row = rows.nth(index)
        for cell in (row.locator("td").nth(1), row.locator("td").nth(2)):
            expect(cell).to_be_visible()
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert_nothing_scrolls_sideways(page)

    for summary in page.locator("#tag-table summary").all()[:10]:
        summary.click()

    assert_nothing_scrolls_sideways(page)


@pytest.mark.parametrize("name", EVERY_KIND)
def test_each_manifest_kind_fits_a_desktop_page(open_page, name):
    page = open_page(DESKTOP)
    goto_repository(page, name)
    for summary in page.locator("#tag-table summary").all()[:10]:
        summary.click()

    assert_nothing_scrolls_sideways(page)
    expect(page.locator("#tag-table")).not_to_contain_text("0 B")
