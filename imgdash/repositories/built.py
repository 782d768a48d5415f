""" "Last built" on the repository list: each repository's newest tag's created date.

The dates come from the registry-facts store, looked up by the digest prefixes the index keeps
per repository (index.Entry.digests). Both sides are computed once and kept:

- the store's dates, by digest prefix, once per process and *facts version*: a short stamp in
  the shared cache that every batch of newly stored facts writes anew (`facts_changed`), so a
  date stored by any process (a page, the crawl) shows up at the next read everywhere without
  fetching the list again;
- each repository's date, once per decoded index copy and facts version, in the copy's Derived
  (a warm list only compares two stamps).

Reads stay authorised: a date is only ever shown for a repository the user's own list holds,
looked up by the digests that list names.
"""

import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from imgdash.imagemanager.listing import PREFIX_BYTES, digest_prefix
from imgdash.repositories.models import ConfigFacts, ManifestFacts, MissingFacts

STAMP_KEY = "registryfacts:v1:stamp"
_NEVER_STORED = "-"


def facts_stamp():
    return cache.get(STAMP_KEY) or _NEVER_STORED


def facts_changed():
    """Say that facts were stored: every process's dates are read again at their next use."""
    cache.set(STAMP_KEY, secrets.token_hex(8), timeout=None)


@dataclass(frozen=True)
class StoreDates:
    """What the store knows, by digest prefix: a date, or only that it is settled (stored
    without a date, or missing from the registry) and so not worth asking for again."""

    dates: dict
    settled: frozenset


# This process's StoreDates: (stamp, cluster id) -> StoreDates, only the latest stamp's.
_store_dates: dict = {}
_store_lock = threading.Lock()


def store_dates(cluster):
    stamp = facts_stamp()
    key = (stamp, cluster.pk)
    with _store_lock:
        found = _store_dates.get(key)
    if found is not None:
        return stamp, found
    found = _read_store(cluster)
    with _store_lock:
        for old in [k for k in _store_dates if k[0] != stamp]:
            del _store_dates[old]
        _store_dates[key] = found
    return stamp, found


def _read_store(cluster):
    dates, settled, by_config = {}, set(), {}
    for digest, created in ConfigFacts.objects.values_list("digest", "created").iterator(2000):
        prefix = digest_prefix(digest)
        if prefix is None:
            continue
        settled.add(prefix)
        by_config[digest] = created
        if created is not None:
            dates[prefix] = created
    since = timezone.now() - timedelta(seconds=settings.REGISTRY_MISSING_RETRY)
    missing = set(
        MissingFacts.objects.filter(cluster=cluster, checked_at__gte=since).values_list(
            "digest", flat=True
        )
    )
    rows = ManifestFacts.objects.values_list("digest", "config_digest").iterator(2000)
    for digest, config_digest in rows:
        prefix = digest_prefix(digest)
        if prefix is None:
            continue
        created = by_config.get(config_digest)
        if created is not None:
            dates[prefix] = created
        if config_digest in by_config or config_digest in missing:
            settled.add(prefix)
    settled.update(p for p in map(digest_prefix, missing) if p is not None)
    return StoreDates(dates, frozenset(settled))


def prefixes_of(entry):
    data = entry.digests
    return [data[i : i + PREFIX_BYTES] for i in range(0, len(data), PREFIX_BYTES)]


@dataclass(frozen=True)
class BuiltDates:
    """Each repository's "last built" date (None when no tag's date is known), for one copy."""

    stamp: str
    by_name: dict
    dated: int  # how many repositories have a date

    def of(self, entry):
        return self.by_name.get(entry.name)


def built_dates(cluster, entries, derived):
    """The BuiltDates of `entries` (an index copy), remembered in its `derived`."""
    stamp, known = store_dates(cluster)

    def compute():
        dates = known.dates
        by_name = {}
        for entry in entries:
            if not entry.digests:
                continue
            found = [dates[p] for p in prefixes_of(entry) if p in dates]
            if found:
                by_name[entry.name] = max(found)
        return BuiltDates(stamp, by_name, len(by_name))

    return derived.get(("built", stamp, cluster.pk), compute)


def is_settled(cluster, entry):
    """Whether the store knows all it can of `entry`'s digests (the crawl skips it)."""
    _, known = store_dates(cluster)
    return all(p in known.settled for p in prefixes_of(entry))


def unsettled(cluster, entries):
    """The `entries` a crawl would read: is_settled for many, with one look at the store."""
    _, known = store_dates(cluster)
    return [e for e in entries if not all(p in known.settled for p in prefixes_of(e))]
