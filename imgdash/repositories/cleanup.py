"""Cleanup candidates: which repositories of the cached index the chosen rules pick.

Everything here reads the user's own index copy (index.Entry rows), so a dry run never asks
the cluster anything. Rules combine with AND; "largest N" is applied last, to what the other
rules left, so "more than 20 tags, the 10 largest" means what it says.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from imgdash.imagemanager import SIZE_UNKNOWN
from imgdash.repositories import built, search

# Bounds that keep every figure meaningful; beyond them the form says what it accepts.
MAX_TAGS = 1_000_000
MAX_LARGEST = 1_000_000
MAX_DAYS = 36_500  # a hundred years
NEEDS_DATES = "needs build dates: start a registry crawl"


@dataclass
class Rules:
    more_than_tags: int | None = None
    empty: bool = False
    largest: int | None = None
    not_built_days: int | None = None
    namespace: str = ""
    problems: list = field(default_factory=list)

    @property
    def chosen(self):
        """Whether any rule is chosen (a namespace alone picks nothing: it only narrows)."""
        return (
            self.more_than_tags is not None
            or self.empty
            or self.largest is not None
            or self.not_built_days is not None
        )

    @property
    def key(self):
        return (
            self.more_than_tags,
            self.empty,
            self.largest,
            self.not_built_days,
            self.namespace.lower(),
        )


def _whole_number(params, name, label, low, high, problems):
    """The parameter as an int in [low, high]; None when absent, or (with a problem said)
    when it is not a whole number in range."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw[:20])
        if len(raw) > 20:
            raise ValueError
    except ValueError:
        problems.append(f"{label}: {raw[:20]!r} is not a whole number; use {low} to {high:,}.")
        return None
    if not low <= value <= high:
        problems.append(f"{label}: use a whole number from {low} to {high:,}, not {value:,}.")
        return None
    return value


def parse_rules(params):
    """The rules of the cleanup form's query (a QueryDict or dict); bad values are reported
    in `problems`, and a page with problems shows no candidates."""
    problems = []
    return Rules(
        more_than_tags=_whole_number(
            params, "more_than_tags", "More than K tags", 0, MAX_TAGS, problems
        ),
        empty=params.get("empty") == "1",
        largest=_whole_number(params, "largest", "Largest N", 1, MAX_LARGEST, problems),
        not_built_days=_whole_number(
            params, "not_built_days", "Not built for N days", 1, MAX_DAYS, problems
        ),
        namespace=params.get("namespace", "")[:100],
        problems=problems,
    )


def built_dates(cluster, snapshot):
    """(stamp, {repository name: its newest tag's build date}) for this index copy: what the
    "not built for N days" rule reads. The dates come from the registry-facts store (filled
    by repository pages and the registry crawl); `stamp` changes whenever the store does.
    """
    dates = built.built_dates(cluster, snapshot.entries, snapshot.derived)
    return dates.stamp, dates.by_name


@dataclass
class Candidates:
    entries: list  # the picked index.Entry rows, largest first
    undated: int = 0  # repositories left out by "not built for N days" for want of a date


def pick(entries, rules, dates, now=None):
    """The entries every chosen rule picks, largest first (unknown sizes last, by name)."""
    if not rules.chosen or rules.problems:
        return Candidates([])
    picked = list(entries)
    if rules.namespace:
        wanted = rules.namespace.lower()
        picked = [e for e in picked if e.namespace.lower() == wanted]
    if rules.empty:
        picked = [e for e in picked if e.tag_count == 0]
    if rules.more_than_tags is not None:
        picked = [e for e in picked if e.tag_count > rules.more_than_tags]
    undated = 0
    if rules.not_built_days is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=rules.not_built_days)
        # A repository without a known date is not stale as far as anyone knows: left out.
        undated = sum(1 for e in picked if e.name not in dates)
        picked = [e for e in picked if e.name in dates and dates[e.name] < cutoff]
    picked = search.sort_entries(picked, "size", True)
    if rules.largest is not None:
        # "Largest" ranks by size; a repository whose size is unknown cannot rank.
        picked = [e for e in picked if e.size_state != SIZE_UNKNOWN][: rules.largest]
    return Candidates(picked, undated)
