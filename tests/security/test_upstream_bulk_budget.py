"""A bulk delete never outruns the server's timeout: the request only queues a job.

150 deletes in one request outran gunicorn's 30 s: the user got a 500 and no results, 37 were
never sent and the confirmation was used up. Now confirming queues one job and answers at
once, however slow the cluster; the worker does the deletes (tests/jobs/).
"""

import re
from pathlib import Path

import pytest

from imgdash.audit.models import AuditEvent
from imgdash.jobs.models import Job

ROOT = Path(__file__).resolve().parents[2]


def bulk_url(cluster):
    return f"/clusters/{cluster.slug}/repositories/-/bulk-delete/"


def confirmation_of(html):
    return re.search(r'name="confirmation" value="([^"]+)"', html).group(1)


@pytest.mark.django_db
def test_confirming_a_bulk_delete_on_a_slow_cluster_answers_without_sending(
    client, operator, cluster, emulator
):
    names = [r["name"] for r in emulator.repositories.all() if r["owner"] == "team-a"][:5]
    emulator.faults.add(method="DELETE", path="/repositories/", latency=30)
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()

    done = client.post(
        bulk_url(cluster),
        {"repository": names, "confirm_count": "5", "confirmation": confirmation_of(html)},
    )

    assert done.status_code == 302
    assert not [r for r in emulator.requests if r.method == "DELETE"]
    job = Job.objects.get()
    assert job.items.count() == 5 and job.state == "queued"
    assert not AuditEvent.objects.filter(action="repository.bulk_delete").exists()
