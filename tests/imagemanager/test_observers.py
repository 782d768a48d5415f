"""Call observers: what metrics and structured logs learn of each call, and nothing secret."""

import pytest

from imgdash.imagemanager import ImageManagerClient, ImageManagerError
from imgdash.imagemanager.transport import add_call_observer, remove_call_observer


@pytest.fixture
def records():
    seen = []
    add_call_observer(seen.append)
    yield seen
    remove_call_observer(seen.append)


def test_it_tells_observers_of_an_answered_call(emulator, records):
    with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as client:
        client.get_repository("default/alpine")
    (record,) = records
    assert (record.operation, record.method, record.status, record.outcome) == (
        "get repository",
        "GET",
        200,
        "ok",
    )
    assert record.seconds > 0
    assert record.attempts == 1


def test_it_tells_observers_of_a_refusal_and_a_failure(emulator, records):
    emulator.faults.add(method="GET", path=r"/repositories/default/", status=404, times=1)
    emulator.faults.add(method="GET", path=r"/repositories/default/", reset=True)
    token = emulator.issue_id_token("admin")
    with ImageManagerClient(emulator.api_url, token, get_retries=0) as client:
        for _ in range(2):
            with pytest.raises(ImageManagerError):
                client.get_repository("default/alpine")
    assert [(r.status, r.outcome) for r in records] == [(404, "refused"), (None, "Unavailable")]
    assert token not in repr(records)


def test_an_observer_that_fails_does_not_break_the_call(emulator, records):
    def broken(record):
        raise RuntimeError("metrics are down")

    add_call_observer(broken)
    try:
        with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as client:
            assert client.get_repository("default/alpine").name == "default/alpine"
    finally:
        remove_call_observer(broken)
    assert len(records) == 1
