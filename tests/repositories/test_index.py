import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.db import connection

from imgdash.imagemanager import SIZE_AT_LEAST, SIZE_EXACT, SIZE_UNKNOWN, Repository, Unavailable
from imgdash.repositories import index
from tests.conftest import fresh_process_env

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def user(make_user, connect):
    olga = make_user("olga", "Operator")
    connect(olga)
    return olga


def repository_index(user, cluster, refresh=False):
    """The list page's index, waiting for its fetch."""
    return index.list_index(user, cluster, refresh=refresh, wait=30).snapshot


def list_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith("/repositories")]


def fetch_together(user, cluster, emulator, count=4):
    results, errors = [], []

    def fetch():
        try:
            results.append(repository_index(user, cluster))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    return results


@pytest.mark.django_db(transaction=True)  # the threads' connections see the token
def test_requests_arriving_together_fetch_the_list_once(user, cluster, emulator):
    emulator.faults.add(method="GET", path=r"/repositories$", latency=0.5)
    results = fetch_together(user, cluster, emulator)
    assert len(list_calls(emulator)) == 1
    assert len(results) == 4
    assert all(len(r.entries) == len(emulator.repositories) for r in results)


@pytest.mark.django_db(transaction=True)  # the threads' connections see the token
def test_a_stale_index_is_refreshed_once_and_meanwhile_served(user, cluster, emulator, settings):
    settings.REPOSITORY_INDEX_TTL = 0
    fetch_together(user, cluster, emulator, count=1)
    emulator.faults.add(method="GET", path=r"/repositories$", latency=0.5)
    results = fetch_together(user, cluster, emulator)
    assert len(list_calls(emulator)) == 2  # the first fill, then one refresh for four requests
    assert all(r.entries for r in results)


def test_a_failed_refresh_keeps_the_last_good_copy_with_the_error(user, cluster, emulator):
    first = repository_index(user, cluster)
    emulator.faults.add(method="GET", path=r"/repositories$", status=503, body="down\n")
    again = repository_index(user, cluster, refresh=True)
    assert again.entries == first.entries
    assert isinstance(again.error, Unavailable)
    assert again.fetched_at == first.fetched_at


def test_without_a_copy_a_failed_fetch_raises(user, cluster, emulator):
    emulator.faults.add(method="GET", path=r"/repositories$", status=503, body="down\n")
    with pytest.raises(Unavailable):
        repository_index(user, cluster)


def test_the_users_own_changes_update_the_index_in_place(user, cluster, emulator):
    snapshot = repository_index(user, cluster)
    name = snapshot.entries[0].name
    index.change_scope(user, cluster, name, "global")
    index.forget_repository(user, cluster, snapshot.entries[1].name)
    after = repository_index(user, cluster)
    assert len(after.entries) == len(snapshot.entries) - 1
    assert after.entries[0].scope == "global"
    assert len(list_calls(emulator)) == 1


def mixed_repository(emulator, name="team-a/mixed"):
    """A repository whose tags are partly plain images (sized) and partly multi-arch lists."""
    sized = emulator.repositories.get("default/alpine")["tags"]
    listed = emulator.repositories.get("team-a/web/frontend")["tags"]
    tags = sized[:2] + [dict(tag, name=f"multi-{tag['name']}") for tag in listed[:1]]
    emulator.repositories.put({"name": name, "owner": "team-a", "scope": "global", "tags": tags})
    return name


def test_each_entry_says_whether_its_size_is_exact_a_lower_bound_or_unknown(
    user, cluster, emulator
):
    mixed = mixed_repository(emulator)
    repository_index(user, cluster)
    # The second answer comes from the cache, as every page after the first does.
    entries = {e.name: e for e in repository_index(user, cluster).entries}
    assert len(list_calls(emulator)) == 1
    alpine = Repository.from_api(emulator.repositories.get("default/alpine"))
    assert (entries["default/alpine"].size, entries["default/alpine"].size_state) == (
        alpine.size,
        SIZE_EXACT,
    )
    assert entries["default/alpine"].size > 0
    assert entries[mixed].size_state == SIZE_AT_LEAST
    assert 0 < entries[mixed].size <= alpine.size
    for name in ("team-a/web/frontend", "team-c/legacy/billing", "team-b/ml/scorer"):
        assert (entries[name].size, entries[name].size_state) == (0, SIZE_UNKNOWN)
    # No tags at all: nothing is stored, exactly.
    for name in ("team-a/scratch", "team-b/placeholder"):
        assert (entries[name].tag_count, entries[name].size_state) == (0, SIZE_EXACT)


def test_a_warm_read_does_not_decode_the_shared_copy_again(user, cluster, emulator, monkeypatch):
    first = repository_index(user, cluster)
    shared_key = index.index_key(user.pk, cluster.pk)
    read = []
    get = cache.get
    monkeypatch.setattr(cache, "get", lambda key, *a, **kw: read.append(key) or get(key, *a, **kw))
    again = repository_index(user, cluster)
    assert again.entries == first.entries
    assert shared_key not in read  # only its small version stamp was read
    # The same rows, not a copy per page: a tuple of tuples, which no page can change.
    assert isinstance(again.entries, tuple) and isinstance(again.entries[0], tuple)


def test_another_cache_client_changing_the_copy_is_seen_at_the_next_read(user, cluster, emulator):
    first = repository_index(user, cluster)
    gone, rescoped = first.entries[0].name, first.entries[1].name
    # What another process does: same shared cache, none of this process's copies.
    index.forget_local_copies()
    index.forget_repository(user, cluster, gone)
    index.change_scope(user, cluster, rescoped, "global")
    index.forget_local_copies()
    # Back in this process, with its own (now old) copy: the stamp moved, the copy is dropped.
    index._remember(
        index.index_key(user.pk, cluster.pk),
        "an older stamp",
        index.credential_tag(index.credential_for(user, cluster)),
        first.fetched_at,
        tuple(first.entries),
    )
    after = {entry.name: entry for entry in repository_index(user, cluster).entries}
    assert gone not in after
    assert after[rescoped].scope == "global"
    assert len(list_calls(emulator)) == 1


IN_ANOTHER_WORKER = """
import sys, types
import django
django.setup()
from imgdash.repositories import index

user_id, cluster_id, owner, what, name = sys.argv[1:6]
user, cluster = types.SimpleNamespace(pk=int(user_id)), types.SimpleNamespace(pk=int(cluster_id))
index._owner = lambda user, cluster, credential=None: owner  # no database in this process
if what == "delete":
    index.forget_repository(user, cluster, name)
else:
    index.drop_index(user, cluster)
"""


@pytest.mark.parametrize("what", ["delete", "drop"])
def test_a_change_in_another_process_drops_this_workers_copy(
    user, cluster, emulator, settings, tmp_path, what
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    caches["default"].clear()
    first = repository_index(user, cluster)
    assert repository_index(user, cluster).entries == first.entries  # this worker's copy
    gone = first.entries[0].name
    owner = index.credential_tag(index.credential_for(user, cluster))
    env = fresh_process_env(
        DJANGO_SETTINGS_MODULE="imgdash.settings",
        IMGDASH_DEMO="1",
        IMGDASH_DATA_DIR=str(tmp_path),  # its file cache is tmp_path/cache, as ours
        IMGDASH_SECRET_KEY=settings.SECRET_KEY,
    )
    worker = subprocess.run(
        [sys.executable, "-c", IN_ANOTHER_WORKER, str(user.pk), str(cluster.pk), owner, what, gone],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr
    after = repository_index(user, cluster)
    if what == "delete":
        assert [entry.name for entry in after.entries] == [e.name for e in first.entries[1:]]
        assert len(list_calls(emulator)) == 1
    else:
        assert after.fetched_at != first.fetched_at  # fetched anew, not this worker's copy
        assert len(list_calls(emulator)) == 2
