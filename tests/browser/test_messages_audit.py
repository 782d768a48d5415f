"""The action log as an auditor reads it: Details open in a full-width row beneath (the table
keeps its columns), the filter form's controls line up, and a change's intent and outcome are
one row."""

import pytest
from playwright.sync_api import expect

from imgdash.audit.log import record_event, record_intent, record_outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLUMN_WIDTHS = """() => [...document.querySelectorAll('#audit-results thead th')]
    .map(th => Math.round(th.getBoundingClientRect().width))"""


@pytest.fixture
def auditor_page(page, make_user, sign_in):
    auditor = make_user("audra", "Auditor")
    for n in range(3):
        record_event(None, "credential.connect", target=f"credential c{n}")
    long_details = {"error": "x" * 400, "scope": "global", "tags": list(range(40))}
    intent = record_intent(None, "repository.delete", target="team-a/app", details=long_details)
    record_outcome(intent, "refused", status=403, message="The cluster refused", details={})
    sign_in(auditor)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/audit/")
    return page


def test_details_open_beneath_the_row_across_the_table(auditor_page):
    page = auditor_page
    row = page.locator("#audit-results tr.event", has_text="team-a/app")
    expect(row).to_have_count(1)
    before = page.evaluate(COLUMN_WIDTHS)
    row_height = row.bounding_box()["height"]
    row.locator("summary", has_text="Details").click()
    details = page.locator(".event-details-row", has_text="Intended")
    expect(details).to_be_visible()
    expect(details).to_contain_text('"scope": "global"')
    assert page.evaluate(COLUMN_WIDTHS) == before  # the columns did not move
    assert row.bounding_box()["height"] == row_height
    table = page.locator("#audit-results table").bounding_box()
    box = details.bounding_box()
    assert box["y"] >= row.bounding_box()["y"] + row_height - 1  # beneath the row
    assert box["width"] >= table["width"] - 2  # as wide as the table
    row.locator("summary", has_text="Details").click()
    expect(details).to_be_hidden()


def test_an_intent_and_its_outcome_are_one_row(auditor_page):
    rows = auditor_page.locator("#audit-results tr.event", has_text="team-a/app")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".event-time")).to_have_count(2)
    expect(rows.first).to_contain_text("refused")


ALIGNMENT = """() => {
  const row = document.querySelector('#audit-filters .form-row');
  const controls = [...row.querySelectorAll('input:not([type=hidden]), select, button')]
    .filter(el => el.offsetParent);
  const boxes = controls.map(el => el.getBoundingClientRect());
  const firstLine = boxes.filter(b => Math.abs(b.top - boxes[0].top) < 20);
  return {
    bottoms: [...new Set(firstLine.map(b => Math.round(b.bottom)))],
    heights: [...new Set(boxes.map(b => Math.round(b.height)))],
  };
}"""


def test_the_filter_form_lines_up(auditor_page):
    lined = auditor_page.evaluate(ALIGNMENT)
    assert len(lined["bottoms"]) == 1, lined  # every control of a line ends on one baseline
    assert len(lined["heights"]) == 1, lined  # and they are all one height
