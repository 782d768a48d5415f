"""A bulk delete never outruns the server's timeout: the request only queues a job.

150 deletes in one request outran gunicorn's 30 s: the user got a 500 and no results, 37 were
never sent and the confirmation was used up. A time budget per request (IMGDASH_BULK_DELETE_BUDGET)
then stopped early and offered "continue with the rest". Now confirming queues one job and
answers at once, however slow the cluster; the worker does the deletes (tests/jobs/). The old
setting is still accepted, so an environment that sets it keeps starting.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from imgdash.audit.models import AuditEvent
from imgdash.jobs.models import Job
from tests.conftest import fresh_process_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def operator(client, make_user, connect):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client.force_login(user)
    return user


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


def test_the_old_budget_setting_is_still_accepted():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('ok')"],
        cwd=ROOT,
        env=fresh_process_env(
            IMGDASH_TESTING="1",
            IMGDASH_BULK_DELETE_BUDGET="20",
            DJANGO_SETTINGS_MODULE="imgdash.settings",
            PATH=os.environ.get("PATH", ""),
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
