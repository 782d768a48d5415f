"""Prometheus metrics: what /metrics shows, and the hooks that count it.

prometheus-client, not django-prometheus: we want a handful of figures about imgdash's own
work (its views, its calls to clusters, its index, jobs, throttled sign-ins) rather than
every model and database operation, and prometheus-client's multiprocess mode is what sums
several gunicorn workers (PROMETHEUS_MULTIPROC_DIR). Metrics are made outside the global
registry and collected into a fresh one on each scrape, so the single-process and
multiprocess paths are the same code.
"""

import logging
import os

from django.conf import settings
from django.db import DatabaseError
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

if settings.METRICS_MULTIPROC_DIR:
    # gunicorn.conf.py empties it at start; a process started otherwise (the jobs worker,
    # manage.py) must still find it, or recording a figure fails.
    os.makedirs(settings.METRICS_MULTIPROC_DIR, exist_ok=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUEST_SECONDS = Histogram(
    "imgdash_request_seconds",
    "Time to answer a request, by view (URL name), method and status class.",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
UPSTREAM_SECONDS = Histogram(
    "imgdash_upstream_call_seconds",
    "Calls to clusters' Image Manager API, by operation, HTTP status (or none) and outcome.",
    ["operation", "status", "outcome"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
INDEX_READS = Counter(
    "imgdash_index_reads",
    "Repository list reads: hit (a fresh copy in the cache) or miss (a fetch was needed).",
    ["result"],
    registry=None,
)
INDEX_FETCH_SECONDS = Histogram(
    "imgdash_index_fetch_seconds",
    "Time to fetch and index a repository list, by how it ended.",
    ["result"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
THROTTLED_SIGN_INS = Counter(
    "imgdash_throttled_sign_ins",
    "Sign-in attempts refused because too many passwords were wrong (HTTP 429), by view.",
    ["view"],
    registry=None,
)
OWN_METRICS = (REQUEST_SECONDS, UPSTREAM_SECONDS, INDEX_READS, INDEX_FETCH_SECONDS)
OWN_METRICS += (THROTTLED_SIGN_INS,)


def observe_call(record):
    """The imagemanager call observer: one upstream call into the histogram."""
    status = str(record.status) if record.status is not None else "none"
    UPSTREAM_SECONDS.labels(record.operation, status, record.outcome).observe(record.seconds)


def observe_index_read(sender, hit, **kwargs):
    INDEX_READS.labels("hit" if hit else "miss").inc()


def observe_index_fetch(sender, seconds, ok, **kwargs):
    INDEX_FETCH_SECONDS.labels("ok" if ok else "failed").observe(seconds)


class _Own:
    """This process's metrics (single-process mode)."""

    def collect(self):
        for metric in OWN_METRICS:
            yield from metric.collect()


class _Jobs:
    """Jobs by state, counted in the database at scrape time (so right across processes)."""

    def collect(self):
        from django.db.models import Count

        from imgdash.jobs.models import JOB_STATES, Job

        family = GaugeMetricFamily("imgdash_jobs", "Jobs by state.", labels=["state"])
        try:
            counts = dict(Job.objects.values_list("state").annotate(n=Count("id")).order_by())
        except DatabaseError:
            # The other figures are still worth a scrape; /readyz says what is wrong.
            logger.warning("/metrics: jobs not counted, the database did not answer")
            return
        for state in JOB_STATES:
            family.add_metric([state], counts.get(state, 0))
        yield family


def scrape_registry():
    registry = CollectorRegistry(auto_describe=False)
    if settings.METRICS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=settings.METRICS_MULTIPROC_DIR)
    else:
        registry.register(_Own())
    registry.register(_Jobs())
    return registry


def allowed(address):
    """Whether a client at `address` (text, "" when unknown) may read /metrics."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.METRICS_ALLOW)
