"""Bulk deletes run for real through the worker: `manage.py db_worker` in its own process, on
the database the test writes (a SQLite file, or PostgreSQL under DATABASE_URL), against the
emulator over a real socket."""

import re
from collections import Counter

import pytest

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential
from imgdash.jobs.models import Job
from tests.conftest import wait_for
from tests.jobs.conftest import confirm_bulk_delete, deletes, finished, team_names

pytestmark = pytest.mark.django_db(transaction=True)


def rows(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("pk"))


def items(job):
    return {item.target: item for item in job.items.all()}


def test_it_deletes_each_repository_and_logs_each_as_the_owner(
    client, operator, cluster, emulator, start_worker
):
    names = team_names(emulator, "team-a", 5)
    job = confirm_bulk_delete(client, cluster, names, REMOTE_ADDR="10.1.2.3")
    assert job.state == "queued" and not deletes(emulator)  # the request sent nothing

    start_worker(delete_concurrency=2)
    wait_for(lambda: finished(job), message="the job to finish")

    assert job.state == "done"
    assert all(emulator.repositories.get(name) is None for name in names)
    assert {item.state for item in job.items.all()} == {"deleted"}
    counts = job.counts()
    assert (counts["deleted"], counts["remaining"], counts["total"]) == (5, 0, 5)
    assert Counter(deletes(emulator)) == Counter(names)  # each sent once
    bulk = rows("repository.bulk_delete")
    assert sorted(e.target for e in bulk if e.outcome == "intent") == sorted(names)
    assert sorted(e.target for e in bulk if e.outcome == "ok") == sorted(names)
    for event in bulk:
        # The rows say which job, and name the owner and the request that confirmed it.
        assert event.actor_username == "olga" and event.ip == "10.1.2.3"
        assert event.request_id == job.request_id != ""
    assert all(e.details["job"] == job.pk for e in bulk if e.outcome == "intent")
    for item in job.items.all():
        assert item.intent.target == item.target
        assert item.intent.outcomes.get().outcome == "ok"
    enqueue, finish = rows("job.enqueue")[0], rows("job.finish")[0]
    assert enqueue.pk < min(e.pk for e in bulk) and finish.pk > max(e.pk for e in bulk)
    assert finish.details["deleted"] == 5 and finish.details["state"] == "done"
    assert finish.message.startswith("Done: 5 deleted")


def test_a_failure_in_the_middle_does_not_stop_the_rest(
    client, make_user, connect, cluster, emulator, start_worker
):
    user = make_user("olga", "Operator")
    connect(user, "nsadmin")  # Administrator of team-a and team-b only
    client.force_login(user)
    refused = next(
        r["name"]
        for r in emulator.repositories.all()
        if r["owner"] == "ibmcom" and r["scope"] == "global"
    )
    failing, slow, fine = team_names(emulator, "team-a", 3)
    emulator.faults.add(method="DELETE", path=re.escape(failing) + "$", status=500, body="x\n")
    emulator.faults.add(method="DELETE", path=re.escape(slow) + "$", latency=3)
    names = [refused, failing, slow, fine]
    job = confirm_bulk_delete(client, cluster, names)

    start_worker(delete_concurrency=1, read_timeout=1)
    wait_for(lambda: finished(job), message="the job to finish")

    by_name = items(job)
    assert [by_name[name].state for name in names] == ["refused", "failed", "unknown", "deleted"]
    assert "Outcome unknown" in by_name[slow].message
    assert emulator.repositories.get(fine) is None
    assert len(deletes(emulator)) == 4
    outcomes = [e.outcome for e in rows("repository.bulk_delete") if e.outcome != "intent"]
    assert outcomes == ["refused", "failed", "unknown", "ok"]
    assert job.state == "done"
    assert (job.counts()["refused"], job.counts()["unknown"]) == (1, 1)


def test_a_401_stops_the_job_and_a_resume_after_reconnecting_sends_only_the_rest(
    client, operator, connect, cluster, emulator, start_worker
):
    names = team_names(emulator, "team-a", 4)
    emulator.faults.add(method="DELETE", path=re.escape(names[1]) + "$", status=401, body="no\n")
    job = confirm_bulk_delete(client, cluster, names)
    start_worker(delete_concurrency=1)
    wait_for(lambda: finished(job), message="the job to stop")

    assert job.state == "failed"
    assert "Reconnect, then resume this job" in job.message
    by_name = items(job)
    states = [by_name[n].state for n in names]
    assert states == ["deleted", "refused", "not_attempted", "not_attempted"]
    assert deletes(emulator) == names[:2]
    assert Credential.objects.get(user=operator).is_stale
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Resume: send the 2 not attempted" in page

    # Resuming with the stale token sends the owner to reconnect first, and back.
    response = client.post(f"/jobs/{job.pk}/resume/")
    assert response.status_code == 302 and "/connect/" in response["Location"]
    assert f"next=%2Fjobs%2F{job.pk}%2F" in response["Location"]
    connect(operator, "admin")
    emulator.faults.clear()
    response = client.post(f"/jobs/{job.pk}/resume/")
    assert response["Location"] == f"/jobs/{job.pk}/"
    wait_for(lambda: finished(job), message="the resumed job to finish")

    assert job.state == "done" and job.run == 2
    assert deletes(emulator) == names[:2] + names[2:]  # the refused one is not sent again
    assert items(job)[names[1]].state == "refused"
    assert rows("job.resume")[0].details["items"] == 2


def test_cancel_stops_it_before_the_next_repository(
    client, operator, cluster, emulator, start_worker
):
    names = team_names(emulator, "team-a", 8)
    emulator.faults.add(method="DELETE", path="/repositories/", latency=0.7)
    job = confirm_bulk_delete(client, cluster, names)
    start_worker(delete_concurrency=1)
    wait_for(lambda: job.items.filter(state="deleted").exists(), message="a first delete")

    response = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert b"stops before the next repository" in response.content
    settled_when_cancelled = job.items.exclude(state__in=("pending", "sending")).count()
    wait_for(lambda: finished(job), message="the job to stop")

    assert job.state == "cancelled"
    sent = deletes(emulator)
    # At most the one already in flight when Cancel was pressed went out after it.
    assert len(sent) <= settled_when_cancelled + 1 < len(names)
    by_name = items(job)
    assert {by_name[name].state for name in sent} == {"deleted"}
    assert {by_name[n].state for n in names if n not in sent} == {"not_attempted"}
    assert all(emulator.repositories.get(n) is not None for n in names if n not in sent)
    assert [e.action for e in rows("job.cancel")] == ["job.cancel"]
    assert rows("job.finish")[0].details["state"] == "cancelled"


def test_a_job_cancelled_while_queued_never_runs(client, operator, cluster, emulator, start_worker):
    names = team_names(emulator, "team-a", 2)
    job = confirm_bulk_delete(client, cluster, names)
    client.post(f"/jobs/{job.pk}/cancel/")
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert {i.state for i in job.items.all()} == {"not_attempted"}

    start_worker()
    # The worker takes the queued task and drops it: the job is no longer queued.
    from django_tasks_db.models import DBTaskResult

    wait_for(lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").exists(), message="task")
    assert not deletes(emulator)
    assert Job.objects.get(pk=job.pk).state == "cancelled"


def test_a_killed_worker_leaves_the_truth_and_resume_sends_each_repository_once(
    client, operator, cluster, emulator, start_worker, settings
):
    settings.JOB_STALE_AFTER = 5
    names = team_names(emulator, "team-a", 6)
    emulator.faults.add(method="DELETE", path="/repositories/", latency=2)
    job = confirm_bulk_delete(client, cluster, names)
    worker = start_worker(delete_concurrency=1, job_stale_after=5)
    wait_for(
        lambda: job.items.filter(state="sending", intent__isnull=False, position__gte=1).first(),
        message="a delete in flight",
    )
    worker.kill()
    in_flight = job.items.get(state="sending")

    # The next look at the job (after the heartbeat went stale) tells the truth.
    wait_for(
        lambda: client.get(f"/jobs/{job.pk}/") and finished(job),
        timeout=60,
        interval=0.5,
        message="the job to be noticed as interrupted",
    )
    assert job.state == "interrupted"
    in_flight.refresh_from_db()
    assert in_flight.state == "unknown"
    outcome = in_flight.intent.outcomes.get()
    assert outcome.outcome == "unknown"
    assert outcome.message == "worker stopped while the request was in flight"
    not_attempted = list(job.items.filter(state="not_attempted").values_list("target", flat=True))
    assert not_attempted and not set(not_attempted) & set(deletes(emulator))
    assert rows("job.interrupted")
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "The worker running this job stopped" in page
    assert f"Resume: send the {len(not_attempted)} not attempted" in page

    emulator.faults.clear()
    client.post(f"/jobs/{job.pk}/resume/")
    start_worker(delete_concurrency=2, job_stale_after=5)
    wait_for(lambda: finished(job), message="the resumed job to finish")

    assert job.state == "done"
    sent = Counter(deletes(emulator))
    assert set(sent) == set(names) and max(sent.values()) == 1  # none deleted twice
    assert job.items.get(pk=in_flight.pk).state == "unknown"  # never sent again
    assert all(emulator.repositories.get(name) is None for name in not_attempted)
    assert [e.details["items"] for e in rows("job.resume")] == [len(not_attempted)]


def test_two_jobs_in_two_workers_share_the_clusters_concurrency(
    client, operator, cluster, emulator, start_worker
):
    first = confirm_bulk_delete(client, cluster, team_names(emulator, "team-a", 6))
    second = confirm_bulk_delete(client, cluster, team_names(emulator, "team-b", 6))
    emulator.faults.add(method="DELETE", path="/repositories/", latency=1)
    start_worker(delete_concurrency=2)
    start_worker(delete_concurrency=2)
    wait_for(lambda: finished(first) and finished(second), message="both jobs to finish")

    assert first.state == second.state == "done"
    arrivals = sorted(r.time for r in emulator.requests if r.method == "DELETE")
    assert len(arrivals) == 12
    # A slot is free again only after its delete was answered (1 s after it arrived), so
    # more than 2 arrivals within 0.9 s would mean more than 2 deletes in flight at once.
    busiest = max(sum(1 for t in arrivals if start <= t < start + 0.9) for start in arrivals)
    assert busiest <= 2


def test_a_worker_told_to_stop_ends_its_job_resumable_before_the_next_repository(
    client, operator, cluster, emulator, start_worker
):
    names = team_names(emulator, "team-a", 8)
    emulator.faults.add(method="DELETE", path="/repositories/", latency=1)
    job = confirm_bulk_delete(client, cluster, names)
    worker = start_worker(delete_concurrency=1)
    wait_for(lambda: job.items.filter(state="deleted").exists(), message="a first delete")

    worker.process.terminate()  # SIGTERM, as systemd or a deploy sends it
    assert worker.process.wait(timeout=60) == 0, worker.output()

    job.refresh_from_db()
    assert job.state == "failed" and "Its worker was stopped" in job.message
    sent = deletes(emulator)
    by_name = items(job)
    assert {by_name[name].state for name in sent} == {"deleted"}  # the one in flight finished
    assert {by_name[n].state for n in names if n not in sent} == {"not_attempted"}
    assert len(sent) < len(names)
    assert "Resume: send the" in client.get(f"/jobs/{job.pk}/").content.decode()
