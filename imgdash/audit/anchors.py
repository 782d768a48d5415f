"""Anchors: the head of the action log written outside the database.

Every IMGDASH_AUDIT_ANCHOR_ROWS rows, or on the first row written IMGDASH_AUDIT_ANCHOR_MINUTES
after the last anchor (and on the first row ever), the new row's id, hash and time go to an
append-only sink (IMGDASH_AUDIT_ANCHOR): a file, syslog, or stdout for a log collector. A row
that an anchor names must be there with that hash, so someone with write access to the
database cannot remove, replace or rewrite anything up to the newest anchor, nor empty the
log, without `verify_audit` noticing, even with the key.

Each anchor is one line, whatever the sink adds around it (a syslog or collector prefix):

    imgdash-audit-anchor {"id":1234,"hash":"…","time":"2026-01-02T03:04:05.000000Z",
    "anchored_at":"2026-01-02T03:04:05.000100Z"}     (on one line)

The database keeps a note of the anchors written (AuditAnchor) only to decide when the next one
is due; `verify_audit` never trusts it.
"""

import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from imgdash.audit.chain import timestamp

logger = logging.getLogger("imgdash.audit")

MARKER = "imgdash-audit-anchor "


@dataclass(frozen=True)
class Anchor:
    id: int
    hash: str
    time: str
    anchored_at: str
    source: str = ""


class AnchorFileError(Exception):
    """An anchor file that cannot be read, or holds a line that is not an anchor."""


def sink():
    """('file', Path) | ('syslog', None) | ('stdout', None) | ('none', None)."""
    value = settings.AUDIT_ANCHOR
    if value.startswith("file:"):
        return "file", Path(value[len("file:") :].strip())
    return value, None


def anchor_line(event_id, event_hash, created_at, anchored_at):
    record = {
        "id": event_id,
        "hash": event_hash,
        "time": timestamp(created_at),
        "anchored_at": timestamp(anchored_at),
    }
    return MARKER + json.dumps(record, separators=(",", ":"))


def _append_to_file(path, line):
    """One write of one line to a file opened for appending only, made 0600, synced."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write(line):
    """Send one anchor line to the configured sink; False (and an error logged) if it failed."""
    kind, path = sink()
    try:
        if kind == "file":
            _append_to_file(path, line)
        elif kind == "syslog":
            import syslog

            syslog.openlog("imgdash", syslog.LOG_PID, syslog.LOG_AUTH)
            syslog.syslog(syslog.LOG_NOTICE, line)
        elif kind == "stdout":
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    except OSError as error:
        logger.error(
            "Could not write the action log's anchor to %s: %s", settings.AUDIT_ANCHOR, error
        )
        return False
    return True


def _due(previous, event, now):
    if previous is None:
        return True
    anchored_id, anchored_at = previous
    if anchored_id >= event.pk or anchored_at > now:
        return True  # a note from the future: not to be trusted to hold anchors back
    if now - anchored_at >= timedelta(minutes=settings.AUDIT_ANCHOR_MINUTES):
        return True
    # Rows are numbered in chain order under its lock; a rolled-back insert leaves a gap in the
    # ids, which only brings the next anchor forward, never later than N rows.
    return event.pk - anchored_id >= settings.AUDIT_ANCHOR_ROWS


def anchor_if_due(event):
    """Called under the chain's lock right after `event` was inserted: anchor it if due.

    The anchor is sent when the transaction commits: an anchor of a row that was rolled back
    would name a row that never was.
    """
    from imgdash.audit.models import AuditAnchor

    if sink()[0] == "none":
        return
    now = datetime.now(UTC)
    previous = AuditAnchor.objects.order_by("-id").values_list("event_id", "created_at").first()
    if not _due(previous, event, now):
        return
    anchor(event.pk, event.hash, event.created_at, now)


def anchor(event_id, event_hash, created_at, now=None):
    """Note an anchor of this row and send it when the transaction commits."""
    from imgdash.audit.models import AuditAnchor

    now = now or datetime.now(UTC)
    AuditAnchor.objects.create(event_id=event_id, hash=event_hash, created_at=now)
    line = anchor_line(event_id, event_hash, created_at, now)
    transaction.on_commit(lambda: write(line))


def parse(lines, source=""):
    """The anchors in `lines` (anything before the marker on a line is ignored)."""
    found = []
    for number, line in enumerate(lines, start=1):
        start = line.find(MARKER)
        if start < 0:
            continue
        try:
            record = json.loads(line[start + len(MARKER) :])
            found.append(
                Anchor(
                    id=int(record["id"]),
                    hash=str(record["hash"]),
                    time=str(record["time"]),
                    anchored_at=str(record.get("anchored_at", "")),
                    source=f"{source}:{number}",
                )
            )
        except (ValueError, KeyError, TypeError):
            raise AnchorFileError(
                f"{source}, line {number}: not a readable anchor ({line.strip()[:120]!r})"
            ) from None
    return found


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            return parse(lines, str(path))
    except OSError as error:
        raise AnchorFileError(f"Cannot read the anchors in {path}: {error.strerror}") from None
