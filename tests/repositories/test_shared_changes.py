"""A delete or scope change by one user shows at once in every other user's list of the same
cluster, though each user's index is their own copy, fetched with their own token."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.test import Client

from imgdash.repositories import index, shared_changes
from tests.conftest import fresh_process_env
from tests.repositories.test_list import names_on
from tests.repositories.test_write_views import base, confirmation_of, team_a_repository

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def teammate(make_user, connect):
    """Tom, a Viewer on his own browser, with his own token (the emulator admin's too)."""
    user = make_user("tom", "Viewer")
    connect(user, "admin")
    browser = Client()
    browser.force_login(user)
    return browser


def listed(browser, cluster, **params):
    response = browser.get(f"/clusters/{cluster.slug}/repositories/", {"per_page": 200, **params})
    assert response.status_code == 200
    return names_on(response)


def list_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith("/repositories")]


def test_a_delete_is_gone_from_a_teammates_list_at_once(
    client, operator, teammate, cluster, emulator
):
    name = team_a_repository(emulator)["name"]
    assert name in listed(teammate, cluster, q=name)
    assert name in listed(client, cluster, q=name)
    response = client.post(
        base(cluster, name) + "-/delete/",
        {"confirm": name, "confirmation": confirmation_of(client, cluster, name)},
    )
    assert response.status_code == 302
    assert name not in listed(teammate, cluster, q=name)
    assert name not in listed(teammate, cluster, sort="-size")  # remembered orders too
    assert len(list_calls(emulator)) == 2  # one list each: the teammate's was not fetched again


def test_a_scope_change_shows_in_a_teammates_list_at_once(
    client, operator, teammate, cluster, emulator
):
    name = team_a_repository(emulator, scope="namespace")["name"]
    assert name not in listed(teammate, cluster, q="scope:global")
    listed(client, cluster)
    client.post(base(cluster, name) + "-/scope/", {"scope": "global"})
    assert name in listed(teammate, cluster, q="scope:global")
    assert name not in listed(teammate, cluster, q="scope:namespace")


def test_a_change_made_in_another_worker_process_reaches_this_ones_copy(
    teammate, cluster, emulator, settings, tmp_path
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    caches["default"].clear()
    name = team_a_repository(emulator)["name"]
    assert name in listed(teammate, cluster, q=name)
    emulator.repositories.delete(name)  # what the other worker's delete did on the cluster
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, sys; django.setup()\n"
            "from imgdash.repositories import shared_changes\n"
            "shared_changes.note(int(sys.argv[1]), sys.argv[2])\n",
            str(cluster.pk),
            name,
        ],
        env=fresh_process_env(
            DJANGO_SETTINGS_MODULE="imgdash.settings",
            IMGDASH_DEMO="1",
            IMGDASH_DATA_DIR=str(tmp_path),  # its file cache is tmp_path/cache, as ours
            IMGDASH_SECRET_KEY=settings.SECRET_KEY,
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert name not in listed(teammate, cluster, q=name)


def test_a_list_fetched_after_the_change_is_left_as_the_cluster_shows_it(
    viewer, client, cluster, emulator
):
    # Deleted, then pushed again: the later list shows it, the older note must not hide it.
    repository = team_a_repository(emulator)
    name = repository["name"]
    shared_changes.note(cluster.pk, name)
    assert name in listed(client, cluster, q=name)


def test_changes_noted_at_once_from_many_threads_are_all_kept(cluster):
    names = [f"team-a/gone-{n}" for n in range(20)]
    threads = [
        threading.Thread(target=shared_changes.note, args=(cluster.pk, name)) for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seq, changes = cache.get(shared_changes.log_key(cluster.pk))
    assert sorted(change.name for change in changes) == sorted(names)
    assert seq == 20


def test_the_log_keeps_only_its_latest_changes(cluster, monkeypatch):
    monkeypatch.setattr(shared_changes, "LIMIT", 5)
    for n in range(12):
        shared_changes.note(cluster.pk, f"team-a/gone-{n}")
    seq, changes = cache.get(shared_changes.log_key(cluster.pk))
    assert seq == 12
    assert [change.name for change in changes] == [f"team-a/gone-{n}" for n in range(7, 12)]


def test_applying_a_change_twice_or_to_an_unlisted_name_changes_nothing():
    entries = tuple(
        index.Entry(n, "namespace", 1, 1, "", linkable=True, size_state="exact")
        for n in ("a/one", "a/two")
    )
    changes = (
        shared_changes.Change(1, 10.0, "a/one", None),
        shared_changes.Change(2, 11.0, "b/elsewhere", "global"),
    )
    once = shared_changes.apply(entries, changes, fetched_at=5.0, seen=0)
    assert [e.name for e in once] == ["a/two"]
    assert shared_changes.apply(once, changes, fetched_at=5.0, seen=0) is once
    assert shared_changes.apply(entries, changes, fetched_at=5.0, seen=2) is entries
