"""The cached repository index: one `GET /repositories` per user and cluster, searched locally.

The list call returns every repository with every tag's manifest and no paging, so it is the
expensive one. We fetch it once, keep a compact row per repository in Django's cache (shared
by every worker process), and serve search, filters, sorting, paging and the storage overview
from it. Entries live for IMGDASH_INDEX_TTL seconds before the next request refreshes them;
the last good copy is kept longer so a failed refresh can still show it, with a banner.

A copy belongs to the credential it was fetched with: it is served only while that credential
(same row, same token, same connection) is the user's, and it is dropped when the cluster
refuses the list (401 or 403: what the user may see has changed) and whenever the credential
is saved or deleted (connect, disconnect, stale; see signals.py).

The list page does not wait for a large registry (`list_index`): the request that claims the
fetch runs it in a background thread of the web process and every page waiting for it answers
after at most IMGDASH_LIST_WAIT seconds with the fetch's progress, which the fetch writes to
the cache as it goes. The fetch is a read whose only audience is the pages waiting for it, so
it belongs to the web process rather than the job queue: it never queues behind long jobs, it
works without a worker, and if the process dies with it, its claim expires and the next page
view simply starts it again.

Each worker process also keeps the rows it last read, decoded, beside a short version stamp
that every change of the shared copy (a fetch, the user's own delete or scope change, a drop)
writes anew to the cache. A read compares only the stamp, and decodes the shared copy again
only when another process (or thread) changed it, so a warm page does not unpickle the whole
index; and a change made in any process is seen by every other at its next read.

Another user's delete or scope change on the same cluster reaches this user's copy through
the cluster's shared change log (shared_changes.py), read with the stamp.
"""

import contextvars
import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.dispatch import Signal

from imgdash.clusters import locks
from imgdash.clusters.services import NeedsConnection, credential_for, user_client
from imgdash.imagemanager import (
    Forbidden,
    ImageManagerError,
    Unauthorized,
    is_valid_repository_name,
    namespace_of,
    short_name_of,
)
from imgdash.imagemanager.errors import LIST_REPOSITORIES
from imgdash.imagemanager.listing import RepositorySummary, summary_of
from imgdash.repositories import shared_changes

# For metrics: `read` (hit=True when a fresh copy answered), and `fetched` (seconds, ok)
# when a fetch of the whole list ends.
index_read = Signal()
index_fetched = Signal()

logger = logging.getLogger("imgdash.repositories")

KEEP_LAST_GOOD = 24 * 3600
WAIT_STEP = 0.05
# A running fetch writes its progress to the cache at most this often.
PROGRESS_EVERY = 0.25
# How long the outcome of a failed fetch stays readable to the pages that were waiting for it.
KEEP_FAILURE = 300
# How many users' and clusters' decoded rows one worker process keeps.
LOCAL_COPIES = 16
# How many derived views (sort orders, search results) one decoded copy keeps.
DERIVED_VIEWS = 32


class Entry(NamedTuple):
    """One repository as the list needs it; tags only as lower-case text for searching."""

    name: str
    scope: str
    tag_count: int
    size: int
    tags_text: str  # lower-case tag names joined by "\n"
    linkable: bool  # a valid name we can build a detail URL for
    # SIZE_EXACT, SIZE_AT_LEAST (`size` counts only the tags that have sizes: manifest lists
    # and schema 1 have none) or SIZE_UNKNOWN; one of three shared strings, so it pickles small.
    size_state: str
    # The tag names as pushed, joined like tags_text, when any has upper-case letters (rare):
    # what the list shows of a matching tag is its real name, not the lower-cased copy.
    tags_as_pushed: str | None = None
    # The listing.digest_prefixes of its tags' config digests (single-arch) and platform
    # manifest digests (lists): what its "last built" date is looked up by (built.py).
    digests: bytes = b""

    @property
    def namespace(self):
        return namespace_of(self.name)

    @property
    def short_name(self):
        return short_name_of(self.name)


class Derived:
    """What is computed from one decoded copy (sort orders, search results, the namespaces),
    kept beside it, the most recently used first.

    It lives and dies with its copy: a new version stamp brings a new copy and an empty
    Derived, so nothing here outlives the rows it was computed from, in any process.
    """

    def __init__(self, limit=DERIVED_VIEWS):
        self._values = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key, compute):
        """The value for `key`, computed by `compute()` when this copy has none yet."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._limit:
                self._values.popitem(last=False)
        return value


@dataclass(slots=True)
class Snapshot:
    entries: tuple
    fetched_at: float
    error: ImageManagerError | None = None  # set when a refresh failed and this is older data
    derived: Derived = field(default_factory=Derived)


def entry_for(summary):
    """The row of a listing.RepositorySummary (or of a Repository: the same attributes)."""
    if not isinstance(summary, RepositorySummary):
        summary = summary_of(summary)
    tags = "\n".join(summary.tag_names)
    lowered = tags.lower()
    return Entry(
        name=summary.name,
        scope=summary.scope,
        tag_count=len(summary.tag_names),
        size=summary.size,
        tags_text=lowered,
        linkable=is_valid_repository_name(summary.name),
        size_state=summary.size_state,
        tags_as_pushed=tags if tags != lowered else None,
        digests=summary.digests,
    )


def _key(user, cluster):
    return index_key(user.pk, cluster.pk)


def index_key(user_id, cluster_id):
    # v5: entries carry digest prefixes; a copy in an older shape is never read.
    return f"repoindex:v5:{cluster_id}:{user_id}"


def credential_tag(credential):
    """What a copy is bound to: the credential row, its token, and when it was connected.

    Each connect stores a new token or at least a new connection time, so a copy fetched
    before a reconnect (as the same or another cluster user) never matches afterwards.
    """
    if credential is None:
        return "-"  # only callers outside a request (the views always have a credential)
    connected_at = credential.connected_at.timestamp() if credential.connected_at else 0
    return f"{credential.pk}:{credential.fingerprint}:{connected_at}"


def _owner(user, cluster, credential=None):
    return credential_tag(credential or credential_for(user, cluster))


# This worker's decoded copies: index key -> (stamp, owner, fetched_at, entries tuple, Derived,
# the last change of the cluster's shared change log applied to them).
_local: OrderedDict = OrderedDict()
_local_lock = threading.Lock()


def _stamp_key(key):
    return key + ":stamp"


def _stored(user, cluster, owner=None):
    """(fetched_at, entries, derived) of the copy for `owner` (by default the user's current
    credential)."""
    if owner is None:
        owner = _owner(user, cluster)
    key = _key(user, cluster)
    log_key = shared_changes.log_key(cluster.pk)
    found = cache.get_many([_stamp_key(key), log_key])
    stamp = found.get(_stamp_key(key))
    seq, changes = found.get(log_key) or (0, ())
    if stamp is not None:
        with _local_lock:
            local = _local.get(key)
        if local is not None and local[0] == stamp:
            if local[1] != owner:
                return None
            if local[5] < seq:
                local = _catch_up(key, local, seq, changes)
            return local[2], local[3], local[4]
    value = cache.get(key)
    if not (isinstance(value, tuple) and len(value) == 4):
        return None
    fetched_at, rows, stored_owner, value_stamp = value
    if stored_owner != owner:
        return None
    # A NamedTuple builds several times faster than a dataclass.
    entries = tuple(map(Entry._make, rows))
    entries = shared_changes.apply(entries, changes, fetched_at, seen=0)
    derived = _remember(key, value_stamp, owner, fetched_at, entries, seen=seq)
    return fetched_at, entries, derived


def _catch_up(key, local, seq, changes):
    """`local` with the changes other users made since it was read applied (a new Derived
    only when the rows changed)."""
    stamp, owner, fetched_at, entries, derived, seen = local
    applied = shared_changes.apply(entries, changes, fetched_at, seen)
    if applied is not entries:
        derived = Derived()
    local = (stamp, owner, fetched_at, applied, derived, seq)
    with _local_lock:
        if _local.get(key, (None,))[0] == stamp:
            _local[key] = local
    return local


def _remember(key, stamp, owner, fetched_at, entries, seen=0):
    derived = Derived()
    with _local_lock:
        _local[key] = (stamp, owner, fetched_at, entries, derived, seen)
        _local.move_to_end(key)
        while len(_local) > LOCAL_COPIES:
            _local.popitem(last=False)
    return derived


def forget_local_copies():
    """Drop this process's decoded copies (the shared ones stay)."""
    with _local_lock:
        _local.clear()


def _store(user, cluster, owner, entries, fetched_at):
    key = _key(user, cluster)
    entries = tuple(entries)
    stamp = secrets.token_hex(8)
    # Plain tuples pickle several times faster than objects.
    rows = tuple(tuple(entry) for entry in entries)
    cache.set(key, (fetched_at, rows, owner, stamp), timeout=KEEP_LAST_GOOD)
    # Written after the copy: a process that sees the new stamp finds the new copy.
    cache.set(_stamp_key(key), stamp, timeout=KEEP_LAST_GOOD)
    _remember(key, stamp, owner, fetched_at, entries)


def _snapshot(stored):
    fetched_at, entries, derived = stored
    return Snapshot(entries, fetched_at, derived=derived)


def forget_repository(user, cluster, name):
    """After the user's own delete: drop the row so no worker keeps showing it, in this
    user's copy and (through the shared change log) everyone else's."""
    _update(user, cluster, name, lambda entry: None)
    shared_changes.note(cluster.pk, name)


def change_scope(user, cluster, name, scope):
    """After the user's own scope change: show the new scope at once, to everyone."""
    _update(user, cluster, name, lambda entry: entry._replace(scope=scope))
    shared_changes.note(cluster.pk, name, scope)


def change_tags(user, cluster, repository):
    """After the user's own tag delete: the repository's row as the cluster now shows it
    (`repository`, from operation 4), in this user's copy and everyone else's."""
    entry = entry_for(repository)
    _update(user, cluster, repository.name, lambda _: entry)
    shared_changes.note(cluster.pk, repository.name, repository.scope, entry=entry)


def _update(user, cluster, name, change):
    owner = _owner(user, cluster)
    stored = _stored(user, cluster, owner)
    if stored is None:
        return
    snapshot = _snapshot(stored)
    entries = []
    for entry in snapshot.entries:
        if entry.name == name:
            entry = change(entry)
        if entry is not None:
            entries.append(entry)
    _store(user, cluster, owner, entries, snapshot.fetched_at)


def drop_index(user, cluster):
    key = _key(user, cluster)
    cache.delete(key)
    cache.delete(_stamp_key(key))
    with _local_lock:
        _local.pop(key, None)


# --------------------------------------------------------------------------------------
# The list page: the fetch in the background, and its progress

# A fetch receives the answer, reads it (JSON), indexes its repositories, then is done or failed.
RECEIVING, READING, INDEXING = "receiving", "reading", "indexing"
DONE, FAILED = "done", "failed"


@dataclass(slots=True)
class Fetch:
    """A fetch of the list, as the pages waiting for it show it."""

    id: str  # "" for a fetch that has not said anything yet
    stage: str = RECEIVING
    received: int = 0  # bytes of the answer so far
    total: int | None = None  # bytes in all, when the cluster said so
    repositories: int | None = None  # once the answer is in and read
    error: ImageManagerError | None = None  # when it failed

    @property
    def running(self):
        return self.stage in (RECEIVING, READING, INDEXING)


_FETCH_FIELDS = Fetch.__slots__


class ListState(NamedTuple):
    snapshot: Snapshot | None  # the copy to show: None while the first fetch runs
    fetch: Fetch | None  # the fetch still running, whose progress to show


def list_index(user, cluster, refresh=False, fetch_id="", wait=None, credential=None):
    """What the list page shows now, never waiting on the cluster longer than `wait` seconds
    (IMGDASH_LIST_WAIT by default): a ListState.

    A fresh copy (unless `refresh`) is shown at once. Otherwise the fetch already running is
    joined, or one is started in the background, and waited for up to `wait` seconds: ended,
    its copy; still running, the copy there was (or None) with the fetch. `fetch_id` names the
    fetch a page is following: while it runs, the page's copy keeps its progress note; when it
    failed, its error is set on the copy, or raised when there is none, rather than a new fetch
    started. 401 and 403 drop the copy and are raised. `credential`: the user's credential for
    `cluster` when the caller has it already (else it is read).
    """
    wait = settings.REPOSITORY_LIST_WAIT if wait is None else wait
    owner = _owner(user, cluster, credential)
    stored = _stored(user, cluster, owner)
    followed = _read_fetch(user, cluster, owner) if fetch_id else None
    if followed is not None and followed.id == fetch_id:
        if followed.stage == FAILED:
            return _failed(stored, followed.error)
        if stored and followed.running and not refresh:
            return ListState(_snapshot(stored), followed)
    if stored and not refresh and time.time() - stored[0] < settings.REPOSITORY_INDEX_TTL:
        index_read.send(None, hit=True)
        return ListState(_snapshot(stored), None)
    index_read.send(None, hit=False)
    fetch = _start_or_join(user, cluster, owner)
    return _await(user, cluster, owner, stored, fetch, wait)


def _start_or_join(user, cluster, owner):
    """The fetch to wait for: a new one in the background if we claim it, else the running one."""
    lock = _claim_key(user, cluster)
    if not locks.claim(lock, timeout=_claim_timeout()):
        running = _read_fetch(user, cluster, owner)
        return running if running is not None and running.running else Fetch(id="")
    try:
        client, credential = user_client(user, cluster)
    except NeedsConnection as reason:  # the credential went away since the page loaded it
        locks.release(lock)
        raise Unauthorized(str(reason), operation=LIST_REPOSITORIES) from None
    fetch = Fetch(id=secrets.token_urlsafe(8))
    reporter = _Reporter(user, cluster, credential_tag(credential), fetch)
    reporter.write()
    # In the request's context, so the fetch's log lines name the request, user and cluster
    # that started it.
    context = contextvars.copy_context()
    threading.Thread(
        target=context.run,
        args=(_fetch_in_background, reporter, client, lock),
        name=f"repository-list-{cluster.pk}-{user.pk}",
        daemon=True,
    ).start()
    return fetch


def _await(user, cluster, owner, stored, fetch, wait):
    """Wait up to `wait` seconds for `fetch` to end; see list_index."""
    lock = _claim_key(user, cluster)
    deadline = time.monotonic() + wait
    while True:
        # Looked at before the rest: a fetch stores its copy and outcome, then releases.
        claimed = locks.is_claimed(lock)
        current = _read_fetch(user, cluster, owner)
        if current is not None and (current.id == fetch.id or (not fetch.id and current.running)):
            fetch = current
        if fetch.stage == FAILED:
            return _failed(stored, fetch.error)
        latest = _stored(user, cluster, owner)
        if latest and (stored is None or latest[0] != stored[0]):
            return ListState(_snapshot(latest), None)
        if not claimed:
            # The fetch ended with nothing for us (its process died, or it was another page's
            # fetch in its own request that failed there): start one ourselves.
            fetch = _start_or_join(user, cluster, owner)
        if time.monotonic() >= deadline:
            return ListState(_snapshot(stored) if stored else None, fetch)
        time.sleep(WAIT_STEP)


def _failed(stored, error):
    if stored is None or isinstance(error, Unauthorized | Forbidden):
        raise error
    snapshot = _snapshot(stored)
    snapshot.error = error
    return ListState(snapshot, None)


def _fetch_in_background(reporter, client, lock):
    user, cluster = reporter.user, reporter.cluster
    started, ok = time.perf_counter(), False
    try:
        with client:
            summaries = client.list_repository_summaries(progress=reporter)
        entries = [entry_for(summary) for summary in summaries]
        _store(user, cluster, reporter.owner, entries, time.time())
        ok = True
        reporter.end(DONE)
    except (Unauthorized, Forbidden) as error:
        drop_index(user, cluster)
        reporter.end(FAILED, error)
    except ImageManagerError as error:
        reporter.end(FAILED, error)
    except Exception:
        logger.exception("Fetching the repository list of %s failed", cluster.slug)
        reporter.end(
            FAILED,
            ImageManagerError(
                "imgdash failed while reading the repository list (the server log has the "
                "details). Try again.",
                operation=LIST_REPOSITORIES,
            ),
        )
    finally:
        locks.release(lock)
        index_fetched.send(None, seconds=time.perf_counter() - started, ok=ok)
        connections.close_all()  # this thread's own, if anything opened one


class _Reporter:
    """A fetch's progress (an imagemanager ListProgress), written where the pages read it."""

    def __init__(self, user, cluster, owner, fetch):
        self.user, self.cluster, self.owner, self.fetch = user, cluster, owner, fetch
        self._written = 0.0

    def receiving(self, received, total):
        self.fetch.received, self.fetch.total = received, total
        if time.monotonic() - self._written >= PROGRESS_EVERY:
            self.write()

    def indexing(self, repositories):
        self.fetch.stage = READING if repositories is None else INDEXING
        self.fetch.repositories = repositories
        self.write()

    def end(self, stage, error=None):
        self.fetch.stage, self.fetch.error = stage, error
        self.write()

    def write(self):
        self._written = time.monotonic()
        value = {"owner": self.owner} | {name: getattr(self.fetch, name) for name in _FETCH_FIELDS}
        cache.set(
            _progress_key(self.user, self.cluster), value, timeout=_claim_timeout() + KEEP_FAILURE
        )


def _read_fetch(user, cluster, owner):
    value = cache.get(_progress_key(user, cluster))
    if not (isinstance(value, dict) and value.get("owner") == owner):
        return None
    return Fetch(**{name: value.get(name) for name in _FETCH_FIELDS})


def _claim_key(user, cluster):
    return _key(user, cluster) + ":fetching"


def _progress_key(user, cluster):
    return _key(user, cluster) + ":progress"


def _claim_timeout():
    # No fetch outlives the list's deadline (retries included), so neither does its claim.
    return settings.IMAGEMANAGER_LIST_DEADLINE + settings.IMAGEMANAGER_CONNECT_TIMEOUT
