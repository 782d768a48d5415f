#!/usr/bin/env python
"""Benchmark: the action-log export streams, so its memory stays flat as the log grows.

Loads 20,000 and then 200,000 chained rows into a throw-away SQLite file, exports each as CSV
and JSON Lines through the real view (Django's test client, consuming `streaming_content`),
and prints rows, seconds, peak memory traced by tracemalloc, RSS growth during the export,
and the ratio of the peak at 200,000 rows to the peak at 20,000 (flat is about 1). Timings
come from a second, untraced pass, since tracemalloc slows Python down. Also times
`verify_audit` over the whole chain. Figures only: nothing here passes or fails.

    .venv/bin/python benchmarks/audit_export.py [--rows 200000] [--small 20000]
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="imgdash-audit-bench-"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ["IMGDASH_DATA_DIR"] = str(WORK)
os.environ["IMGDASH_TESTING"] = "1"  # throw-away keys and hosts; DEBUG stays off
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgdash.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from imgdash.audit.chain import GENESIS, link  # noqa: E402
from imgdash.audit.models import AuditEvent  # noqa: E402

BATCH = 5000
ACTIONS = [
    ("repository.delete", "ok", 200),
    ("repository.scope", "ok", 200),
    ("repository.delete", "refused", 403),
    ("docker_token.issue", "ok", 200),
    ("auth.sign_in", "ok", None),
    ("credential.connect", "ok", None),
    ("repository.bulk_delete", "unknown", None),
    ("access.denied", "denied", None),
]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def load_rows(count, start_at, head, rng):
    """Append `count` realistic, correctly chained rows; returns the new head hash."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for offset in range(0, count, BATCH):
        batch = []
        for n in range(start_at + offset, start_at + min(offset + BATCH, count)):
            action, outcome, status = ACTIONS[n % len(ACTIONS)]
            batch.append(
                AuditEvent(
                    created_at=start + timedelta(seconds=n * 7, microseconds=n % 1_000_000),
                    actor_username=f"user{n % 40}",
                    cluster_name="Production",
                    action=action,
                    outcome=outcome,
                    status=status,
                    target=f"team-{n % 25}/service-{rng.randrange(5000)}",
                    message="Deleted 12 tags (1.4 GB)"
                    if outcome == "ok"
                    else "The cluster said no",
                    details={
                        "tags": rng.randrange(1, 60),
                        "size": rng.randrange(10**6, 10**10),
                        "before": "namespace",
                        "after": "global",
                    },
                    ip=f"10.{n % 250}.{n % 200}.{n % 100}",
                    user_agent="Mozilla/5.0 (X11; Linux)",
                    request_id=f"{n:032x}",
                )
            )
        head = link(batch, prev_hash=head)
        AuditEvent.objects.bulk_create(batch)
    return head


def export(client, export_format, traced):
    """(seconds, bytes, rows, peak traced bytes, RSS growth bytes) of one streamed export."""
    if traced:
        tracemalloc.start()
        tracemalloc.reset_peak()
    rss_before = rss_peak = rss_bytes()
    began = time.perf_counter()
    response = client.get("/audit/", {"format": export_format})
    assert response.streaming, "the export must be a StreamingHttpResponse"
    size = lines = 0
    for number, chunk in enumerate(response.streaming_content):
        size += len(chunk)
        lines += chunk.count(b"\n")
        if number % 20 == 0:
            rss_peak = max(rss_peak, rss_bytes())
    response.close()
    seconds = time.perf_counter() - began
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rows = lines - 1 if export_format == "csv" else lines
    return seconds, size, rows, peak, max(rss_peak, rss_bytes()) - rss_before


def measure(client, label):
    results = {}
    for export_format in ("csv", "jsonl"):
        seconds, size, rows, _, _ = export(client, export_format, traced=False)
        _, _, _, peak, rss_growth = export(client, export_format, traced=True)
        results[export_format] = peak
        print(
            f"{label:>8} rows  {export_format:<5}  {rows:>8} rows exported  {seconds:6.2f} s  "
            f"{size / 2**20:7.1f} MB out  peak traced {peak / 2**20:6.2f} MB  "
            f"RSS growth {rss_growth / 2**20:6.2f} MB",
            flush=True,
        )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=20_000)
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    admin = get_user_model().objects.create_superuser("bench", "bench@example.com", None)
    client = Client()
    client.force_login(admin)  # records one sign-in row through record_event
    rng = random.Random(7)
    head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS

    began = time.perf_counter()
    head = load_rows(options.small, 0, head, rng)
    print(f"loaded {options.small} rows in {time.perf_counter() - began:.1f} s", flush=True)
    small = measure(client, f"{options.small}")

    began = time.perf_counter()
    load_rows(options.rows - options.small, options.small, head, rng)
    print(f"loaded up to {options.rows} rows in {time.perf_counter() - began:.1f} s", flush=True)
    large = measure(client, f"{options.rows}")

    for export_format in ("csv", "jsonl"):
        ratio = large[export_format] / small[export_format]
        print(
            f"peak memory ratio {options.rows} vs {options.small} rows, {export_format}: "
            f"{ratio:.2f} (flat is about 1; loading everything would be about "
            f"{options.rows / options.small:.0f})"
        )

    out = StringIO()
    began = time.perf_counter()
    call_command("verify_audit", stdout=out)
    print(f"verify_audit: {out.getvalue().splitlines()[0]} ({time.perf_counter() - began:.1f} s)")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
