"""Deletes, scope changes and tag deletes every user's list must show at once, not at its
next refresh.

Each user's index is a copy of what the cluster showed that user's token. A user's own delete,
scope change or tag delete updates their own copy in place (index.forget_repository,
change_scope, change_tags); the copies of other users on the same cluster would keep the old
row until their next refresh (IMGDASH_INDEX_TTL), so a teammate could still open a repository
that is gone. So each such change is also noted in a short per-cluster log in the shared
cache, and a copy that was fetched before a change noted there has it applied when it is read
(index._stored), in every worker process and on every instance sharing the cache.

Applying a change to a copy that does not list the repository does nothing; applying one
twice changes nothing more. The log keeps the last LIMIT changes younger than MAX_AGE: a copy
that missed more than that is at most IMGDASH_INDEX_TTL old anyway, or a stale copy the page
already says is stale.
"""

import time
from typing import NamedTuple

from django.core.cache import cache

from imgdash.clusters import locks

LIMIT = 256
MAX_AGE = 24 * 3600
DELETED = None  # the `scope` of a change that deleted the repository


class Change(NamedTuple):
    seq: int
    at: float  # time.time() when the cluster agreed
    name: str
    scope: str | None  # the new scope, or DELETED
    # The repository's whole new row after a tag delete (its tag count and size changed):
    # the same for every user who lists it, as it is what the cluster holds.
    entry: object = None


def log_key(cluster_id):
    return f"repochanges:v1:{cluster_id}"


def note(cluster_id, name, scope=DELETED, entry=None):
    """Note that `name` was deleted (or got `scope`, or lost tags and now has the row
    `entry`) on the cluster, for every copy to see."""
    key = log_key(cluster_id)
    # Read, append and write under a claim, so two changes noted at once both stay. A change
    # that cannot get the claim in time is noted anyway: at worst one is lost, and the copies
    # it concerns show it at their next refresh.
    claimed = _claim(key + ":writing")
    try:
        seq, changes = cache.get(key) or (0, ())
        now = time.time()
        kept = [change for change in changes if now - change.at < MAX_AGE][-(LIMIT - 1) :]
        cache.set(
            key, (seq + 1, (*kept, Change(seq + 1, now, name, scope, entry))), timeout=MAX_AGE
        )
    finally:
        if claimed:
            locks.release(key + ":writing")


def _claim(key, patience=2.0):
    deadline = time.monotonic() + patience
    while not locks.claim(key, timeout=10):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def apply(entries, changes, fetched_at, seen):
    """`entries` with the `changes` after seq `seen` made since `fetched_at` applied: a new
    tuple, or `entries` itself when none of them concerns a listed repository."""
    pending = {}
    for change in changes:
        if change.seq > seen and change.at > fetched_at:
            pending[change.name] = change  # the latest change of a name wins
    if not pending:
        return entries
    changed = []
    touched = False
    for entry in entries:
        if entry.name in pending:
            change = pending[entry.name]
            if change.entry is not None:
                touched = touched or entry != change.entry
                entry = change.entry
            elif change.scope is DELETED:
                touched = True
                continue
            elif entry.scope != change.scope:
                touched = True
                entry = entry._replace(scope=change.scope)
        changed.append(entry)
    return tuple(changed) if touched else entries
