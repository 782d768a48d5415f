"""State persisted to a JSON file: survives a restart, and is never left half-written."""

import json
import os

import pytest

from imgdash.emulator.server import EmulatorServer
from imgdash.emulator.state import RepositoryStore, StateFileError
from tests.emulator import client


def admin(emulator):
    return {"Authorization": "Bearer " + emulator.issue_id_token("admin")}


def saved_names(path):
    return [r["name"] for r in json.loads(path.read_text())["repositories"]]


def test_a_new_state_file_is_seeded_and_written(tmp_path, start_emulator):
    state = tmp_path / "state.json"

    emulator = start_emulator(repos=12, seed=3, state_file=state)

    assert saved_names(state) == emulator.repositories.names()
    assert len(saved_names(state)) == 12


def test_changes_survive_a_restart(tmp_path, start_emulator):
    state = tmp_path / "state.json"
    first = start_emulator(repos=12, state_file=state)
    api = first.api_url + "/repositories/"
    assert client.put(api + "team-a/orders-api", json={"scope": "global"}, headers=admin(first)).ok
    assert client.delete(api + "default/alpine", headers=admin(first)).ok
    token = first.issue_id_token("viewer")
    first.stop()

    # Different seed and count: the file wins.
    second = start_emulator(repos=50, seed=99, state_file=state)

    assert len(second.repositories) == 11
    assert second.repositories.get("default/alpine") is None
    assert second.repositories.get("team-a/orders-api")["scope"] == "global"
    # The signing key is kept beside the state, so tokens outlive the restart.
    response = client.get(
        second.api_url + "/repositories", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_every_change_is_written_at_once(tmp_path, start_emulator):
    state = tmp_path / "state.json"
    emulator = start_emulator(repos=12, state_file=state)

    client.delete(emulator.api_url + "/repositories/team-b/payments", headers=admin(emulator))

    assert "team-b/payments" not in saved_names(state)


def test_reset_rewrites_the_loaded_state(tmp_path, start_emulator):
    state = tmp_path / "state.json"
    emulator = start_emulator(repos=12, state_file=state)
    client.delete(emulator.api_url + "/repositories/team-b/payments", headers=admin(emulator))

    emulator.reset()

    assert "team-b/payments" in saved_names(state)


def test_the_state_file_holds_the_api_shape(tmp_path):
    state = tmp_path / "state.json"
    store = RepositoryStore(
        [{"name": "team-a/x", "owner": "team-a", "scope": "global", "tags": None}], state
    )
    store.save()

    assert json.loads(state.read_text()) == {
        "repositories": [{"name": "team-a/x", "owner": "team-a", "scope": "global", "tags": None}]
    }


def test_a_failed_write_leaves_the_old_file_whole_and_no_debris(tmp_path, monkeypatch):
    state = tmp_path / "state.json"
    store = RepositoryStore(
        [{"name": f"default/app{i}", "scope": "global", "tags": []} for i in range(3)], state
    )
    store.save()
    before = state.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    # A crash after the new content is written but before it replaces the old file.
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.delete("default/app1")

    assert state.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.json"]
    # The refused change did not happen in memory either.
    assert store.get("default/app1") is not None
    assert b"default/app1" in store.list_body()


def test_a_crash_mid_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    state = tmp_path / "state.json"
    store = RepositoryStore([{"name": "default/app", "scope": "global", "tags": []}], state)
    store.save()
    before = state.read_bytes()

    def crash(fd):
        raise KeyboardInterrupt  # the process is killed while syncing the new file

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        store.set_scope("default/app", "namespace")

    assert state.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.json"]
    assert store.get("default/app")["scope"] == "global"


def test_a_corrupt_state_file_is_refused_and_left_alone(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"repositories": [{"name": "default/alp')

    with pytest.raises(StateFileError, match=r"state\.json"):
        EmulatorServer(state_file=state)

    assert state.read_text() == '{"repositories": [{"name": "default/alp'


def test_without_a_state_file_nothing_is_written(tmp_path, monkeypatch, start_emulator):
    monkeypatch.chdir(tmp_path)
    emulator = start_emulator(repos=12)

    client.delete(emulator.api_url + "/repositories/default/alpine", headers=admin(emulator))

    assert os.listdir(tmp_path) == []
