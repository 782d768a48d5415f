"""The Jobs pages, cancel and resume, and how a job whose worker died is shown: no worker
runs here (tests/jobs/test_worker.py runs one), so jobs stay as the test leaves them."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from imgdash.audit.log import record_intent
from imgdash.audit.models import AuditEvent
from imgdash.jobs import slots
from imgdash.jobs.models import Job
from tests.jobs.conftest import confirm_bulk_delete, team_names

pytestmark = pytest.mark.django_db


def test_the_jobs_page_says_when_there_are_none(client, operator):
    html = client.get("/jobs/").content.decode()
    assert "No jobs yet" in html
    assert 'href="/jobs/"' in html  # the navigation's Jobs link


def test_each_person_sees_their_own_jobs_and_admins_see_everyones(
    client, operator, make_user, connect, cluster, emulator
):
    job = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 2))
    other = make_user("otto", "Operator")
    connect(other, "admin")
    client.force_login(other)
    assert f"/jobs/{job.pk}/" not in client.get("/jobs/").content.decode()
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 404
    assert client.post(f"/jobs/{job.pk}/resume/").status_code == 404
    client.force_login(make_user("ada", superuser=True))
    html = client.get("/jobs/").content.decode()
    assert f"/jobs/{job.pk}/" in html and "olga" in html
    assert client.get(f"/jobs/{job.pk}/").status_code == 200


def test_the_newest_job_comes_first(client, operator, cluster, emulator):
    first = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 1))
    second = confirm_bulk_delete(client, cluster, team_names(emulator, "team-b", 1))
    html = client.get("/jobs/").content.decode()
    assert html.index(f"/jobs/{second.pk}/") < html.index(f"/jobs/{first.pk}/")


def test_a_job_shows_an_unknown_size_as_unknown_not_0_b(client, operator, cluster, emulator):
    job = confirm_bulk_delete(client, cluster, ["team-a/web/frontend"])  # a manifest list
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    row = re.search(r"<tr data-state=.*?</tr>", html, re.S).group(0)
    assert "team-a/web/frontend" in row
    assert "unknown" in row and "0 B" not in row


def test_a_job_queued_before_sizes_had_a_state_still_shows(client, operator, cluster, emulator):
    job = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 1))
    item = job.items.get()
    item.details = {"tags": 2, "size": 2048}  # as recorded before size states
    item.save()
    response = client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    assert "2.0 KB" in response.content.decode()


def test_an_unfinished_job_polls_its_progress_and_a_finished_one_stops(
    client, operator, cluster, emulator
):
    names = team_names(emulator, "team-a", 3)
    job = confirm_bulk_delete(client, cluster, names)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="job-progress-bar" max="3" value="0"' in html
    assert "0 of 3 repositories settled, 3 remaining" in html
    assert "Waiting for a worker" in html
    assert f'href="/jobs/{job.pk}/" id="job-refresh">Refresh</a>' in html
    for name in names:
        assert name in html

    job.items.update(state="deleted")
    Job.objects.filter(pk=job.pk).update(state="done", finished_at=timezone.now())
    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.strip().startswith('<section id="job-progress"')
    assert "hx-trigger" not in fragment.split(">", 1)[0]
    assert "3 of 3 repositories settled." in fragment
    # The buttons outside the polled part are replaced once, now that it finished.
    assert 'id="job-actions" class="form-row" hx-swap-oob="true"' in fragment
    assert "Cancel job" not in fragment


def test_an_admin_may_cancel_anyones_job_but_only_its_owner_resumes(
    client, operator, make_user, cluster, emulator
):
    job = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 2))
    client.force_login(make_user("ada", superuser=True))
    client.post(f"/jobs/{job.pk}/cancel/")
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert AuditEvent.objects.get(action="job.cancel").actor_username == "ada"
    Job.objects.filter(pk=job.pk).update(state="interrupted", cancel_requested=False)
    response = client.post(f"/jobs/{job.pk}/resume/", follow=True)
    assert b"Only the person who started a job can resume it." in response.content
    assert Job.objects.get(pk=job.pk).state == "interrupted"


def test_a_cancelled_job_cannot_be_resumed(client, operator, cluster, emulator):
    job = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 2))
    client.post(f"/jobs/{job.pk}/cancel/")
    response = client.post(f"/jobs/{job.pk}/resume/", follow=True)
    assert b"cannot be resumed" in response.content
    assert Job.objects.get(pk=job.pk).run == 1


def test_a_stale_heartbeat_is_shown_as_interrupted_with_the_in_flight_one_unknown(
    client, operator, cluster, emulator, settings
):
    names = team_names(emulator, "team-a", 3)
    job = confirm_bulk_delete(client, cluster, names)
    # As a worker leaves it when it dies during the second delete.
    first, second, _ = job.items.order_by("position")
    Job.objects.filter(pk=job.pk).update(
        state="running", heartbeat_at=timezone.now() - timedelta(seconds=120)
    )
    job.items.filter(pk=first.pk).update(state="deleted")
    intent = record_intent(
        None,
        "repository.bulk_delete",
        cluster=cluster,
        target=second.target,
        details={"job": job.pk},
    )
    job.items.filter(pk=second.pk).update(state="sending", intent=intent)

    html = client.get(f"/jobs/{job.pk}/").content.decode()

    job.refresh_from_db()
    assert job.state == "interrupted"
    states = list(job.items.order_by("position").values_list("state", flat=True))
    assert states == ["deleted", "unknown", "not_attempted"]
    outcome = intent.outcomes.get()
    assert (outcome.outcome, outcome.message) == (
        "unknown",
        "worker stopped while the request was in flight",
    )
    assert "The worker running this job stopped" in html
    assert "Resume: send the 1 not attempted" in html
    assert "hx-trigger" not in html.split('id="job-progress"', 1)[1].split(">", 1)[0]


def test_a_recent_heartbeat_is_left_alone(client, operator, cluster, emulator):
    job = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 1))
    Job.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now())
    client.get("/jobs/")
    assert Job.objects.get(pk=job.pk).state == "running"


def test_a_clusters_slots_are_never_more_than_its_limit(cluster):
    held = [
        slots.claim_slot(cluster.pk, "delete", limit=2, holder=f"h{n}", lease=60) for n in range(3)
    ]
    assert held == [0, 1, None]
    slots.release_slot(cluster.pk, "delete", 0, "h0")
    assert slots.claim_slot(cluster.pk, "delete", limit=2, holder="h3", lease=60) == 0


def test_a_slot_whose_holder_died_frees_itself_when_its_lease_ends(cluster):
    assert slots.claim_slot(cluster.pk, "delete", limit=1, holder="dead", lease=-1) == 0
    assert slots.claim_slot(cluster.pk, "delete", limit=1, holder="alive", lease=60) == 0
    assert slots.claim_slot(cluster.pk, "delete", limit=1, holder="third", lease=60) is None


@pytest.mark.parametrize("job_id", ["99999999999999999999999", "0"])
def test_odd_job_ids_are_not_found(client, operator, job_id):
    assert client.get(f"/jobs/{job_id}/").status_code == 404


def test_the_action_log_shows_the_rows_of_one_job(client, operator, cluster, emulator):
    first = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 1))
    second = confirm_bulk_delete(client, cluster, team_names(emulator, "team-b", 1))
    page = client.get(f"/jobs/{first.pk}/").content.decode()
    assert f'href="/audit/?job={first.pk}"' in page
    log = client.get(f"/audit/?job={first.pk}").content.decode()
    assert f"job {first.pk}" in log and f"job {second.pk}" not in log
    assert client.get("/audit/?job=nonsense").status_code < 500


def test_the_summary_names_what_a_finished_job_did():
    from imgdash.jobs.views import result_summary

    counts = {"deleted": 6, "gone": 0, "refused": 1, "failed": 0, "unknown": 0}
    counts["not_attempted"] = 0
    assert result_summary(counts) == "6 deleted, 1 refused, 0 unknown."
    counts.update(gone=2, failed=1, not_attempted=1200)
    assert result_summary(counts) == (
        "6 deleted, 2 already gone, 1 refused, 1 failed, 0 unknown, 1,200 not attempted."
    )
