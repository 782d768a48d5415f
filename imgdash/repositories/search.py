"""Search, filter, sort and page the repository index (all in memory, on the cached rows)."""

import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter

from django.core.paginator import Paginator
from django.utils import timezone

from imgdash.imagemanager import SCOPES, SIZE_AT_LEAST, SIZE_EXACT, SIZE_UNKNOWN

SORTS = {
    "name": attrgetter("name"),
    "namespace": lambda e: (e.namespace, e.name),
    "tags": attrgetter("tag_count", "name"),
    "size": attrgetter("size", "name"),
    "built": attrgetter("name"),  # by date: sort_entries, with the copy's BuiltDates
}
# Keys whose header sorts largest first on its first click: the biggest is what one looks for.
DESCENDING_FIRST = ("tags", "size", "built")
# built:<30d, built:>180d; m is 30 days, y 365.
AGE_UNITS = {"d": 1, "w": 7, "m": 30, "y": 365}
_AGE = re.compile(r"([<>])(\d{1,5})([dwmy])", re.ASCII)
MAX_AGE_DAYS = 100 * 365
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
MAX_QUERY_LENGTH = 500
# Each word is one pass over the whole index: a few are plenty to narrow any registry.
MAX_QUERY_WORDS = 20


@dataclass
class Query:
    """Free text (names and tags) plus the qualifiers ns:, scope: and tag:."""

    words: list = field(default_factory=list)
    namespaces: set = field(default_factory=set)
    scopes: set = field(default_factory=set)
    tags: list = field(default_factory=list)
    built: list = field(default_factory=list)  # ("<" or ">", days)
    problems: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.words or self.namespaces or self.scopes or self.tags or self.built)

    @property
    def key(self):
        """What decides the matches (not the problems reported): equal keys, equal results."""
        return (
            tuple(sorted(self.namespaces)),
            tuple(sorted(self.scopes)),
            tuple(self.tags),
            tuple(self.words),
            tuple(self.built),
        )


def parse_query(text, namespace="", scope=""):
    """'ns:team-a scope:global tag:1.2 nginx' -> Query. Unknown scope values are reported.

    Words and tags are searched once each, and not at all when a longer one contains them
    (what matches "team-a" matches "team"); an over-long search is cut, and says so.
    """
    query = Query()
    if len(text) > MAX_QUERY_LENGTH:
        query.problems.append(
            f"Your search is longer than {MAX_QUERY_LENGTH} characters: only its first "
            f"{MAX_QUERY_LENGTH} were searched for."
        )
    for token in text[:MAX_QUERY_LENGTH].lower().split():
        key, sep, value = token.partition(":")
        if sep and key in ("ns", "namespace") and value:
            query.namespaces.add(value)
        elif sep and key == "scope" and value:
            if value in SCOPES:
                query.scopes.add(value)
            else:
                query.problems.append(
                    f"scope:{value} is not a scope; use scope:global or scope:namespace"
                )
        elif sep and key == "tag" and value:
            query.tags.append(value)
        elif sep and key == "built":
            _add_age(query, value)
        else:
            query.words.append(token)
    query.words = _strongest(query.words)
    query.tags = _strongest(query.tags)
    if len(query.words) + len(query.tags) > MAX_QUERY_WORDS:
        query.problems.append(
            f"Search for at most {MAX_QUERY_WORDS} words and tags: only the first "
            f"{MAX_QUERY_WORDS} were searched for."
        )
        query.words = query.words[:MAX_QUERY_WORDS]
        query.tags = query.tags[: MAX_QUERY_WORDS - len(query.words)]
    if namespace:
        query.namespaces.add(namespace.lower())
    if scope in SCOPES:
        query.scopes.add(scope)
    return query


def _add_age(query, value):
    match = _AGE.fullmatch(value)
    days = int(match[2]) * AGE_UNITS[match[3]] if match else None
    if days is None or days > MAX_AGE_DAYS:
        query.problems.append(
            f"built:{value[:40]} is not an age; use built:<30d (built within the last 30 days) "
            "or built:>180d (not built for more than 180 days), in d, w, m (30 days) or y"
        )
        return
    query.built.append((match[1], days))


def _strongest(words):
    """`words` without repeats and without any word that another one contains, in order."""
    unique = list(dict.fromkeys(words))
    return [word for word in unique if not any(word != other and word in other for other in unique)]


def search(entries, query, lowered=None, built=None, now=None):
    """The entries that match `query`: one tight pass per condition, narrowest first.

    `lowered` is each entry's (name, namespace) in lower case, in the same order, when the
    caller keeps them (sorted_matches does); else they are worked out here. `built`: the
    copy's built.BuiltDates, needed when the query has built: terms (a repository without a
    date matches none).
    """
    if lowered is None:
        lowered = [lowered_names(e) for e in entries]
    # Pairs are built only for the entries that pass the first condition.
    found = zip(entries, lowered, strict=True)
    if query.namespaces:
        # Compared without case, as words are: the namespace filter offers names as stored.
        found = [(e, low) for e, low in found if low[1] in query.namespaces]
    if query.scopes:
        found = [(e, low) for e, low in found if e.scope in query.scopes]
    for tag in query.tags:
        found = [(e, low) for e, low in found if tag in e.tags_text]
    for word in query.words:
        found = [(e, low) for e, low in found if word in e.tags_text or word in low[0]]
    if query.built:
        dates = built.by_name if built is not None else {}
        now = now or timezone.now()
        cutoffs = [(op, now - timedelta(days=days)) for op, days in query.built]
        found = [
            (e, low)
            for e, low in found
            if (created := dates.get(e.name)) is not None
            and all(created >= cut if op == "<" else created < cut for op, cut in cutoffs)
        ]
    return [e for e, _ in found]


def lowered_names(entry):
    return entry.name.lower(), entry.namespace.lower()


def sorted_matches(entries, query, key, descending, derived, built=None):
    """search() then sort_entries(), remembered in `derived` (the copy's index.Derived).

    Each sort order is computed once per copy, and a search filters the sorted rows (which
    keeps their order), so paging through a search or typing the same text again neither
    searches nor sorts a second time. What depends on build dates (`built`, the copy's
    built.BuiltDates) is remembered per facts version as well.
    """
    dated = key == "built"
    order_key = ("order", key, descending) + ((built.stamp,) if dated and built else ())
    order = derived.get(order_key, lambda: sort_entries(entries, key, descending, built))
    if query.empty:
        return order
    # Lowered once per copy; each searched order only lists them again in its own order. The
    # ids are stable: the copy's tuple holds every entry for as long as `derived` lives.
    by_id = derived.get("lowered", lambda: {id(e): lowered_names(e) for e in entries})
    lowered = derived.get((*order_key, "lowered"), lambda: [by_id[id(e)] for e in order])
    found_key = ("found", query.key, *order_key)
    if query.built:
        # A date's age changes with the clock: a filtered search is kept for a minute at most.
        found_key += (built.stamp if built else "", int(time.time() // 60))
    return derived.get(found_key, lambda: search(order, query, lowered, built))


def namespaces(entries, derived):
    """The namespaces of `entries`, sorted, remembered in `derived`."""
    return derived.get("namespaces", lambda: sorted({e.namespace for e in entries}))


def parse_sort(value):
    """'-size' -> ('size', True); anything unknown -> sort by name ascending."""
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in SORTS:
        return "name", False
    return key, descending


def sort_entries(entries, key, descending, built=None):
    if key == "size":
        return _sort_by_size(entries, descending)
    if key == "built":
        return _sort_by_built(entries, descending, built.by_name if built else {})
    return sorted(entries, key=SORTS[key], reverse=descending)


def _sort_by_built(entries, descending, dates):
    """Newest or oldest first, and in both directions the repositories without a known date
    last, by name (as sizes: unknown is not old)."""
    known = [e for e in entries if e.name in dates]
    unknown = [e for e in entries if e.name not in dates]
    known.sort(key=lambda e: e.name)  # ties by name: sort is stable
    known.sort(key=lambda e: dates[e.name], reverse=descending)
    unknown.sort(key=SORTS["name"])
    return known + unknown


def _sort_by_size(entries, descending):
    """Largest or smallest first, and in both directions the unknown sizes last, by name:
    an unknown size is not zero (the API gives multi-arch and schema 1 images no size)."""
    unknown = [e for e in entries if e.size_state == SIZE_UNKNOWN]
    if not unknown:
        return sorted(entries, key=SORTS["size"], reverse=descending)
    known = [e for e in entries if e.size_state != SIZE_UNKNOWN]
    known.sort(key=SORTS["size"], reverse=descending)
    unknown.sort(key=SORTS["name"])
    return known + unknown


def matching_tags(entry, query, limit=3):
    """(shown, more): the entry's tag names that the query's `tag:` terms matched, at most
    `limit` of them marked up as (before, match, after), and how many more there are."""
    if not query.tags or not entry.tags_text:
        return [], 0
    terms = query.tags
    lowered = entry.tags_text.split("\n")
    as_pushed = (entry.tags_as_pushed or entry.tags_text).split("\n")
    matched = [
        (tag, shown)
        for tag, shown in zip(lowered, as_pushed, strict=False)
        if any(t in tag for t in terms)
    ]
    marked = [_marked(tag, shown, terms) for tag, shown in matched[:limit]]
    return marked, max(0, len(matched) - limit)


def _marked(tag, shown, terms):
    """The tag name as pushed (`shown`), as (before, match, after) around the first term
    found in its lower-case form `tag`."""
    if len(shown) != len(tag):  # lower() changed the length: mark the lower-case copy
        shown = tag
    for term in terms:
        start = tag.find(term)
        if start != -1:
            end = start + len(term)
            return shown[:start], shown[start:end], shown[end:]
    return shown, "", ""


def parse_page_size(value):
    try:
        size = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def parse_page(value):
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def paginate(entries, number, size):
    """Page `number` of `entries`; a page past the end shows the last one."""
    paginator = Paginator(entries, size)
    return paginator.page(min(number, paginator.num_pages))


def namespace_totals(entries):
    """Per namespace: repositories, tags and compressed bytes, largest first, each with its
    size_state and how many of its repositories ("unsized") lack some or all sizes; the
    namespaces whose size is unknown come last."""
    totals = {}
    for entry in entries:
        row = totals.get(entry.namespace)
        if row is None:
            row = totals[entry.namespace] = {
                "namespace": entry.namespace,
                "repositories": 0,
                "tags": 0,
                "size": 0,
                "size_state": SIZE_EXACT,
                "unsized": 0,
            }
        row["repositories"] += 1
        row["tags"] += entry.tag_count
        row["size"] += entry.size
        if entry.size_state != SIZE_EXACT:
            row["unsized"] += 1
    rows = list(totals.values())
    for row in rows:
        row["size_state"] = _total_state(row["size"], row["unsized"])
    return sorted(
        rows, key=lambda row: (row["size_state"] == SIZE_UNKNOWN, -row["size"], row["namespace"])
    )


def size_total(entries):
    """(bytes, size_state, repositories whose size is not exact) of `entries` together."""
    size = unsized = 0
    for entry in entries:
        size += entry.size
        if entry.size_state != SIZE_EXACT:
            unsized += 1
    return size, _total_state(size, unsized), unsized


def _total_state(size, unsized):
    """Exact when every part is; a lower bound when some part is missing but bytes are known;
    unknown when no byte is (rather than "at least 0 B")."""
    if not unsized:
        return SIZE_EXACT
    return SIZE_AT_LEAST if size else SIZE_UNKNOWN
