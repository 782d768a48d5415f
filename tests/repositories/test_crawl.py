"""The registry crawl: a job that reads the registry facts of every repository in the owner's
list, through the page's fetching code, at a settable rate; cancel, resume and the command.

The job runs in the test's process (run_crawl, as the worker's task does) against the
emulator's Image Manager API over a real socket and the fake registry module; the pace is
checked on an injected clock, never on wall time."""

import io

import pytest
from django.core.management import CommandError, call_command

from imgdash.audit.models import AuditEvent
from imgdash.jobs.models import Job
from imgdash.repositories import crawl
from imgdash.repositories.models import ConfigFacts, MissingFacts
from tests.repositories.registry_fake import (
    FRESH,
    MULTI,
    STALE,
    UNREAD,
    digest,
    put_four,
    unavailable,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Per repository: operation 4, a pull token, then its digests (a list: manifest, then config).
EXPECTED_REQUESTS = {FRESH: 3, STALE: 3, MULTI: 4, UNREAD: 3}


class FakeClock:
    """A monotonic clock that only moves when the pacer sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = 0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds


class RecordingPacer(crawl.Pacer):
    """A Pacer on a FakeClock that notes when each request was let through."""

    def __init__(self, rate, clock, on_request=None):
        super().__init__(rate, clock=clock, sleep=clock.sleep)
        self.clock_ = clock
        self.times = []
        self.on_request = on_request

    def wait(self):
        super().wait()
        self.times.append(self.clock_.now)
        if self.on_request is not None:
            self.on_request(len(self.times))


@pytest.fixture
def four(emulator):
    """Only four repositories on the cluster: three the registry knows, one it does not."""
    for repository in emulator.repositories.all():
        emulator.repositories.delete(repository["name"])
    put_four(emulator)


@pytest.fixture
def pacer(monkeypatch):
    """The pacer every crawl of this test uses: a RecordingPacer on a FakeClock."""
    made = {}

    def factory(cluster_id, rate):
        if "pacer" not in made:
            made["pacer"] = RecordingPacer(rate, FakeClock(), made.get("hook"))
        return made["pacer"]

    monkeypatch.setattr(crawl.Crawler, "pacer_factory", staticmethod(factory))
    return made


def start(client, cluster):
    before = set(Job.objects.values_list("pk", flat=True))
    response = client.post(f"/clusters/{cluster.slug}/repositories/-/crawl/")
    assert response.status_code == 302, response.content.decode()[:300]
    job = Job.objects.exclude(pk__in=before).get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    return job


def states(job):
    return {item.target: item.state for item in job.items.all()}


def cluster_requests(emulator):
    return [r for r in emulator.requests if "/repositories/" in r.path or "token" in r.path]


def test_it_reads_each_repository_once_and_counts_requests_and_missing(
    client, operator, cluster, emulator, registry, four, pacer
):
    page = client.get(f"/clusters/{cluster.slug}/repositories/-/crawl/").content.decode()
    assert "Build dates for 0 of 4 repositories are known" in page
    job = start(client, cluster)
    assert job.state == "queued" and not registry.calls  # the request sent nothing
    enqueue = AuditEvent.objects.get(action="job.enqueue")
    assert enqueue.actor_username == "olga" and enqueue.details["kind"] == "registry_crawl"
    emulator.requests.clear()

    assert crawl.run_crawl(job.pk, job.run) == "done"

    job.refresh_from_db()
    assert states(job) == {FRESH: "crawled", STALE: "crawled", MULTI: "crawled", UNREAD: "missing"}
    assert job.requests == sum(EXPECTED_REQUESTS.values()) == len(pacer["pacer"].times)
    assert job.missing == 1
    assert len(registry.calls) == 5  # 3 configs, 1 platform manifest, 1 missing config
    assert len(cluster_requests(emulator)) == 8  # operation 4 and a token, per repository
    assert ConfigFacts.objects.count() == 3
    assert MissingFacts.objects.filter(digest=digest("x")).exists()
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "4 of 4 repositories read, 13 requests, 1 missing." in html
    listing = client.get(f"/clusters/{cluster.slug}/repositories/").content.decode()
    assert "Build dates for 3 of 4 repositories" in listing
    finish = AuditEvent.objects.get(action="job.finish")
    assert finish.message.startswith("Done: 4 of 4 repositories read, 13 requests, 1 missing")


def test_it_keeps_to_the_rate_on_the_clock(client, operator, cluster, registry, four, pacer):
    job = start(client, cluster)
    Job.objects.filter(pk=job.pk).update(parameters={"rate": 2})
    crawl.run_crawl(job.pk, job.run)
    times = pacer["pacer"].times
    assert len(times) == 13
    per_second = {}
    for at in times:
        per_second[int(at - times[0])] = per_second.get(int(at - times[0]), 0) + 1
    assert max(per_second.values()) == 2  # never more than the rate in any second
    assert times[-1] - times[0] == pytest.approx(12 / 2)  # and evenly spaced, no burst


def test_a_second_crawl_skips_what_is_known_and_sends_nothing(
    client, operator, cluster, emulator, registry, four, pacer
):
    first = start(client, cluster)
    crawl.run_crawl(first.pk, first.run)
    registry.calls.clear()
    second = start(client, cluster)
    crawl.run_crawl(second.pk, second.run)
    second.refresh_from_db()
    assert set(states(second).values()) == {"known"}
    assert second.requests == 0 and not registry.calls


def test_a_cancelled_crawl_stops_before_the_next_repository_and_a_new_one_reads_only_the_rest(
    client, operator, cluster, registry, four, pacer
):
    job = start(client, cluster)
    # Cancelled while the second repository's requests are sent (as the Cancel button does).
    pacer["hook"] = lambda n: n == 4 and client.post(f"/jobs/{job.pk}/cancel/")
    crawl.run_crawl(job.pk, job.run)
    job.refresh_from_db()
    assert job.state == "cancelled"
    done = [t for t, s in states(job).items() if s in ("crawled", "missing")]
    assert len(done) == 2 and list(states(job).values()).count("not_attempted") == 2
    pacer.pop("pacer")
    pacer["hook"] = None
    again = start(client, cluster)
    crawl.run_crawl(again.pk, again.run)
    again.refresh_from_db()
    assert [states(again)[name] for name in done] == ["known", "known"]
    assert again.requests == sum(n for name, n in EXPECTED_REQUESTS.items() if name not in done)


def test_a_crawl_stopped_by_a_failing_registry_resumes_where_it_stopped(
    client, operator, cluster, registry, four, pacer, monkeypatch
):
    monkeypatch.setattr(crawl, "FAILURES_IN_A_ROW", 2)
    registry.error = unavailable(status=503)
    job = start(client, cluster)
    crawl.run_crawl(job.pk, job.run)
    job.refresh_from_db()
    assert job.state == "failed"
    assert "The registry failed for 2 repositories in a row" in job.message
    assert sorted(states(job).values()) == ["failed", "failed", "not_attempted", "not_attempted"]

    registry.error = None
    assert client.post(f"/jobs/{job.pk}/resume/").status_code == 302
    job.refresh_from_db()
    crawl.run_crawl(job.pk, job.run)
    job.refresh_from_db()
    assert job.state == "done"
    assert sorted(states(job).values()) == ["crawled", "failed", "failed", "missing"]


def test_a_viewer_cannot_start_a_crawl(client, viewer, cluster, four):
    assert client.post(f"/clusters/{cluster.slug}/repositories/-/crawl/").status_code == 403
    assert not Job.objects.exists()


def test_the_command_crawls_as_the_first_connected_admin(
    cluster, make_user, connect, registry, four, pacer
):
    connect(make_user("zed", "Operator"), "admin")
    connect(make_user("ada", superuser=True), "admin")
    out = io.StringIO()
    call_command("crawl_registry", cluster.slug, "--rate", "50", stdout=out)
    text = out.getvalue()
    assert "crawling 4 repositories of Emulator as ada, at most 50 requests per second" in text
    assert "done: 4 of 4 repositories read, 13 requests, 1 missing." in text
    job = Job.objects.get()
    assert job.owner.username == "ada" and job.parameters["rate"] == 50
    assert AuditEvent.objects.get(action="job.enqueue").user_agent == "manage.py crawl_registry"


def test_the_command_uses_the_named_user_and_says_what_is_wrong(
    cluster, make_user, connect, registry, four, pacer
):
    with pytest.raises(CommandError, match="No admin has a token for Emulator"):
        call_command("crawl_registry", cluster.slug)
    make_user("nobody", "Operator")
    with pytest.raises(CommandError, match="nobody has no token for Emulator"):
        call_command("crawl_registry", cluster.slug, "--user", "nobody")
    with pytest.raises(CommandError, match="--rate must be"):
        call_command("crawl_registry", cluster.slug, "--rate", "0")
    with pytest.raises(CommandError, match="No cluster 'nope'"):
        call_command("crawl_registry", "nope")
    connect(make_user("zed", "Operator"), "admin")
    out = io.StringIO()
    call_command("crawl_registry", "Emulator", "--user", "zed", stdout=out)
    assert "as zed" in out.getvalue()
