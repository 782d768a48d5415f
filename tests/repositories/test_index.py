import threading

import pytest

from imgdash.clusters.services import make_client
from imgdash.imagemanager import SIZE_AT_LEAST, SIZE_EXACT, SIZE_UNKNOWN, Repository, Unavailable
from imgdash.repositories import index

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user("olga", "Operator")


def list_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith("/repositories")]


def fetch_together(user, cluster, emulator, count=4):
    token = emulator.issue_id_token("admin")
    results, errors = [], []

    def fetch():
        try:
            with make_client(cluster, token) as client:
                results.append(index.repository_index(user, cluster, client))
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    return results


def test_requests_arriving_together_fetch_the_list_once(user, cluster, emulator):
    emulator.faults.add(method="GET", path=r"/repositories$", latency=0.5)
    results = fetch_together(user, cluster, emulator)
    assert len(list_calls(emulator)) == 1
    assert len(results) == 4
    assert all(len(r.entries) == len(emulator.repositories) for r in results)


def test_a_stale_index_is_refreshed_once_and_meanwhile_served(user, cluster, emulator, settings):
    settings.REPOSITORY_INDEX_TTL = 0
    fetch_together(user, cluster, emulator, count=1)
    emulator.faults.add(method="GET", path=r"/repositories$", latency=0.5)
    results = fetch_together(user, cluster, emulator)
    assert len(list_calls(emulator)) == 2  # the first fill, then one refresh for four requests
    assert all(r.entries for r in results)


def test_a_failed_refresh_keeps_the_last_good_copy_with_the_error(user, cluster, emulator):
    token = emulator.issue_id_token("admin")
    with make_client(cluster, token) as client:
        first = index.repository_index(user, cluster, client)
        emulator.faults.add(method="GET", path=r"/repositories$", status=503, body="down\n")
        again = index.repository_index(user, cluster, client, refresh=True)
    assert again.entries == first.entries
    assert isinstance(again.error, Unavailable)
    assert again.fetched_at == first.fetched_at


def test_without_a_copy_a_failed_fetch_raises(user, cluster, emulator):
    emulator.faults.add(method="GET", path=r"/repositories$", status=503, body="down\n")
    with (
        make_client(cluster, emulator.issue_id_token("admin")) as client,
        pytest.raises(Unavailable),
    ):
        index.repository_index(user, cluster, client)


def test_the_users_own_changes_update_the_index_in_place(user, cluster, emulator):
    with make_client(cluster, emulator.issue_id_token("admin")) as client:
        snapshot = index.repository_index(user, cluster, client)
        name = snapshot.entries[0].name
        index.change_scope(user, cluster, name, "global")
        index.forget_repository(user, cluster, snapshot.entries[1].name)
        after = index.repository_index(user, cluster, client)
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
    with make_client(cluster, emulator.issue_id_token("admin")) as client:
        index.repository_index(user, cluster, client)
        # The second answer comes from the cache, as every page after the first does.
        entries = {e.name: e for e in index.repository_index(user, cluster, client).entries}
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
