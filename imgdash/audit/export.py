"""Streamed exports of the action log: CSV and JSON Lines, a chunk of rows at a time."""

import csv
import json
from datetime import UTC, datetime

from django.http import StreamingHttpResponse

from imgdash.audit.actions import action_label
from imgdash.audit.chain import timestamp

COLUMNS = (
    "id",
    "time",
    "actor",
    "actor_id",
    "cluster",
    "cluster_id",
    "action",
    "action_label",
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
    "hash",
)
FIELDS = (
    "id",
    "created_at",
    "actor_username",
    "actor_id",
    "cluster_name",
    "cluster_id",
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
    "hash",
)
CHUNK_ROWS = 2000
LINES_PER_WRITE = 500
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _record(row):
    return {
        "id": row["id"],
        "time": timestamp(row["created_at"]),
        "actor": row["actor_username"],
        "actor_id": row["actor_id"],
        "cluster": row["cluster_name"],
        "cluster_id": row["cluster_id"],
        "action": row["action"],
        "action_label": action_label(row["action"]),
        "target": row["target"],
        "outcome": row["outcome"],
        "status": row["status"],
        "message": row["message"],
        "details": row["details"],
        "intent_id": row["intent_id"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "request_id": row["request_id"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


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


def export_response(events, export_format):
    """A download of `events` (a filtered queryset), never holding more than a chunk in memory."""
    content_type, lines = FORMATS[export_format]
    rows = events.order_by("-id").values(*FIELDS).iterator(chunk_size=CHUNK_ROWS)
    response = StreamingHttpResponse(_batched(lines(rows)), content_type=content_type)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (
        f'attachment; filename="imgdash-audit-{stamp}.{export_format}"'
    )
    return response
