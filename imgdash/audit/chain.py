"""The keyed hash chain over the action log.

Each row stores the previous row's hash and its own: an HMAC-SHA256, under a key from
IMGDASH_AUDIT_KEY named by the row's `key_id`, over a canonical JSON of its content plus that
previous hash. Editing a row breaks its own MAC; removing or inserting one breaks the link of
the row after it; and without the key nobody can compute a MAC that fits, so write access to
the database is not enough to rewrite the chain. The input is built from exactly what the
database gives back (ISO time with microseconds, text, JSON with sorted keys), so it recomputes
the same on SQLite and PostgreSQL.

Rows written before the chain was keyed have an empty `key_id` and a plain SHA-256 (the same
content without `key_id`). They verify as such, but only as a prefix: an unkeyed row after a
keyed one is a forgery, and the first keyed row's MAC covers the last unkeyed row's hash.

Anchors (`anchors.py`) pin a row's id and hash outside the database; `verify` checks each.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC

GENESIS = "0" * 64

# Everything a row says, in the order it is hashed. The id is not part of it: ids are given by
# the database at insert time, and the chain's order is the ids' order.
LEGACY_FIELDS = (
    "created_at",
    "actor_id",
    "actor_username",
    "cluster_id",
    "cluster_name",
    "action",
    "target",
    "outcome",
    "status",
    "message",
    "details",
    "intent_id",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
)
CONTENT_FIELDS = (*LEGACY_FIELDS, "key_id")


class UnknownKey(Exception):
    """A row names a key id that none of the configured keys has."""


def timestamp(when):
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value):
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _getter(fields):
    return fields.get if isinstance(fields, dict) else lambda name: getattr(fields, name)


def _content(get, names):
    content = {name: get(name) for name in names}
    content["created_at"] = timestamp(content["created_at"])
    return canonical(content).encode()


def event_hash(fields, keys=None):
    """The hash a row must have, from a mapping (or object attributes) of CONTENT_FIELDS.

    Keyed rows: HMAC-SHA256 under the key its key_id names (from `keys`, {key id: key bytes},
    by default the configured ones); raises UnknownKey for an id no key has. Unkeyed (legacy)
    rows: plain SHA-256 over LEGACY_FIELDS.
    """
    get = _getter(fields)
    row_key_id = get("key_id") or ""
    if not row_key_id:
        return hashlib.sha256(_content(get, LEGACY_FIELDS)).hexdigest()
    if keys is None:
        from imgdash.audit.keys import verifying_keys

        keys = verifying_keys()
    key = keys.get(row_key_id)
    if key is None:
        raise UnknownKey(row_key_id)
    return hmac.new(key, _content(get, CONTENT_FIELDS), hashlib.sha256).hexdigest()


def seal(event):
    """Sign an unsaved event (its prev_hash set) with the signing key."""
    from imgdash.audit.keys import signing_key

    event.key_id, key = signing_key()
    event.hash = event_hash(event, {event.key_id: key})
    return event.hash


@dataclass
class Break:
    position: int  # 1-based position in the walk
    id: int
    created_at: object
    reason: str

    def __str__(self):
        return f"Row {self.position} (id {self.id}, {timestamp(self.created_at)}): {self.reason}"


@dataclass
class Report:
    checked: int
    head: str
    first_break: Break | None
    found_head: bool = False
    legacy: int = 0  # unkeyed rows, verified as plain SHA-256
    head_id: int | None = None
    anchors_matched: int = 0
    # Anchors naming rows the walk never reached: removed rows, or an emptied log.
    missing_anchors: list = field(default_factory=list)

    @property
    def keyed(self):
        return self.checked - self.legacy


def _row_problem(row, keys, keyed_seen, pinned):
    row_key_id = row.get("key_id") or ""
    if not row_key_id and keyed_seen:
        return (
            "an unkeyed row after keyed ones: the rows from here on were rewritten without the key"
        )
    try:
        expected = event_hash(row, keys)
    except UnknownKey:
        return (
            f"signed by key id {row_key_id}, which is none of IMGDASH_AUDIT_KEY's keys "
            "(a key dropped too early, or a forgery)"
        )
    if not hmac.compare_digest(expected, row["hash"]):
        return "hash does not match its content"
    for anchor in pinned:
        if anchor.hash != row["hash"]:
            return (
                f"hash differs from the one anchored at {anchor.anchored_at} "
                f"({anchor.hash[:16]}…): the row, or the rows before it, were replaced"
            )
    return ""


def verify(rows, expect_head="", keys=None, anchors=()):
    """Walk rows (dicts of CONTENT_FIELDS + id + hash, oldest first) and stop at the first break.

    `anchors` (anchors.Anchor) name rows that must be there with exactly that hash.
    """
    if keys is None:
        from imgdash.audit.keys import verifying_keys

        keys = verifying_keys()
    by_id = {}
    for anchor in anchors:
        by_id.setdefault(anchor.id, []).append(anchor)
    report = Report(0, GENESIS, None)
    previous_id, keyed_seen = None, False
    for position, row in enumerate(rows, start=1):
        report.checked = position
        if row["prev_hash"] != report.head:
            if previous_id is None:
                reason = "prev_hash is not the start of the chain (rows before it were removed)"
            else:
                reason = (
                    f"prev_hash does not match row {position - 1} (id {previous_id}): "
                    "a row was removed or inserted before it"
                )
            report.first_break = Break(position, row["id"], row["created_at"], reason)
            return report
        pinned = by_id.pop(row["id"], [])
        problem = _row_problem(row, keys, keyed_seen, pinned)
        if problem:
            report.first_break = Break(position, row["id"], row["created_at"], problem)
            return report
        if row.get("key_id"):
            keyed_seen = True
        else:
            report.legacy += 1
        report.anchors_matched += len(pinned)
        report.head, report.head_id, previous_id = row["hash"], row["id"], row["id"]
        report.found_head = report.found_head or row["hash"] == expect_head
    report.missing_anchors = sorted(
        (anchor for pinned in by_id.values() for anchor in pinned), key=lambda anchor: anchor.id
    )
    return report


def link(events, prev_hash=GENESIS):
    """Chain unsaved events in order (for bulk loads: benchmarks, imports); returns the head."""
    for event in events:
        event.prev_hash = prev_hash
        prev_hash = seal(event)
    return prev_hash
