"""Cleanup as an Operator does it: choose a rule, read the dry run, tick the candidates,
confirm in the bulk dialog; the job deletes them and the action log has each one."""

import re

import pytest
from playwright.sync_api import expect

from imgdash.audit.models import AuditEvent
from imgdash.jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rule_a_dry_run_and_the_bulk_delete_job(signed_in, emulator, start_worker):
    page = signed_in()
    start_worker()
    page.goto("/clusters/emu/repositories/")
    page.get_by_role("link", name="Cleanup").click()
    expect(page.get_by_role("heading", name="Choose a rule")).to_be_visible()

    page.fill("#more-than-tags", "4")
    page.select_option("#namespace", "team-a")
    page.get_by_role("button", name="Show what would go").click()
    page.wait_for_url(re.compile(r"more_than_tags=4"))
    expect(page.locator("#dry-run-title")).to_contain_text("would go")
    expect(page.locator("#gc-caveat")).to_contain_text("garbage collection")
    boxes = page.locator("input[data-bulk]")
    names = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    assert names and all(name.startswith("team-a/") for name in names)
    for name in names:
        assert len(emulator.repositories.get(name)["tags"]) > 4

    page.locator("input[data-bulk-all]").check()
    page.locator("[data-bulk-submit]").click()
    dialog = page.locator("dialog#bulk-dialog")
    expect(dialog).to_be_visible()
    for name in names:
        expect(dialog).to_contain_text(name)
    page.fill("#confirm-count", str(len(names)))
    page.locator("#bulk-confirm button[data-confirm-button]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-state")).to_have_text("done", timeout=60_000)

    assert all(emulator.repositories.get(name) is None for name in names)
    job = Job.objects.get()
    intents = AuditEvent.objects.filter(action="repository.bulk_delete", details__job=job.pk)
    assert sorted(intents.values_list("target", flat=True)) == sorted(names)
    outcomes = AuditEvent.objects.filter(action="repository.bulk_delete", intent__in=intents)
    assert list(outcomes.values_list("outcome", flat=True)) == ["ok"] * len(names)
