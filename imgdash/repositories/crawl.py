"""The registry crawl: registry facts for every repository a user's list holds, at a polite rate.

A job (kind "registry_crawl", one item per repository) run by the Tasks worker, or in the
foreground by `manage.py crawl_registry`, as its owner with the owner's stored credential.
For each repository, in order:

1. skip it, sending nothing, when the store already knows all of its digests (by the owner's
   cached index, built.is_settled) -- so a resumed or repeated crawl only asks for what is new;
2. ask the cluster for the repository (operation 4, the owner's token): the digests to read
   come from the owner's own answer, as on the repository page (facts.gather);
3. ask for a pull token (operation 2) and fetch what the store lacks, one request at a time,
   through the page's fetching code (fetching.registry_client_for, store_answer).

Every request to the cluster (API and registry alike) waits its turn at the crawl's rate
(IMGDASH_CRAWL_RATE per second, or the job's own): one Pacer per cluster in each process.
The runner's cluster slot (purpose "crawl", one at a time) keeps two crawls of one cluster
from running side by side. A cancel stops before the next repository; a resume sends only the
repositories not read, and skips what the store learned meanwhile.
"""

import functools
import threading
import time

from django.conf import settings
from django.db.models import F
from django_tasks import task

from imgdash.clusters.services import (
    NeedsConnection,
    UnreadableToken,
    credential_for,
    mark_stale,
    user_client,
)
from imgdash.imagemanager import Forbidden, ImageManagerError, NotFound, Unauthorized
from imgdash.jobs.models import CRAWLED, GONE, ITEM_FAILED, KNOWN, MISSING, Job
from imgdash.jobs.runner import JobStopped, Outcome, run_job
from imgdash.repositories import built, fetching, index
from imgdash.repositories import facts as store

# After this many repositories in a row whose registry failed, the crawl stops (resumable):
# a registry that is down is not asked 10,000 times.
FAILURES_IN_A_ROW = 10
# Newly stored facts are announced to the list pages at most this often: each announcement
# makes every process read the store's dates again at its next list page.
ANNOUNCE_EVERY = 10.0


class Pacer:
    """At most `rate` calls of wait() return per second, evenly spaced (no bursts).

    The clock and sleep are injectable so tests count calls per interval without waiting.
    """

    def __init__(self, rate, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / rate
        self.clock, self.sleep = clock, sleep
        self._next = None
        self._lock = threading.Lock()

    def wait(self):
        with self._lock:
            now = self.clock()
            at = now if self._next is None else max(now, self._next)
            self._next = at + self.interval
        if at > now:
            self.sleep(at - now)


_pacers: dict = {}
_pacers_lock = threading.Lock()


def pacer_for(cluster_id, rate):
    """This process's Pacer for `cluster_id` at `rate`."""
    with _pacers_lock:
        pacer = _pacers.get((cluster_id, rate))
        if pacer is None:
            pacer = _pacers[(cluster_id, rate)] = Pacer(rate)
        return pacer


@task()
def registry_crawl(job_id, run):
    return run_crawl(job_id, run)


def run_crawl(job_id, run):
    # One repository at a time: the rate, not concurrency, sets the pace.
    return run_job(job_id, run, Crawler, slot_purpose="crawl", concurrency=1)


def crawl_rate(job):
    try:
        rate = float(job.parameters.get("rate") or settings.REGISTRY_CRAWL_RATE)
    except (TypeError, ValueError):
        rate = settings.REGISTRY_CRAWL_RATE
    return min(max(rate, 0.1), 100.0)


class Crawler:
    """The crawl's handler for one worker thread (runner.open_handler)."""

    # Tests replace it with a Pacer on a fake clock.
    pacer_factory = staticmethod(pacer_for)

    def __init__(self, job, origin):
        self.job, self.origin, self.cluster = job, origin, job.cluster
        try:
            self.client, credential = user_client(job.owner, job.cluster)
        except UnreadableToken as reason:
            mark_stale(origin, reason.credential, None, "The stored token could not be decrypted")
            raise JobStopped(f"{reason} Then resume this job.") from None
        except NeedsConnection as reason:
            raise JobStopped(f"{reason} Then resume this job.") from None
        self.pacer = self.pacer_factory(job.cluster_id, crawl_rate(job))
        stored = index._stored(job.owner, job.cluster, index.credential_tag(credential))
        self.entries = {entry.name: entry for entry in stored[1]} if stored else {}
        self.failures_in_a_row = 0
        self.announced = time.monotonic()
        self.unannounced = False

    def __call__(self, item, link_intent):
        entry = self.entries.get(item.target)
        if entry is not None and built.is_settled(self.cluster, entry):
            return Outcome(KNOWN)
        counts = {"requests": 0, "missing": 0}
        try:
            outcome = self._crawl(item.target, counts)
        finally:
            self._count(counts)
        if outcome.state == ITEM_FAILED and not outcome.stop:
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= FAILURES_IN_A_ROW:
                outcome.stop = (
                    f"The registry failed for {FAILURES_IN_A_ROW} repositories in a row "
                    f"({outcome.message}). Resume this job once it answers again."
                )
        else:
            self.failures_in_a_row = 0
        return outcome

    def _request(self, counts, call, *args):
        self.pacer.wait()
        counts["requests"] += 1
        return call(*args)

    def _crawl(self, name, counts):
        try:
            repository = self._request(counts, self.client.get_repository, name)
        except NotFound:
            return Outcome(GONE, "Not on the cluster any more.")
        except Unauthorized as error:
            return self._token_refused(error)
        except ImageManagerError as error:
            return Outcome(ITEM_FAILED, error.message)
        wanted = store.gather(self.cluster, repository)
        if wanted.complete:
            return Outcome(KNOWN)
        try:
            registry = self._request(
                counts,
                lambda: fetching.registry_client_for(
                    self.cluster, self.client, name, deadline=settings.IMAGEMANAGER_CALL_DEADLINE
                ),
            )
        except Unauthorized as error:
            return self._token_refused(error)
        except ImageManagerError as error:
            return Outcome(ITEM_FAILED, f"No registry token: {error.message}")
        if registry is None:
            return Outcome(
                ITEM_FAILED,
                "This imgdash has no registry client.",
                stop="This imgdash has no registry client: nothing can be read.",
            )
        try:
            return self._fetch(registry, name, wanted, counts)
        finally:
            close = getattr(registry, "close", None)
            if close is not None:
                close()

    def _fetch(self, registry, name, wanted, counts):
        queue = [(store.MANIFEST, d) for d in wanted.manifests_to_fetch]
        queue += [(store.CONFIG, d) for d in wanted.configs_to_fetch]
        asked = set(wanted.configs_to_fetch)
        try:
            while queue:
                what, digest = queue.pop(0)
                call = fetching.registry_call(registry, what)
                result = fetching.store_answer(
                    self.cluster,
                    what,
                    digest,
                    functools.partial(self._request, counts, call, name, digest),
                )
                self.unannounced = True
                if result is None:
                    counts["missing"] += 1
                config = fetching.config_to_follow(result, asked)
                if config:
                    queue.append((store.CONFIG, config))
        except (Unauthorized, Forbidden) as error:
            return Outcome(ITEM_FAILED, f"The registry refused the pull token: {error.message}")
        except ImageManagerError as error:
            return Outcome(ITEM_FAILED, error.message)
        finally:
            self._announce()
        return Outcome(MISSING if counts["missing"] else CRAWLED)

    def _token_refused(self, error):
        mark_stale(self.origin, credential_for(self.job.owner, self.cluster), error)
        return Outcome(
            ITEM_FAILED,
            "The cluster did not accept your token.",
            stop=f"{self.cluster.name} stopped accepting your token (it expired or was "
            "revoked). Reconnect, then resume this job.",
        )

    def _count(self, counts):
        if counts["requests"] or counts["missing"]:
            Job.objects.filter(pk=self.job.pk).update(
                requests=F("requests") + counts["requests"],
                missing=F("missing") + counts["missing"],
            )

    def _announce(self, force=False):
        if self.unannounced and (force or time.monotonic() - self.announced >= ANNOUNCE_EVERY):
            built.facts_changed()
            self.announced, self.unannounced = time.monotonic(), False

    def close(self):
        self._announce(force=True)
        self.client.close()
