"""Filling the registry-facts store for one page: a bounded, deadline-limited fetch.

The registry is never needed: a page asks it for what the store lacks, waits at most
``REGISTRY_DEADLINE_MS``, stores what arrived and renders the rest as placeholders that
fill in by htmx. Worker threads only talk HTTP; rows are written by the request's thread.

A registry that cannot be reached (no answer, refused connection, a name that does not
resolve, a 5xx) is left to rest for REGISTRY_REST seconds, for every user of the cluster on
every worker: pages in that time do not wait on it again and say so at once. Without that,
every repository page would wait the whole deadline for a registry that is down.
"""

import importlib
import logging
import time
import weakref
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from imgdash.clusters.services import transport_options
from imgdash.imagemanager import ImageManagerError, NotFound
from imgdash.imagemanager.imagefacts import MissingBlob
from imgdash.repositories import built
from imgdash.repositories import facts as store

logger = logging.getLogger("imgdash.repositories")

# Seconds a registry that could not be reached is left alone before pages ask it again.
REGISTRY_REST = 30


# The pools of the pages' fetches, whose last calls may outlive their page.
_pools = weakref.WeakSet()


def finish_background_calls():
    """Wait until the registry calls that pages left running have ended (at their own call
    deadline at the latest): for tests, where nothing may outlive the test that started it."""
    for pool in list(_pools):
        pool.shutdown(wait=True)


def _resting_key(cluster):
    return f"registry-resting:v1:{cluster.pk}"


def registry_resting(cluster):
    """Whether the cluster's registry failed to answer in the last REGISTRY_REST seconds."""
    return cache.get(_resting_key(cluster)) is not None


def _note_failure(cluster, error):
    # A refusal (401/403) or a 404 says the registry is up; only silence and 5xx rest it.
    if isinstance(error, ImageManagerError) and (error.status is None or error.status >= 500):
        cache.set(_resting_key(cluster), time.time(), timeout=REGISTRY_REST)


def registry_client_for(cluster, client, name, *, deadline, delete=False):
    """A registry v2 client holding a pull token for repository `name` (with `delete`, a
    token asked for pull and delete), or None when this installation has no registry client.

    The token comes from operation 2 with the user's own ID token (`client`), once per
    repository and request; it lives only in the returned client, never in a page or log.
    Operation 2 grants only what the user's cluster role allows: whether delete came with
    it is `client.grants(name, "delete")`. The one place the registry module is imported,
    so imgdash runs without it.
    """
    try:
        registry = importlib.import_module("imgdash.imagemanager.registry")
    except ImportError:
        return None
    scopes = [registry.pull_scope(name)]
    if delete:
        scopes.append(registry.delete_scope(name))
    token = client.docker_token(scopes=scopes).token
    return registry.RegistryClient(
        registry.registry_url(cluster.api_url, cluster.registry_host),
        token,
        **transport_options(cluster),
        call_deadline=max(deadline, 0.1),
    )


@dataclass
class FetchOutcome:
    """How a page's fetch went: ``note`` says in words what is missing and why, or is ""."""

    fetched: int = 0
    error: ImageManagerError | None = None
    timed_out: bool = False
    unavailable: bool = False  # no registry client in this installation
    resting: bool = False  # it failed moments ago: not asked (REGISTRY_REST)


def fill_store(cluster, client, repository, wanted, deadline):
    """Fetch `wanted` (a facts.RepositoryFacts) from the registry within `deadline` seconds."""
    if wanted.complete:
        return FetchOutcome()
    if registry_resting(cluster):
        return FetchOutcome(resting=True)
    ends = time.monotonic() + deadline
    try:
        registry = registry_client_for(cluster, client, repository.name, deadline=deadline)
    except ImageManagerError as error:  # operation 2 refused or failed
        return FetchOutcome(error=error)
    if registry is None:
        return FetchOutcome(unavailable=True)
    try:
        return _fetch(cluster, registry, repository.name, wanted, ends)
    finally:
        close = getattr(registry, "close", None)
        if close is not None:
            close()


def _fetch(cluster, registry, name, wanted, ends):
    outcome = FetchOutcome()
    pool = ThreadPoolExecutor(
        max_workers=settings.REGISTRY_CONCURRENCY, thread_name_prefix="registry-facts"
    )
    _pools.add(pool)
    running = {}

    def submit(what, digest):
        future = pool.submit(registry_call(registry, what), name, digest)
        # Also when the page has stopped waiting: the next page then knows at once.
        future.add_done_callback(lambda done: done.cancelled() or _rest_on(done.exception()))
        running[future] = (what, digest)

    def _rest_on(error):
        if error is not None:
            _note_failure(cluster, error)

    for digest in wanted.manifests_to_fetch:
        submit(store.MANIFEST, digest)
    for digest in wanted.configs_to_fetch:
        submit(store.CONFIG, digest)
    asked = set(wanted.configs_to_fetch)
    stored = 0
    try:
        while running and outcome.error is None:
            remaining = ends - time.monotonic()
            if remaining <= 0:
                break
            done, _ = wait(running, timeout=remaining, return_when=FIRST_COMPLETED)
            for future in done:
                what, digest = running.pop(future)
                try:
                    result = store_answer(cluster, what, digest, future.result)
                except ImageManagerError as error:
                    outcome.error = outcome.error or error
                    continue
                stored += 1
                outcome.fetched += result is not None
                config = config_to_follow(result, asked)
                if config:
                    submit(store.CONFIG, config)
        outcome.timed_out = bool(running) and outcome.error is None
    finally:
        # Calls still running end at their own call deadline; their answers are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)
        if stored:
            built.facts_changed()
    if outcome.error is not None:
        logger.info("Registry facts for %s on %s: %r", name, cluster.slug, outcome.error)
    return outcome


def registry_call(registry, what):
    """The registry client's method that fetches a digest of kind `what`."""
    return registry.platform_manifest if what == store.MANIFEST else registry.image_config


def store_answer(cluster, what, digest, answer):
    """Store what `answer()` (a registry call, or its future's result) returns for `digest`:
    the facts, or on 404 that the registry lacks it. Returns the facts, or None when missing;
    other errors are raised. Called in the thread that writes rows."""
    try:
        result = answer()
    except NotFound:
        store.store_missing(cluster, MissingBlob(digest, what))
        return None
    if what == store.CONFIG:
        store.store_config(result)
    else:
        store.store_manifest(result)
    return result


def config_to_follow(result, asked):
    """The config digest a just-stored platform manifest names, when it is still to fetch
    (not asked for yet, not stored); it is added to `asked`."""
    config = getattr(result, "config_digest", "")
    if not store.is_digest(config) or config in asked:
        return ""
    asked.add(config)
    return "" if store.config_is_stored(config) else config


def registry_note(cluster, outcome, complete):
    """What the page cannot show and why, in one sentence; "" when nothing is missing."""
    if complete or not (
        outcome.error or outcome.unavailable or outcome.timed_out or outcome.resting
    ):
        return ""
    lead = "Build dates and platforms are not shown"
    host = cluster.registry_host
    error = outcome.error
    if outcome.unavailable:
        return f"{lead}: this imgdash has no registry client configured."
    if outcome.timed_out:
        return f"{lead}: the registry at {host} did not answer in time."
    if outcome.resting:
        return (
            f"{lead}: the registry at {host} could not be reached moments ago; imgdash asks "
            f"it again within {REGISTRY_REST} seconds."
        )
    if error.operation == "docker token":
        return (
            f"{lead}: {cluster.name} would not issue a registry token for this repository"
            f"{_status(error)}."
        )
    if error.status in (401, 403):
        return f"{lead}: the registry at {host} refused imgdash's pull token{_status(error)}."
    if error.status is None and "longer than" in error.message:
        return f"{lead}: the registry at {host} did not answer in time."
    if error.status is None:
        return f"{lead}: the registry at {host} could not be reached."
    if error.status >= 500:
        return f"{lead}: the registry at {host} failed{_status(error)}."
    return f"{lead}: the registry at {host} answered something imgdash cannot read."


def _status(error):
    return f" (HTTP {error.status})" if error.status else ""
