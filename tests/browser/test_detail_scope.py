"""The inline scope editor, on a repository's page and in a list row, by keyboard: focus goes
into it, comes back to the badge's "change" link, and the result is said where it happened and
nowhere later."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def operator_page(signed_in):
    return signed_in()


def namespace_scoped(emulator):
    return next(
        r["name"]
        for r in emulator.repositories.all()
        if r["owner"] == "team-a" and r["scope"] == "namespace"
    )


def open_editor_by_keyboard(page, cell, name):
    link = cell.get_by_role("link", name=f"Change the scope of {name}")
    link.focus()
    page.keyboard.press("Enter")
    expect(cell.locator("input[name=scope]:checked")).to_be_focused()


def assert_no_leftover_message(page):
    for url in ("/clusters/", "/clusters/emu/status/", "/clusters/emu/repositories/"):
        page.goto(url)
        expect(page.locator("body")).not_to_contain_text("now has scope")
        expect(page.locator("body")).not_to_contain_text("nothing was changed")


def test_on_the_repository_page_the_change_is_confirmed_in_place(operator_page, emulator):
    page = operator_page
    name = namespace_scoped(emulator)
    page.goto(f"/clusters/emu/repositories/{name}/")
    cell = page.locator(".facts .scope-cell")

    open_editor_by_keyboard(page, cell, name)

    expect(cell.locator("input[value=namespace]")).to_be_focused()
    page.keyboard.press("ArrowUp")  # radio buttons: the arrow keys choose
    expect(cell.locator("input[value=global]")).to_be_checked()
    cell.get_by_role("button", name="Save scope").click()

    expect(cell.locator(".badge.global")).to_have_text("global")
    expect(cell.get_by_role("status")).to_contain_text("Saved")
    expect(cell.get_by_role("status")).to_contain_text(f"{name} now has scope global")
    link = cell.get_by_role("link", name=f"Change the scope of {name}")
    expect(link).to_be_focused()
    expect(link).to_have_accessible_description(
        re.compile(rf"^Saved\W+{re.escape(name)} now has scope global: Every namespace")
    )
    expect(page.locator(".messages")).to_have_count(0)
    assert emulator.repositories.get(name)["scope"] == "global"

    assert_no_leftover_message(page)


def test_in_a_list_row_the_change_is_confirmed_in_the_row_and_nowhere_else(operator_page, emulator):
    page = operator_page
    name = namespace_scoped(emulator)
    page.goto(f"/clusters/emu/repositories/?q={name}")
    row = page.locator("#repository-table tbody tr").filter(
        has=page.locator(f"input[value='{name}']")
    )
    cell = row.locator(".scope-cell")

    open_editor_by_keyboard(page, cell, name)
    expect(cell.locator("input[value=namespace]")).to_be_focused()
    cell.locator("input[value=global]").check()
    cell.get_by_role("button", name="Save scope").click()

    expect(row.get_by_role("status")).to_contain_text("Saved")
    expect(row.get_by_role("link", name=f"Change the scope of {name}")).to_be_focused()

    assert_no_leftover_message(page)


def test_cancel_and_escape_close_the_editor_and_focus_the_change_link(operator_page, emulator):
    page = operator_page
    name = namespace_scoped(emulator)
    page.goto(f"/clusters/emu/repositories/{name}/")
    cell = page.locator(".facts .scope-cell")
    link = cell.get_by_role("link", name=f"Change the scope of {name}")

    open_editor_by_keyboard(page, cell, name)
    page.keyboard.press("Escape")

    expect(cell.locator("input[name=scope]")).to_have_count(0)
    expect(link).to_be_focused()

    open_editor_by_keyboard(page, cell, name)
    cell.get_by_role("link", name="Cancel").click()

    expect(cell.locator("input[name=scope]")).to_have_count(0)
    expect(link).to_be_focused()
    assert emulator.repositories.get(name)["scope"] == "namespace"
