"""A cluster that answers slowly, or endlessly, cannot hold a page: every call has a deadline.

The read timeout only bounds each read of the socket: a body dripped one byte at a time never
trips it. Each call now also has a wall-clock deadline, short for small calls and long only
for the repository list. The drips below would take several times the deadline to finish;
the tests check that imgdash gave up and said so (and, for a change, that the outcome is
unknown and the change was sent once).
"""

import orjson
import pytest
from django.core.cache import cache

from imgdash.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NAME = "team-a/orders-api"


@pytest.fixture
def deadlines(settings):
    """Short deadlines, and a read timeout long enough never to be what ends a call."""
    settings.IMAGEMANAGER_READ_TIMEOUT = 30
    settings.IMAGEMANAGER_CALL_DEADLINE = 1
    settings.IMAGEMANAGER_LIST_DEADLINE = 3
    return settings


def repository_body(emulator, name):
    return orjson.dumps(emulator.repositories.get(name)).decode()


def writes(emulator, method):
    return [r for r in emulator.requests if r.method == method]


def test_it_gives_up_on_a_dripped_detail_page_at_the_call_deadline(
    client, operator, cluster, emulator, deadlines
):
    body = repository_body(emulator, NAME)[:60]  # 60 bytes: 6 s at 0.1 s a byte
    emulator.faults.add(path=f"/repositories/{NAME}$", status=200, body=body, drip=0.1)

    response = client.get(f"/clusters/{cluster.slug}/repositories/{NAME}/")

    assert response.status_code == 502
    assert b"The cluster&#x27;s answer took longer than 1 s" in response.content
    assert emulator.wait_idle(timeout=10)


def test_it_gives_up_on_a_silent_cluster_at_the_call_deadline(
    client, operator, cluster, emulator, deadlines
):
    emulator.faults.add(path=f"/repositories/{NAME}$", latency=6)

    response = client.get(f"/clusters/{cluster.slug}/repositories/{NAME}/")

    assert response.status_code == 502
    assert b"took longer than 1 s" in response.content


def test_the_list_gets_the_long_deadline_and_no_more(
    client, operator, cluster, emulator, deadlines
):
    # 20 bytes at 0.1 s: longer than a small call may take, well within the list's 3 s.
    emulator.faults.add(path="/repositories$", status=200, body='{"repositories": []}', drip=0.1)
    assert client.get(f"/clusters/{cluster.slug}/repositories/").status_code == 200

    # 60 bytes at 0.1 s: past the list's deadline (asked afresh: no older copy to show).
    cache.clear()
    emulator.faults.clear()
    body = '{"repositories": [' + " " * 40 + "]}"
    emulator.faults.add(path="/repositories$", status=200, body=body, drip=0.1)
    response = client.get(f"/clusters/{cluster.slug}/repositories/")
    assert response.status_code == 502
    assert b"took longer than 3 s" in response.content


def test_a_scope_change_past_its_deadline_is_unknown_and_sent_once(
    client, operator, cluster, emulator, deadlines
):
    emulator.faults.add(method="PUT", path="/repositories/", status=200, body="OK\n", drip=2)
    response = client.post(
        f"/clusters/{cluster.slug}/repositories/{NAME}/-/scope/", {"scope": "global"}
    )

    assert response.status_code == 504
    assert b"Outcome unknown" in response.content
    assert len(writes(emulator, "PUT")) == 1
    event = AuditEvent.objects.filter(action="repository.scope").latest("pk")
    assert event.outcome == "unknown"


def test_the_list_refuses_more_repositories_than_the_cap(client, operator, cluster, settings):
    settings.IMAGEMANAGER_MAX_REPOSITORIES = 10  # the emulator lists 60

    response = client.get(f"/clusters/{cluster.slug}/repositories/")

    assert response.status_code == 502
    assert b"listed more than 10 repositories" in response.content
    assert b"IMGDASH_MAX_REPOSITORIES" in response.content
