"""Streamed exports of the action log: CSV and JSON Lines, a chunk of rows at a time.

Each chunk is its own short query, keyed on the id (newest first: `id < last id seen`), read
whole before a line is sent. No cursor stays open while the client reads, so a client that
stops reading holds no lock and no snapshot: on SQLite an open cursor kept every writer out.
"""

import csv
import json
from datetime import UTC, datetime

from django.http import StreamingHttpResponse

from imgdash.audit.actions import action_label
from imgdash.audit.chain import timestamp

# Each export column and the stored field it shows, in the order they are written.
_COLUMN_FIELDS = (
    ("id", "id"),
    ("time", "created_at"),
    ("actor", "actor_username"),
    ("actor_id", "actor_id"),
    ("cluster", "cluster_name"),
    ("cluster_id", "cluster_id"),
    ("action", "action"),
    ("action_label", "action"),
    ("target", "target"),
    ("outcome", "outcome"),
    ("status", "status"),
    ("message", "message"),
    ("details", "details"),
    ("intent_id", "intent_id"),
    ("ip", "ip"),
    ("user_agent", "user_agent"),
    ("request_id", "request_id"),
    ("prev_hash", "prev_hash"),
    ("hash", "hash"),
)
COLUMNS = tuple(column for column, _ in _COLUMN_FIELDS)
FIELDS = tuple(dict.fromkeys(field for _, field in _COLUMN_FIELDS))
CHUNK_ROWS = 2000
LINES_PER_WRITE = 500
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _record(row):
    record = {column: row[field] for column, field in _COLUMN_FIELDS}
    record["time"] = timestamp(row["created_at"])
    record["action_label"] = action_label(row["action"])
    return record


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Line:
    """csv.writer writes into this and gets the line back."""

    def write(self, text):
        return text


def _batched(lines):
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) >= LINES_PER_WRITE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_lines(rows):
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for row in rows:
        record = _record(row)
        yield writer.writerow([safe_cell(record[column]) for column in COLUMNS])


def jsonl_lines(rows):
    for row in rows:
        yield json.dumps(_record(row), ensure_ascii=False, separators=(",", ":")) + "\n"


FORMATS = {
    "csv": ("text/csv; charset=utf-8", csv_lines),
    "jsonl": ("application/x-ndjson; charset=utf-8", jsonl_lines),
}


def keyset_rows(events, chunk_rows=None):
    """The rows of `events` newest first, as dicts of FIELDS, one short query per chunk."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    last_id = None
    while True:
        chunk = events if last_id is None else events.filter(id__lt=last_id)
        rows = list(chunk.order_by("-id").values(*FIELDS)[:chunk_rows])
        yield from rows
        if len(rows) < chunk_rows:
            return
        last_id = rows[-1]["id"]


def export_response(events, export_format):
    """A download of `events` (a filtered queryset), never holding more than a chunk in memory."""
    content_type, lines = FORMATS[export_format]
    rows = keyset_rows(events)
    response = StreamingHttpResponse(_batched(lines(rows)), content_type=content_type)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (
        f'attachment; filename="imgdash-audit-{stamp}.{export_format}"'
    )
    return response
