"""The sort orders and search results a worker keeps beside its decoded copy of the index:
reused while the copy stands, never after any change of it (here or in another process)."""

import re

import pytest
from django.urls import reverse

from imgdash.repositories import index, search
from tests.repositories.test_list import names_on, url

pytestmark = pytest.mark.django_db


def listed(client, cluster, **params):
    response = client.get(url(cluster, per_page=200, **params))
    assert response.status_code == 200
    return names_on(response)


def a_namespace_scoped_name(emulator):
    return next(r["name"] for r in emulator.repositories.all() if r["scope"] == "namespace")


def test_paging_through_a_search_searches_and_sorts_once(
    client, viewer, cluster, emulator, monkeypatch
):
    searched, sorted_ = [], []
    real_search, real_sort = search.search, search.sort_entries
    monkeypatch.setattr(search, "search", lambda *a: searched.append(a) or real_search(*a))
    monkeypatch.setattr(search, "sort_entries", lambda *a: sorted_.append(a) or real_sort(*a))
    first = client.get(url(cluster, q="a", sort="-size", per_page=25))
    second = client.get(url(cluster, q="a", sort="-size", per_page=25, page=2))
    again = client.get(url(cluster, q="a", sort="-size", per_page=25))
    assert len(searched) == 1 and len(sorted_) == 1
    assert names_on(first) == names_on(again)
    assert set(names_on(first)).isdisjoint(names_on(second))


def test_a_delete_is_gone_from_remembered_searches_and_orders(client, viewer, cluster, emulator):
    name = a_namespace_scoped_name(emulator)
    assert name in listed(client, cluster, q=name)
    assert name in listed(client, cluster, sort="-size")
    index.forget_repository(viewer, cluster, name)  # what a delete does once the cluster agreed
    assert name not in listed(client, cluster, q=name)
    assert name not in listed(client, cluster, sort="-size")


def test_a_scope_change_shows_in_a_remembered_scope_filter(client, viewer, cluster, emulator):
    name = a_namespace_scoped_name(emulator)
    assert name not in listed(client, cluster, q="scope:global")
    index.change_scope(viewer, cluster, name, "global")
    assert name in listed(client, cluster, q="scope:global")
    assert name not in listed(client, cluster, q="scope:namespace")


def test_a_refresh_shows_a_new_repository_in_a_remembered_search(client, viewer, cluster, emulator):
    assert listed(client, cluster, q="brand-new") == []
    emulator.repositories.put(
        {"name": "team-a/brand-new", "owner": "team-a", "scope": "global", "tags": None}
    )
    assert listed(client, cluster, q="brand-new") == []  # the copy is still fresh
    client.get(url(cluster, refresh="1"))
    assert listed(client, cluster, q="brand-new") == ["team-a/brand-new"]


def test_a_change_made_in_another_process_is_not_answered_from_this_ones_results(
    client, viewer, cluster, emulator
):
    gone, rescoped = [r["name"] for r in emulator.repositories.all() if r["scope"] == "namespace"][
        :2
    ]
    assert gone in listed(client, cluster, q=gone)
    assert rescoped not in listed(client, cluster, q="scope:global")
    key = index.index_key(viewer.pk, cluster.pk)
    ours = index._local[key]  # this process's copy, its search results remembered
    # Another process (same shared cache, none of this process's copies) changes the index.
    index.forget_local_copies()
    index.forget_repository(viewer, cluster, gone)
    index.change_scope(viewer, cluster, rescoped, "global")
    index.forget_local_copies()
    index._local[key] = ours
    assert gone not in listed(client, cluster, q=gone)
    assert rescoped in listed(client, cluster, q="scope:global")


def test_the_rows_link_where_reverse_would(client, make_user, connect, cluster, emulator):
    olga = make_user("olga", "Operator")
    connect(olga, "admin")
    client.force_login(olga)
    html = client.get(url(cluster, per_page=200)).content.decode()
    for name in {r["name"] for r in emulator.repositories.all()}:
        if index.is_valid_repository_name(name):
            for view in ("detail", "scope", "delete"):
                assert f'href="{reverse(f"repositories:{view}", args=[cluster.slug, name])}' in html


def test_the_lists_scope_badge_is_the_one_the_scope_editor_swaps_in(
    client, make_user, connect, cluster, emulator
):
    olga = make_user("olga", "Operator")
    connect(olga, "admin")
    client.force_login(olga)
    name = a_namespace_scoped_name(emulator)
    list_url = url(cluster, q=name)
    html = client.get(list_url).content.decode()
    scope_url = reverse("repositories:scope", args=[cluster.slug, name])
    alone = client.get(
        scope_url, {"show": "badge", "next": list_url}, headers={"HX-Request": "true"}
    ).content.decode()
    badge = re.search(r'<span class="scope-cell">.*?change</a></span>', alone, re.S)[0]
    # The editor's badge takes the focus after a cancel; otherwise the two are the same.
    assert badge.replace(" data-scope-focus", "") in html


def test_the_storage_totals_are_summed_once_per_copy_and_follow_a_delete(
    client, viewer, cluster, emulator, monkeypatch
):
    summed = []
    real_totals = search.namespace_totals
    monkeypatch.setattr(search, "namespace_totals", lambda e: summed.append(1) or real_totals(e))
    storage = reverse("repositories:storage", args=[cluster.slug])

    def repositories_in(namespace):
        page = client.get(storage).content.decode()
        row = re.search(rf">{namespace}</a></td><td class=\"num\">([\d,]+)</td>", page)
        assert row, page
        return int(row[1].replace(",", ""))

    before = repositories_in("team-a")
    assert repositories_in("team-a") == before
    assert len(summed) == 1
    name = next(r["name"] for r in emulator.repositories.all() if r["owner"] == "team-a")
    index.forget_repository(viewer, cluster, name)
    assert repositories_in("team-a") == before - 1
    assert len(summed) == 2
