"""The hash chain over the action log.

Each row stores the previous row's hash and its own hash: SHA-256 over a canonical JSON of its
content plus that previous hash. Editing a row breaks its own hash; removing or inserting one
breaks the link of the row after it. The input is built from exactly what the database gives
back (ISO time with microseconds, text, JSON with sorted keys), so it recomputes the same on
SQLite and PostgreSQL.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

GENESIS = "0" * 64

# Everything a row says, in the order it is hashed. The id is not part of it: ids are given by
# the database at insert time, and the chain's order is the ids' order.
CONTENT_FIELDS = (
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


def timestamp(when):
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value):
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def event_hash(fields):
    """The hash of one row from a mapping (or object attributes) of CONTENT_FIELDS."""
    get = fields.get if isinstance(fields, dict) else lambda name: getattr(fields, name)
    content = {name: get(name) for name in CONTENT_FIELDS}
    content["created_at"] = timestamp(content["created_at"])
    return hashlib.sha256(canonical(content).encode()).hexdigest()


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


def verify(rows, expect_head=""):
    """Walk rows (dicts of CONTENT_FIELDS + id + hash, oldest first) and stop at the first break."""
    previous_hash, previous_id, checked, found_head = GENESIS, None, 0, False
    for position, row in enumerate(rows, start=1):
        checked = position
        if row["prev_hash"] != previous_hash:
            if previous_id is None:
                reason = "prev_hash is not the start of the chain (rows before it were removed)"
            else:
                reason = (
                    f"prev_hash does not match row {position - 1} (id {previous_id}): "
                    "a row was removed or inserted before it"
                )
            return Report(
                checked,
                previous_hash,
                Break(position, row["id"], row["created_at"], reason),
                found_head,
            )
        if event_hash(row) != row["hash"]:
            return Report(
                checked,
                previous_hash,
                Break(position, row["id"], row["created_at"], "hash does not match its content"),
                found_head,
            )
        previous_hash, previous_id = row["hash"], row["id"]
        found_head = found_head or row["hash"] == expect_head
    return Report(checked, previous_hash, None, found_head)


def link(events, prev_hash=GENESIS):
    """Chain unsaved events in order (for bulk loads: benchmarks, imports); returns the head."""
    for event in events:
        event.prev_hash = prev_hash
        event.hash = prev_hash = event_hash(event)
    return prev_hash
