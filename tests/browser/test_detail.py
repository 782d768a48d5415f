"""A repository's page: tags that expand to their layers, and copy buttons for pull commands."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def detail_page(browser, live_server, make_user, connect, emulator):
    """A Viewer connected as the emulator's admin, allowed to use the clipboard, on the page
    of a repository whose first tag is a plain image with layers."""
    repository = next(
        r
        for r in emulator.repositories.all()
        if r["tags"] and all(t["manifest"].get("layers") for t in r["tags"])
    )
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = sign_in_through_form(context.new_page(), user)
    page.goto(f"/clusters/emu/repositories/{repository['name']}/")
    yield page, repository
    context.close()


def tag_row(page, tag_name):
    return page.locator("#tag-table > tbody > tr").filter(
        has=page.locator(f"td.mono > strong:text-is('{tag_name}')")
    )


def test_it_shows_a_tags_layers_when_expanded(detail_page):
    page, repository = detail_page
    tag = repository["tags"][0]
    digests = [layer["digest"] for layer in tag["manifest"]["layers"]]
    details = tag_row(page, tag["name"]).locator("td.tag-parts details")
    expect(details.locator("summary")).to_have_text(
        f"{len(digests)} layer{'s' if len(digests) != 1 else ''}"
    )
    first_layer = details.locator(f"td[title='{digests[0]}']")
    expect(first_layer).to_be_hidden()

    details.locator("summary").click()

    for digest in digests:
        cell = details.locator(f"td[title='{digest}']")
        expect(cell).to_be_visible()
        expect(cell).to_have_text(digest[: len("sha256:") + 12])

    details.locator("summary").click()
    expect(first_layer).to_be_hidden()


def test_it_copies_the_pull_command(detail_page):
    page, repository = detail_page
    command = page.locator("#pull-latest")
    tags = "|".join(re.escape(tag["name"]) for tag in repository["tags"])
    expect(command).to_have_text(
        re.compile(rf"docker pull \S+/{re.escape(repository['name'])}:({tags})")
    )
    button = page.locator("button[data-copy='#pull-latest']")
    expect(button).to_have_text("Copy")
    page.evaluate("navigator.clipboard.writeText('')")  # the browser's clipboard is shared

    button.click()

    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == command.inner_text()
    expect(button).to_have_text("Copy")  # and back, once the confirmation has been seen


def test_it_copies_one_tags_pull_command(detail_page):
    page, repository = detail_page
    tag = repository["tags"][-1]
    row = tag_row(page, tag["name"])
    command = row.locator("code")
    button = row.get_by_role("button", name=f"Copy the pull command for {tag['name']}")
    page.evaluate("navigator.clipboard.writeText('')")

    button.click()

    expect(button).to_have_text("Copied")
    # The command is folded away in the row: the button copies it all the same.
    assert page.evaluate("navigator.clipboard.readText()") == command.text_content()
    assert command.text_content().endswith(f"/{repository['name']}:{tag['name']}")


def test_it_keeps_the_label_when_copy_is_clicked_twice(detail_page):
    page, _ = detail_page
    button = page.locator("button[data-copy='#pull-latest']")

    button.click()
    expect(button).to_have_text("Copied")
    button.click()

    expect(button).to_have_text("Copy")


def test_it_copies_without_the_async_clipboard(detail_page):
    """Plain-HTTP installations have no navigator.clipboard: the button copies a selection."""
    page, _ = detail_page
    page.add_init_script("""
        window.realClipboard = navigator.clipboard;
        Object.defineProperty(Navigator.prototype, "clipboard", {get: () => undefined});
    """)
    page.reload()
    assert page.evaluate("navigator.clipboard") is None
    page.evaluate("window.realClipboard.writeText('')")
    command = page.locator("#pull-latest")
    button = page.locator("button[data-copy='#pull-latest']")

    button.click()

    expect(button).to_have_text("Copied")
    assert page.evaluate("window.realClipboard.readText()") == command.inner_text()
