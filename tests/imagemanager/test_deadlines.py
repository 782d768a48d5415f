"""The wall-clock deadline of a call: over HTTP and HTTPS, for GETs and changes, and only
for the call it belongs to."""

import time

import pytest

from imgdash.emulator.server import EmulatorServer
from imgdash.imagemanager import (
    ConfigurationError,
    ImageManagerClient,
    OutcomeUnknown,
    ProtocolError,
    Unavailable,
)

NAME = "team-a/orders-api"
SLOW_BODY = '{"name": "team-a/orders-api", "tags": []}'  # 41 bytes: 4 s at 0.1 s a byte


def client_for(server, **settings):
    settings.setdefault("read_timeout", 30)
    settings.setdefault("call_deadline", 1)
    return ImageManagerClient(
        server.api_url, server.issue_id_token("admin"), ca_pem=server.ca_pem, **settings
    )


def test_a_dripped_answer_ends_at_the_deadline_not_the_read_timeout(emulator):
    emulator.faults.add(path=f"/{NAME}$", status=200, body=SLOW_BODY, drip=0.1)
    with client_for(emulator) as client, pytest.raises(Unavailable) as caught:
        client.get_repository(NAME)
    assert "took longer than 1 s while trying to read team-a/orders-api" in caught.value.message
    assert caught.value.status == 200


def test_a_dripped_answer_over_https_ends_at_the_deadline(tmp_path):
    with EmulatorServer(repos=5, tls=True, tls_dir=tmp_path, control=True) as server:
        server.faults.add(path="/repositories$", status=200, body=SLOW_BODY, drip=0.1)
        with client_for(server, list_deadline=1) as client, pytest.raises(Unavailable) as caught:
            client.list_repositories()
    assert "raise the list deadline (IMGDASH_LIST_DEADLINE)" in caught.value.message


def test_a_change_past_its_deadline_is_unknown(emulator):
    emulator.faults.add(method="DELETE", path=f"/{NAME}$", status=200, body="OK\n", drip=2)
    with client_for(emulator) as client, pytest.raises(OutcomeUnknown) as caught:
        client.delete_repository(NAME)
    assert "no complete answer came within 1 s" in caught.value.message
    assert [r.method for r in emulator.requests].count("DELETE") == 1


def test_a_deadline_that_passes_after_the_call_leaves_the_connection_alone(emulator):
    with client_for(emulator, call_deadline=0.3) as client:
        client.get_repository(NAME)
        time.sleep(0.5)  # the first call's deadline passes while its connection idles
        assert client.get_repository(NAME).name == NAME
    assert len(emulator.requests) == 2


def test_the_list_has_its_own_deadline(emulator):
    emulator.faults.add(path="/repositories$", status=200, body='{"repositories": []}', drip=0.1)
    with client_for(emulator, call_deadline=1, list_deadline=10) as client:
        assert client.list_repositories() == []


def test_the_list_refuses_more_entries_than_its_cap(emulator):
    with client_for(emulator, max_repositories=59) as client, pytest.raises(ProtocolError) as e:
        client.list_repositories()
    assert "more than 59 repositories (60)" in e.value.message
    with client_for(emulator, max_repositories=60) as client:
        assert len(client.list_repositories()) == 60


@pytest.mark.parametrize(
    "setting",
    [
        {"call_deadline": 0},
        {"list_deadline": -1},
        {"call_deadline": True},
        {"max_repositories": 0},
        {"max_repositories": 1.5},
    ],
)
def test_nonsense_deadlines_and_caps_are_refused(setting):
    with pytest.raises(ConfigurationError):
        ImageManagerClient("https://cluster.example:8443/image-manager/api/v1", **setting)


def test_calls_in_many_threads_each_end_at_their_own_deadline(emulator):
    # One watchdog serves every call of the process: a short deadline behind a long one
    # still ends on time, and a call that finished is never cut.
    from concurrent.futures import ThreadPoolExecutor

    emulator.faults.add(path=f"/{NAME}$", status=200, body=SLOW_BODY, drip=0.1)

    def call(deadline):
        with client_for(emulator, call_deadline=deadline) as client:
            try:
                client.get_repository(NAME)
            except Unavailable as error:
                return error.message
        return "answered"

    with ThreadPoolExecutor(4) as pool:
        long_one = pool.submit(call, 30)
        short_ones = [pool.submit(call, 0.5) for _ in range(3)]
        assert all("took longer than 0.5 s" in short.result(timeout=20) for short in short_ones)
        assert long_one.result(timeout=30) == "answered"  # 41 bytes at 0.1 s: about 4 s


def test_a_forked_worker_process_has_its_deadlines_kept_too(emulator):
    # gunicorn forks its workers after the parent may have made calls: threads do not survive
    # a fork, so the child must start its own watchdog.
    import multiprocessing

    with client_for(emulator) as client:
        client.get_repository(NAME)  # the parent's watchdog is running
    emulator.faults.add(path=f"/{NAME}$", status=200, body=SLOW_BODY, drip=0.1)
    results = multiprocessing.get_context("fork").Queue()

    def in_the_child():
        with client_for(emulator) as client:
            try:
                client.get_repository(NAME)
                results.put("answered")
            except Unavailable as error:
                results.put(error.message)

    child = multiprocessing.get_context("fork").Process(target=in_the_child)
    child.start()
    child.join(timeout=30)
    assert "took longer than 1 s" in results.get(timeout=1)
