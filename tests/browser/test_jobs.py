"""Bulk deletes as jobs, as an Operator sees them: the live progress page (htmx polling a
fragment, a real <progress>), a job that runs on with the page closed, Cancel, and a worker
killed mid-job then resumed. A `manage.py db_worker` process runs the jobs."""

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Cluster
from imgdash.clusters.services import save_credential
from imgdash.jobs.models import Job
from tests.conftest import sign_in_through_form, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BIG = 200
PATIENT = 180_000  # ms: a browser wait for a job that takes about a minute


@pytest.fixture(scope="module")
def big_emulator():
    """An emulator with more than BIG repositories, for this module only."""
    from imgdash.emulator.server import EmulatorServer

    server = EmulatorServer(repos=BIG + 20, seed=11)
    server.start()
    yield server
    server.stop()


def deletes(emulator):
    return [r.path.split("/repositories/", 1)[1] for r in emulator.requests if r.method == "DELETE"]


def operator_page_for(browser, live_server, make_user, cluster, token):
    user = make_user("olga", "Operator")
    save_credential(user, cluster, token)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    return context, sign_in_through_form(context.new_page(), user)


@pytest.fixture
def operator_page(browser, live_server, make_user, connect, cluster, emulator):
    context, page = operator_page_for(
        browser, live_server, make_user, cluster, emulator.issue_id_token("admin")
    )
    yield page
    context.close()


def confirm_all_on_the_list(page, list_url):
    """Select every repository on the list page, confirm the bulk delete; returns the job id."""
    page.goto(list_url)
    page.locator("input[data-bulk-all]").check()
    count = page.locator("input[data-bulk]:checked").count()
    page.locator("[data-bulk-submit]").click()
    expect(page.locator("dialog#bulk-dialog")).to_be_visible()  # over the list
    page.fill("#confirm-count", str(count))
    page.locator("#bulk-confirm button[data-confirm-button]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    return int(re.search(r"/jobs/(\d+)/$", page.url).group(1)), count


def test_a_200_repository_bulk_delete_runs_on_with_the_page_closed(
    browser, live_server, make_user, big_emulator, start_worker
):
    big_emulator.reset()
    cluster = Cluster.objects.create(name="Big", slug="big", api_url=big_emulator.api_url)
    context, page = operator_page_for(
        browser, live_server, make_user, cluster, big_emulator.issue_id_token("admin")
    )
    big_emulator.faults.add(method="DELETE", path="/repositories/", latency=1)
    start_worker(delete_concurrency=4)
    job_id, count = confirm_all_on_the_list(page, "/clusters/big/repositories/?per_page=200")
    assert count == BIG
    bar = page.locator("progress#job-progress-bar")
    expect(bar).to_have_attribute("max", str(BIG))
    expect(page.locator("#job-items tbody tr")).to_have_count(BIG)
    # Filling in without a reload: the counters move as the worker goes.
    expect(page.locator("[data-count=deleted]")).not_to_have_text("0", timeout=30_000)
    expect(page.locator("#job-items tr[data-state=deleted]").first).to_be_visible()

    page.close()  # the browser goes away; the job does not
    job = Job.objects.get(pk=job_id)
    wait_for(
        lambda: job.items.filter(state="deleted").count() >= BIG // 3,
        timeout=180,
        message="a third of the deletes with no page open",
    )

    page = context.new_page()
    page.goto("/jobs/")
    page.get_by_role("link", name=f"Job {job_id}").click()
    expect(page.locator("#job-state")).to_have_text("done", timeout=PATIENT)
    expect(page.locator("#job-summary")).to_have_text(f"{BIG} of {BIG} repositories settled.")
    expect(page.locator("[data-count=deleted]")).to_have_text(str(BIG))
    expect(page.locator("[data-count=remaining]")).to_have_text("0")
    expect(page.locator("#job-items tr[data-state=deleted]")).to_have_count(BIG)
    expect(page.locator("#job-cancel")).to_have_count(0)  # swapped out when it finished
    context.close()

    sent = Counter(deletes(big_emulator))
    assert len(sent) == BIG and set(sent.values()) == {1}
    bulk = AuditEvent.objects.filter(action="repository.bulk_delete", details__job=job_id)
    assert bulk.count() == BIG  # the intents name the job
    outcomes = AuditEvent.objects.filter(action="repository.bulk_delete", intent__in=bulk)
    assert sorted(outcomes.values_list("outcome", flat=True)) == ["ok"] * BIG
    finish = AuditEvent.objects.get(action="job.finish", details__job=job_id)
    assert (finish.details["deleted"], finish.details["state"]) == (BIG, "done")
    job.refresh_from_db()
    print(f"\n{BIG} deletes at 1 s each, 4 at a time: {job.finished_at - job.started_at}")


def test_cancel_stops_the_job_within_one_repository(operator_page, emulator, start_worker):
    page = operator_page
    emulator.faults.add(method="DELETE", path="/repositories/", latency=1)
    start_worker(delete_concurrency=1)
    _, count = confirm_all_on_the_list(page, "/clusters/emu/repositories/?q=ns:team-a")
    expect(page.locator("#job-items tr[data-state=deleted]").first).to_be_visible(timeout=30_000)
    page.locator("#job-cancel").click()
    expect(page.locator(".messages")).to_contain_text("stops before the next repository")
    sent_when_cancelled = len(deletes(emulator))
    expect(page.locator("#job-state")).to_have_text("cancelled", timeout=60_000)

    sent = deletes(emulator)
    assert len(sent) <= sent_when_cancelled + 1 < count  # at most the one in flight
    not_attempted = page.locator("#job-items tr[data-state=not_attempted]")
    expect(not_attempted).to_have_count(count - len(sent))
    assert all(emulator.repositories.get(name) is None for name in sent)


def test_a_killed_worker_is_shown_and_resuming_deletes_none_twice(
    operator_page, emulator, start_worker, settings
):
    settings.JOB_STALE_AFTER = 5
    page = operator_page
    emulator.faults.add(method="DELETE", path="/repositories/", latency=2)
    worker = start_worker(delete_concurrency=2, job_stale_after=5)
    job_id, count = confirm_all_on_the_list(page, "/clusters/emu/repositories/?q=ns:team-a")
    job = Job.objects.get(pk=job_id)
    wait_for(
        lambda: (
            job.items.filter(state="deleted").exists()
            and job.items.filter(state="sending", intent__isnull=False).exists()
        ),
        message="deletes done and in flight",
    )
    worker.kill()

    # The page, polling, notices the stale heartbeat and tells the truth.
    expect(page.locator("#job-interrupted")).to_be_visible(timeout=60_000)
    expect(page.locator("#job-state")).to_have_text("interrupted")
    unknown = list(job.items.filter(state="unknown").values_list("target", flat=True))
    assert unknown
    for name in unknown:
        # The row whose name cell is exactly this name (one name can be another's prefix).
        cell = page.locator("td.repo-name", has_text=re.compile(f"^{re.escape(name)}$"))
        expect(page.locator("#job-items tr", has=cell)).to_contain_text("outcome unknown")
    emulator.faults.clear()
    page.locator("#job-resume").click()
    expect(page.locator(".messages")).to_contain_text("never sent are queued again")
    start_worker(delete_concurrency=2, job_stale_after=5)
    expect(page.locator("#job-state")).to_have_text("done", timeout=60_000)

    sent = Counter(deletes(emulator))
    assert max(sent.values()) == 1  # no repository was sent twice
    assert len(sent) == count
    expect(page.locator("#job-items tr[data-state=unknown]")).to_have_count(len(unknown))
    expect(page.locator("#job-items tr[data-state=deleted]")).to_have_count(count - len(unknown))
    outcomes = AuditEvent.objects.filter(
        action="repository.bulk_delete", target__in=unknown, outcome="unknown"
    ).values_list("message", flat=True)
    assert set(outcomes) == {"worker stopped while the request was in flight"}
