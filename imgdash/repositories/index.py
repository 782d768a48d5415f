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
"""

import time
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from imgdash.clusters.services import credential_for
from imgdash.imagemanager import (
    Forbidden,
    ImageManagerError,
    Unauthorized,
    is_valid_repository_name,
    namespace_of,
    short_name_of,
)
from imgdash.repositories import locks

KEEP_LAST_GOOD = 24 * 3600
WAIT_STEP = 0.05


class Entry(NamedTuple):
    """One repository as the list needs it; tags only as lower-case text for searching."""

    name: str
    scope: str
    tag_count: int
    size: int
    tags_text: str  # lower-case tag names joined by "\n"
    linkable: bool  # a valid name we can build a detail URL for

    @property
    def namespace(self):
        return namespace_of(self.name)

    @property
    def short_name(self):
        return short_name_of(self.name)


@dataclass(slots=True)
class Snapshot:
    entries: list
    fetched_at: float
    error: ImageManagerError | None = None  # set when a refresh failed and this is older data


def entry_for(repository):
    return Entry(
        name=repository.name,
        scope=repository.scope,
        tag_count=repository.tag_count,
        size=repository.size,
        tags_text="\n".join(repository.tag_names).lower(),
        linkable=is_valid_repository_name(repository.name),
    )


def _key(user, cluster):
    return index_key(user.pk, cluster.pk)


def index_key(user_id, cluster_id):
    return f"repoindex:v2:{cluster_id}:{user_id}"


def credential_tag(credential):
    """What a copy is bound to: the credential row, its token, and when it was connected.

    Each connect stores a new token or at least a new connection time, so a copy fetched
    before a reconnect (as the same or another cluster user) never matches afterwards.
    """
    if credential is None:
        return "-"  # only callers outside a request (the views always have a credential)
    connected_at = credential.connected_at.timestamp() if credential.connected_at else 0
    return f"{credential.pk}:{credential.fingerprint}:{connected_at}"


def _owner(user, cluster):
    return credential_tag(credential_for(user, cluster))


def _stored(user, cluster, owner=None):
    """(fetched_at, rows) of the copy for `owner` (by default the user's current credential)."""
    if owner is None:
        owner = _owner(user, cluster)
    value = cache.get(_key(user, cluster))
    if not (isinstance(value, tuple) and len(value) == 3):
        return None
    fetched_at, rows, stored_owner = value
    return (fetched_at, rows) if stored_owner == owner else None


def _store(user, cluster, owner, entries, fetched_at):
    # Plain tuples pickle several times faster than objects.
    rows = tuple(tuple(entry) for entry in entries)
    cache.set(_key(user, cluster), (fetched_at, rows, owner), timeout=KEEP_LAST_GOOD)


def _snapshot(stored):
    fetched_at, rows = stored
    # A NamedTuple builds several times faster than a dataclass: this runs per keystroke.
    return Snapshot(list(map(Entry._make, rows)), fetched_at)


def _fetch(user, cluster, owner, client):
    repositories = client.list_repositories()
    entries = [entry_for(repository) for repository in repositories]
    fetched_at = time.time()
    _store(user, cluster, owner, entries, fetched_at)
    return Snapshot(entries, fetched_at)


def repository_index(user, cluster, client, refresh=False):
    """The user's index for this cluster: cached if fresh, else fetched once.

    When two requests need a fetch together, one fetches and the other waits for its result
    (or shows the data it already had). A failed fetch falls back to the last good copy with
    `error` set; with no copy at all the error is raised. 401 and 403 drop the copy and
    propagate: the cluster no longer shows this user what the copy holds.
    """
    owner = _owner(user, cluster)
    stored = _stored(user, cluster, owner)
    if stored and not refresh and time.time() - stored[0] < settings.REPOSITORY_INDEX_TTL:
        return _snapshot(stored)
    lock = _key(user, cluster) + ":fetching"
    # No fetch outlives the list's deadline (retries included), so neither does its claim.
    lock_timeout = settings.IMAGEMANAGER_LIST_DEADLINE + settings.IMAGEMANAGER_CONNECT_TIMEOUT
    if locks.claim(lock, timeout=lock_timeout):
        return _fetch_claimed(user, cluster, owner, client, stored, lock)
    if stored:
        # Another request is refreshing; show what we have meanwhile.
        return _snapshot(stored)
    return _wait_for_other_fetch(user, cluster, owner, client, lock, lock_timeout)


def _fetch_claimed(user, cluster, owner, client, stored, lock):
    """Fetch while holding `lock`, unless a fetch that ended since `stored` was read did."""
    try:
        current = _stored(user, cluster, owner)
        if current and current[0] != (stored[0] if stored else None):
            return _snapshot(current)
        return _fetch(user, cluster, owner, client)
    except (Unauthorized, Forbidden):
        drop_index(user, cluster)
        raise
    except ImageManagerError as error:
        if stored is None:
            raise
        snapshot = _snapshot(stored)
        snapshot.error = error
        return snapshot
    finally:
        locks.release(lock)


def _wait_for_other_fetch(user, cluster, owner, client, lock, lock_timeout):
    deadline = time.monotonic() + lock_timeout
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP)
        # Looked at before the copy: a fetch stores its copy, then releases its claim.
        claimed = locks.is_claimed(lock)
        current = _stored(user, cluster, owner)
        if current:
            return _snapshot(current)
        if not claimed and locks.claim(lock, timeout=lock_timeout):
            # The other fetch failed (its request showed the error): try once ourselves.
            return _fetch_claimed(user, cluster, owner, client, None, lock)
    return _fetch(user, cluster, owner, client)


def forget_repository(user, cluster, name):
    """After the user's own delete: drop the row so no worker keeps showing it."""
    _update(user, cluster, name, lambda entry: None)


def change_scope(user, cluster, name, scope):
    """After the user's own scope change: show the new scope at once."""
    _update(
        user,
        cluster,
        name,
        lambda e: Entry(e.name, scope, e.tag_count, e.size, e.tags_text, e.linkable),
    )


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
    cache.delete(_key(user, cluster))
