"""The cached repository list belongs to one cluster credential and goes with it: a refusal
(401/403), connecting, disconnecting or a stale token drop it, and a user who reconnects as
another cluster user sees only that user's repositories at once."""

import re

import pytest

pytestmark = pytest.mark.django_db


def names_on(response):
    html = response.content.decode()
    rows = re.findall(r'<td class="repo-name">(.*?)</td>', html, re.S)
    return {re.sub(r"<[^>]+>|\s+invalid name", "", row).strip() for row in rows}


def list_url(cluster, **params):
    from urllib.parse import urlencode

    base = f"/clusters/{cluster.slug}/repositories/"
    return f"{base}?{urlencode({'per_page': 200, **params})}"


@pytest.fixture
def viewer(client, make_user):
    user = make_user("vera", "Viewer")
    client.force_login(user)
    return user


def connect_as(client, cluster, emulator, cluster_user):
    response = client.post(
        f"/clusters/{cluster.slug}/connect/", {"token": emulator.issue_id_token(cluster_user)}
    )
    assert response.status_code == 302, response.content[:500]


def visible_to(emulator, cluster_user):
    from imgdash.emulator.users import can_see

    user = emulator.users[cluster_user]
    store = emulator.repositories
    return {name for name in store.names() if can_see(user, store.record(name))}


def test_a_403_on_the_list_shows_no_stale_repositories(client, viewer, cluster, emulator):
    connect_as(client, cluster, emulator, "admin")
    assert names_on(client.get(list_url(cluster)))  # the index is filled
    emulator.faults.add(method="GET", path=r"/repositories$", status=403, body="Forbidden\n")

    refused = client.get(list_url(cluster, refresh="1"))
    assert refused.status_code == 403
    assert names_on(refused) == set()
    assert b"Could not update the list" not in refused.content

    emulator.faults.clear()
    emulator.faults.add(method="GET", path=r"/repositories$", status=503, body="down\n")
    # The refused copy is gone: an outage afterwards has nothing old to fall back on.
    after = client.get(list_url(cluster))
    assert names_on(after) == set()


def test_connecting_as_another_cluster_user_shows_only_that_users_repositories(
    client, viewer, cluster, emulator
):
    connect_as(client, cluster, emulator, "admin")
    assert names_on(client.get(list_url(cluster))) == visible_to(emulator, "admin")

    connect_as(client, cluster, emulator, "viewer")
    shown = names_on(client.get(list_url(cluster)))
    assert shown == visible_to(emulator, "viewer")
    assert shown != visible_to(emulator, "admin")


def test_a_new_credential_saved_behind_the_views_back_is_not_served_old_data(
    client, viewer, cluster, emulator, connect
):
    connect(viewer, "admin")
    assert names_on(client.get(list_url(cluster))) == visible_to(emulator, "admin")
    connect(viewer, "viewer")  # e.g. `manage.py demo` or another worker storing a token
    assert names_on(client.get(list_url(cluster))) == visible_to(emulator, "viewer")


def test_disconnecting_drops_the_cached_list(client, viewer, cluster, emulator):
    from imgdash.repositories import index

    connect_as(client, cluster, emulator, "admin")
    client.get(list_url(cluster))
    assert index._stored(viewer, cluster) is not None
    client.post(f"/clusters/{cluster.slug}/disconnect/")
    assert index._stored(viewer, cluster) is None


def test_a_401_drops_the_cached_list(client, viewer, cluster, emulator):
    from imgdash.repositories import index

    connect_as(client, cluster, emulator, "admin")
    client.get(list_url(cluster))
    emulator.faults.add(method="GET", path=r"/repositories$", status=401, body="no\n")
    response = client.get(list_url(cluster, refresh="1"))
    assert response.status_code == 302  # to reconnect
    assert index._stored(viewer, cluster) is None
