"""The writes as an Operator sees them: the delete dialog, inline scope, bulk delete with
shift-click, and the docker-login token's copy button."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def operator_page(signed_in, live_server):
    """An imgdash Operator connected as the emulator's admin, allowed to use the clipboard."""
    page = signed_in()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return page


def mark_page(page):
    """Set a marker that only survives if no full page load happens."""
    page.evaluate("window.__noReload = 1")


def still_same_page(page):
    return page.evaluate("window.__noReload") == 1


def team_a(emulator, scope=None):
    return [
        r
        for r in emulator.repositories.all()
        if r["owner"] == "team-a" and (scope is None or r["scope"] == scope)
    ]


def test_delete_dialog_enables_delete_only_for_the_exact_name(operator_page, emulator):
    page = operator_page
    name = team_a(emulator)[0]["name"]
    page.goto(f"/clusters/emu/repositories/{name}/")
    mark_page(page)
    page.click("#delete-repository")
    dialog = page.locator("dialog#delete-dialog")
    expect(dialog).to_be_visible()
    assert still_same_page(page)
    button = dialog.locator("button[data-confirm-button]")
    expect(button).to_be_disabled()
    field = dialog.locator("#confirm-name")
    expect(field).to_be_focused()
    field.fill(name[:-1])
    expect(button).to_be_disabled()
    field.fill(name.upper())
    expect(button).to_be_disabled()
    field.fill(name)
    expect(button).to_be_enabled()
    button.click()
    page.wait_for_url(re.compile(r"/clusters/emu/repositories/$"))
    expect(page.locator(".messages")).to_contain_text(f"Deleted {name}")
    assert emulator.repositories.get(name) is None


def test_the_delete_dialog_cancels_without_deleting(operator_page, emulator):
    page = operator_page
    name = team_a(emulator)[0]["name"]
    page.goto(f"/clusters/emu/repositories/{name}/")
    page.click("#delete-repository")
    dialog = page.locator("dialog#delete-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert emulator.repositories.get(name) is not None
    assert not [r for r in emulator.requests if r.method == "DELETE"]


def test_the_list_opens_another_delete_dialog_after_one_is_closed(operator_page, emulator):
    page = operator_page
    page.goto("/clusters/emu/repositories/?q=ns:team-a")
    mark_page(page)
    links = page.locator("#repository-table a[aria-label^='Delete ']")
    dialog = page.locator("dialog#delete-dialog")
    for i in range(2):
        name = links.nth(i).get_attribute("aria-label").removeprefix("Delete ")
        links.nth(i).click()
        expect(dialog).to_be_visible()
        expect(dialog.locator("#delete-title")).to_contain_text(name)
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    expect(page.locator("#dialog-slot")).to_have_count(1)
    assert still_same_page(page)
    assert not [r for r in emulator.requests if r.method == "DELETE"]


def test_scope_changes_inline_in_a_list_row(operator_page, emulator):
    page = operator_page
    repository = team_a(emulator, scope="namespace")[0]
    name = repository["name"]
    page.goto(f"/clusters/emu/repositories/?q={name}")
    mark_page(page)
    row = page.locator("#repository-table tbody tr").filter(
        has=page.locator(f"input[value='{name}']")
    )
    row.get_by_role("link", name=f"Change the scope of {name}").click()
    row.locator("input[name=scope][value=global]").check()
    row.get_by_role("button", name="Save scope").click()
    expect(row.locator(".badge.global")).to_have_text("global")
    expect(row.locator("input[name=scope]")).to_have_count(0)
    assert still_same_page(page)
    assert emulator.repositories.get(name)["scope"] == "global"


def test_bulk_selection_with_shift_click_and_the_jobs_results(
    operator_page, emulator, start_worker
):
    start_worker()
    page = operator_page
    page.goto("/clusters/emu/repositories/?q=ns:team-a&sort=name")
    boxes = page.locator("input[data-bulk]")
    expect(boxes.first).to_be_visible()
    names = [boxes.nth(i).get_attribute("value") for i in range(4)]
    submit = page.locator("[data-bulk-submit]")
    expect(submit).to_be_disabled()
    boxes.nth(0).click()
    boxes.nth(3).click(modifiers=["Shift"])
    for i in range(4):
        expect(boxes.nth(i)).to_be_checked()
    expect(boxes.nth(4)).not_to_be_checked()
    expect(submit).to_have_text("Delete 4 selected…")
    submit.click()
    expect(page.locator("dialog#bulk-dialog")).to_be_visible()  # over the list
    for name in names:
        expect(page.locator("#bulk-confirm")).to_contain_text(name)
    confirm = page.locator("#bulk-confirm button[data-confirm-button]")
    expect(confirm).to_be_disabled()
    page.fill("#confirm-count", "4")
    expect(confirm).to_be_enabled()
    confirm.click()
    # The job's page, filled in by the worker as each delete is answered.
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    results = page.locator("#job-items tbody tr")
    expect(results).to_have_count(4)
    expect(page.locator("#job-state")).to_have_text("done", timeout=60_000)
    for i, name in enumerate(names):
        expect(results.nth(i)).to_contain_text(name)
        expect(results.nth(i)).to_contain_text("deleted")
        assert emulator.repositories.get(name) is None


def test_docker_token_appears_once_with_a_countdown_and_copies(operator_page, emulator):
    page = operator_page
    name = team_a(emulator)[0]["name"]
    page.goto(f"/clusters/emu/repositories/{name}/")
    mark_page(page)
    page.click("#get-docker-token")
    token = page.locator("#docker-token-value")
    expect(token).to_be_visible()
    assert still_same_page(page)
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^expires in \d+ min$"))
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token.inner_text().strip()
    login = page.locator("#docker-login-command")
    expect(login).to_contain_text("docker login -u admin --password-stdin")


def test_the_stand_alone_scope_page_saves_with_javascript_on(operator_page, emulator):
    """The page at …/-/scope/ (a bookmark, a link opened in a new tab) saved nothing with
    JavaScript on: its form aimed an htmx swap at a list cell the page does not have."""
    page = operator_page
    repository = team_a(emulator, scope="namespace")[0]
    name = repository["name"]
    page.goto(f"/clusters/emu/repositories/{name}/-/scope/")
    page.locator("input[name=scope][value=global]").check()
    page.get_by_role("button", name="Save scope").click()
    expect(page).to_have_url(re.compile(rf"/repositories/{re.escape(name)}/$"))
    expect(page.locator(".messages, [role=status]").first).to_contain_text("now has scope global")
    assert emulator.repositories.get(name)["scope"] == "global"
