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
