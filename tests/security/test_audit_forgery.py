"""The action log survives someone with write access to its database.

The attack that worked: with write access to the SQLite file, delete 50 rows, edit one, and
recompute the (public) plain SHA-256 chain over what is left: `verify_audit` said "intact".
"""

import hashlib
import json
from datetime import UTC
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imgdash.audit.log import record_event
from imgdash.audit.models import AuditEvent
from tests.audit.conftest import tamper_with_log

# The chain as it was published before it was keyed: what an attacker can recompute.
PLAIN_FIELDS = (
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


def plain_sha256(row):
    content = {name: row[name] for name in PLAIN_FIELDS}
    content["created_at"] = row["created_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def rewrite_plain_chain(*, drop_key_id):
    """Recompute every row's prev_hash and hash with plain SHA-256, oldest first."""
    has_key_id = any(field.name == "key_id" for field in AuditEvent._meta.fields)
    previous = "0" * 64
    for row in AuditEvent.objects.order_by("id").values("id", *PLAIN_FIELDS):
        row["prev_hash"] = previous
        previous = plain_sha256(row)
        if drop_key_id and has_key_id:
            tamper_with_log(
                "UPDATE {table} SET prev_hash = %s, hash = %s, key_id = '' WHERE id = %s",
                [row["prev_hash"], previous, row["id"]],
            )
        else:
            tamper_with_log(
                "UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s",
                [row["prev_hash"], previous, row["id"]],
            )


@pytest.mark.parametrize("drop_key_id", [False, True], ids=["as-is", "rows-made-unkeyed"])
def test_deleting_editing_and_rechaining_rows_is_caught(db, drop_key_id):
    events = [
        record_event(None, "repository.delete", target=f"team-a/app-{n}", message="Deleted")
        for n in range(120)
    ]
    tamper_with_log(
        "DELETE FROM {table} WHERE id >= %s AND id <= %s", [events[30].pk, events[79].pk]
    )
    tamper_with_log("UPDATE {table} SET target = 'team-a/harmless' WHERE id = %s", [events[100].pk])
    rewrite_plain_chain(drop_key_id=drop_key_id)
    assert AuditEvent.objects.count() == 70

    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=StringIO())
