"""Bulk delete as an Operator sees it: the confirmation opens as the same kind of dialog as a
single delete (a page of its own without JavaScript), names and sizes on it never break inside
a word, and the job's page ends with a one-line summary of what happened."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/clusters/emu/repositories/?q=ns:team-a&sort=name"


def page_for(browser, live_server, user, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(15_000)
    return context, sign_in_through_form(context.new_page(), user)


@pytest.fixture
def operator(make_user, connect):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    return user


def select(page, count):
    page.goto(LIST)
    boxes = page.locator("input[data-bulk]")
    expect(boxes.first).to_be_visible()
    names = [boxes.nth(i).get_attribute("value") for i in range(count)]
    for i in range(count):
        boxes.nth(i).check()
    return names


def test_the_confirmation_is_a_dialog_over_the_list(browser, live_server, operator, emulator):
    context, page = page_for(browser, live_server, operator)
    names = select(page, 3)
    page.evaluate("window.__noReload = 1")
    page.locator("[data-bulk-submit]").click()
    dialog = page.locator("dialog#bulk-dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.querySelector('dialog#bulk-dialog').matches(':modal')")
    assert page.evaluate("window.__noReload") == 1 and "/-/bulk-delete/" not in page.url
    for name in names:
        expect(dialog).to_contain_text(name)
    expect(page.locator("#confirm-count")).to_be_focused()
    # A wrong count keeps the dialog open and says why; Escape closes it, nothing is sent.
    page.fill("#confirm-count", "2")
    page.evaluate("document.querySelector('#bulk-confirm [data-confirm-button]').disabled = false")
    page.locator("#bulk-confirm [data-confirm-button]").click()
    expect(dialog.locator(".errorlist")).to_contain_text("Type 3")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#bulk-dialog")).to_have_count(0)
    assert not [r for r in emulator.requests if r.method == "DELETE"]
    context.close()


def test_without_javascript_the_confirmation_is_a_page(browser, live_server, operator):
    context, page = page_for(browser, live_server, operator, java_script_enabled=False)
    names = select(page, 2)
    page.locator("[data-bulk-submit]").click()
    page.wait_for_url(re.compile(r"/-/bulk-delete/$"))
    expect(page.locator("h1")).to_have_text("Delete 2 repositories?")
    expect(page.locator("dialog")).to_have_count(0)
    for name in names:
        expect(page.locator("#bulk-confirm")).to_contain_text(name)
    context.close()


BREAKS_INSIDE_A_WORD = """() => {
  // Each run of letters and digits of a name, and each whole size, must sit on one line.
  const broken = [];
  const runs = (cell, pattern) => {
    const text = cell.firstChild && cell.textContent;
    const node = [...cell.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());
    if (!node) return;
    for (const m of node.textContent.matchAll(pattern)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  };
  document.querySelectorAll("#bulk-confirm td.repo-name").forEach(c => runs(c, /[A-Za-z0-9.]+/g));
  document.querySelectorAll("#bulk-confirm td.num").forEach(c => runs(c, /.+/g));
  return broken;
}"""


def test_names_and_sizes_never_break_inside_a_word(browser, live_server, operator, emulator):
    # Long names, on a phone: the words of a name stay whole and each size stays on one line.
    for i in range(3):
        source = emulator.repositories.get(
            next(r["name"] for r in emulator.repositories.all() if r["owner"] == "team-a")
        )
        emulator.repositories.put(
            dict(source, name=f"team-a/a-rather-long-service-name-{i}/with-a-deeper-path-segment")
        )
    viewport = {"width": 390, "height": 844}
    context, page = page_for(browser, live_server, operator, viewport=viewport)
    page.goto("/clusters/emu/repositories/?q=a-rather-long-service-name&refresh=1")
    boxes = page.locator("input[data-bulk]")
    expect(boxes).to_have_count(3)
    for i in range(3):
        boxes.nth(i).check()
    page.locator("[data-bulk-submit]").click()
    expect(page.locator("dialog#bulk-dialog")).to_be_visible()
    assert page.evaluate(BREAKS_INSIDE_A_WORD) == []
    context.close()


def test_the_finished_job_says_what_happened_in_one_line(
    browser, live_server, operator, emulator, start_worker
):
    start_worker()
    context, page = page_for(browser, live_server, operator)
    names = select(page, 4)
    emulator.faults.add(method="DELETE", path=re.escape(names[1]) + "$", status=403)
    page.locator("[data-bulk-submit]").click()
    page.fill("#confirm-count", "4")
    page.locator("#bulk-confirm [data-confirm-button]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-state")).to_have_text("done", timeout=60_000)
    summary = page.locator("#job-result")
    expect(summary).to_have_text(re.compile(r"3 deleted, 1 refused, 0 unknown\."))
    # The refusal says which cluster role was missing.
    expect(page.locator("#job-items")).to_contain_text("Deleting needs the Administrator role")
    context.close()
