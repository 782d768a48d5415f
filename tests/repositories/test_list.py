import re

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, make_user, connect):
    """An imgdash Viewer connected as the emulator's ClusterAdministrator (sees everything)."""
    cache.clear()
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    client.force_login(user)
    return user


def names_on(response):
    """Repository names in the rendered table, in order."""
    html = response.content.decode()
    rows = re.findall(r'<td class="repo-name">(.*?)</td>', html, re.S)
    rows = [re.sub(r'<span class="tag-match">.*', "", row, flags=re.S) for row in rows]
    return [re.sub(r"<[^>]+>|\s+invalid name", "", row).strip() for row in rows]


def url(cluster, **params):
    from urllib.parse import urlencode

    base = f"/clusters/{cluster.slug}/repositories/"
    return f"{base}?{urlencode(params)}" if params else base


def all_repositories(emulator):
    return emulator.repositories.all()


def test_it_lists_repositories_sorted_by_name_with_scope_tags_and_size(
    client, viewer, cluster, emulator
):
    response = client.get(url(cluster, per_page=200))
    assert response.status_code == 200
    expected = sorted(r["name"] for r in all_repositories(emulator))
    assert names_on(response) == expected
    html = response.content.decode()
    assert 'class="badge global"' in html and 'class="badge namespace"' in html
    assert "compressed" in html
    assert f"1–{len(expected)} of {len(expected)}" in html


def test_the_list_is_fetched_once_then_served_from_the_index(client, viewer, cluster, emulator):
    client.get(url(cluster))
    client.get(url(cluster, q="a"))
    client.get(url(cluster, sort="-size", page=2))
    lists = [r for r in emulator.requests if r.path.endswith("/repositories")]
    assert len(lists) == 1


def test_refresh_fetches_again_and_drops_the_flag_from_the_url(client, viewer, cluster, emulator):
    client.get(url(cluster))
    response = client.get(url(cluster, q="nginx", refresh="1"))
    assert response.status_code == 302
    assert response["Location"] == url(cluster, q="nginx")
    lists = [r for r in emulator.requests if r.path.endswith("/repositories")]
    assert len(lists) == 2


def test_free_text_matches_names_and_tag_names_case_insensitively(
    client, viewer, cluster, emulator
):
    repositories = all_repositories(emulator)
    target = next(r for r in repositories if r.get("tags"))
    word = target["name"].split("/")[-1][:5].upper()
    response = client.get(url(cluster, q=word, per_page=200))
    expected = sorted(
        r["name"]
        for r in repositories
        if word.lower() in r["name"].lower()
        or any(word.lower() in t["name"].lower() for t in r.get("tags") or [])
    )
    assert names_on(response) == expected
    tag = target["tags"][0]["name"]
    by_tag = names_on(client.get(url(cluster, q=f"tag:{tag}", per_page=200)))
    assert target["name"] in by_tag
    assert all(
        any(tag.lower() in t["name"].lower() for t in r.get("tags") or [])
        for r in repositories
        if r["name"] in by_tag
    )


def test_ns_and_scope_qualifiers_and_filters(client, viewer, cluster, emulator):
    repositories = all_repositories(emulator)
    team_a_global = sorted(
        r["name"] for r in repositories if r["owner"] == "team-a" and r["scope"] == "global"
    )
    assert team_a_global
    assert (
        names_on(client.get(url(cluster, q="ns:team-a scope:global", per_page=200)))
        == team_a_global
    )
    assert (
        names_on(client.get(url(cluster, namespace="team-a", scope="global", per_page=200)))
        == team_a_global
    )


def test_an_unknown_scope_qualifier_says_what_to_use(client, viewer, cluster):
    response = client.get(url(cluster, q="scope:public"))
    assert b"scope:public is not a scope; use scope:global or scope:namespace" in response.content


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("name", lambda r: r["name"], False),
        ("-name", lambda r: r["name"], True),
        ("tags", lambda r: (len(r.get("tags") or []), r["name"]), False),
        ("-tags", lambda r: (len(r.get("tags") or []), r["name"]), True),
        ("namespace", lambda r: (r["name"].split("/")[0], r["name"]), False),
    ],
)
def test_sorting(client, viewer, cluster, emulator, sort, key, reverse):
    expected = [r["name"] for r in sorted(all_repositories(emulator), key=key, reverse=reverse)]
    assert names_on(client.get(url(cluster, sort=sort, per_page=200))) == expected


def test_sorting_by_size_puts_the_largest_first(client, viewer, cluster, emulator):
    from imgdash.imagemanager import Repository

    sizes = {r["name"]: Repository.from_api(r).size for r in all_repositories(emulator)}
    names = names_on(client.get(url(cluster, sort="-size", per_page=200)))
    assert [sizes[n] for n in names] == sorted(sizes.values(), reverse=True)


def test_paging_and_page_size(client, viewer, cluster, emulator):
    expected = sorted(r["name"] for r in all_repositories(emulator))
    first = client.get(url(cluster, per_page=25))
    second = client.get(url(cluster, per_page=25, page=2))
    assert names_on(first) == expected[:25]
    assert names_on(second) == expected[25:50]
    assert b'rel="next"' in first.content
    assert b'rel="prev"' in second.content
    past_the_end = client.get(url(cluster, per_page=25, page=999))
    assert names_on(past_the_end) == expected[50:75]


@pytest.mark.parametrize(
    "params",
    [{"page": "x"}, {"per_page": "-3"}, {"sort": "evil"}, {"scope": "<script>"}, {"q": "x" * 5000}],
)
def test_nonsense_parameters_fall_back_to_defaults(client, viewer, cluster, params):
    assert client.get(url(cluster, **params)).status_code == 200


def test_htmx_gets_only_the_results_fragment(client, viewer, cluster):
    full = client.get(url(cluster))
    fragment = client.get(url(cluster, q="a"), headers={"HX-Request": "true"})
    assert b"<html" in full.content and b'id="results"' in full.content
    assert b"<html" not in fragment.content
    assert fragment.content.lstrip().startswith(b'<div id="results"')
    assert b'hx-swap-oob="true"' in fragment.content


def test_no_match_and_empty_states_say_what_to_do(client, viewer, cluster, emulator):
    response = client.get(url(cluster, q="no-such-thing-anywhere"))
    assert b"No repository matches" in response.content
    assert b"Clear the search and filters" in response.content
    for name in emulator.repositories.names():
        emulator.repositories.delete(name)
    cache.clear()
    empty = client.get(url(cluster))
    assert b"No repositories to show" in empty.content
    assert b"docker push" in empty.content


def test_a_failed_first_fetch_shows_a_readable_error(client, viewer, cluster, emulator):
    emulator.faults.add(
        method="GET", path=r"/repositories$", status=500, body="registry backend down\n"
    )
    response = client.get(url(cluster))
    assert response.status_code == 502
    html = response.content.decode()
    assert "registry backend down" in html
    assert "Try again" in html


def test_a_failed_refresh_keeps_the_last_good_data_with_a_banner(client, viewer, cluster, emulator):
    client.get(url(cluster))
    emulator.faults.add(method="GET", path=r"/repositories$", status=503, body="busy\n")
    response = client.get(url(cluster, refresh="1"))
    assert response.status_code == 200
    assert b"Could not update the list" in response.content
    assert len(names_on(response)) == min(50, len(emulator.repositories))


def test_hostile_upstream_strings_are_escaped(client, viewer, cluster, emulator):
    emulator.repositories.put(
        {
            "name": "team-a/xss",
            "owner": "<script>alert(1)</script>",
            "scope": "global",
            "tags": [{"name": "<img src=x onerror=alert(2)>", "manifest": {}}],
        }
    )
    emulator.repositories.put(
        {"name": "Team-A/<b>bad</b>", "owner": "team-a", "scope": "global", "tags": None}
    )
    html = client.get(url(cluster, per_page=200)).content.decode()
    detail = client.get(f"/clusters/{cluster.slug}/repositories/team-a/xss/").content.decode()
    for page in (html, detail):
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "&lt;img src=x onerror=alert(2)&gt;" in detail
    assert "<b>bad</b>" not in html
    assert "invalid name" in html  # shown, but not linked: imgdash will not open it


def test_a_viewer_role_is_required(client, make_user, cluster):
    client.force_login(make_user("audrey", "Auditor"))
    assert client.get(url(cluster)).status_code == 403


def test_without_a_credential_the_user_is_sent_to_connect(client, make_user, cluster):
    client.force_login(make_user("vera", "Viewer"))
    response = client.get(url(cluster, q="x"))
    assert response.status_code == 302
    assert response["Location"].startswith(f"/clusters/{cluster.slug}/connect/?next=")


def test_the_list_shows_when_it_was_fetched(client, viewer, cluster):
    html = client.get(url(cluster)).content.decode()
    assert re.search(r"fetched <span title=\"[0-9-]+ [0-9:]+ UTC\">just now</span>", html)


def test_the_cluster_filters_by_the_token_namespaces(client, make_user, connect, cluster, emulator):
    cache.clear()
    user = make_user("olga", "Operator")
    connect(user, "viewer")  # Viewer of team-a and team-b upstream
    client.force_login(user)
    names = names_on(client.get(url(cluster, per_page=200)))
    expected = sorted(
        r["name"]
        for r in all_repositories(emulator)
        if r["scope"] == "global" or r["owner"] in ("team-a", "team-b")
    )
    assert names == expected


# -- sizes the API does not give ---------------------------------------------------------


def size_cells(response):
    """{repository name: the Size cell's text} for the rendered rows."""
    html = response.content.decode()
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        name = re.search(r'<td class="repo-name">(.*?)</td>', row, re.S)
        size = re.search(r'<td class="num size">(.*?)</td>', row, re.S)
        if name and size:
            name = re.sub(r"<[^>]+>|\s+invalid name", "", name.group(1)).strip()
            cells[name] = re.sub(r"<[^>]+>", "", size.group(1)).strip()
    return cells


def test_unknown_sizes_say_unknown_and_empty_repositories_0_b(client, viewer, cluster, emulator):
    cells = size_cells(client.get(url(cluster, per_page=200)))
    # Multi-arch (manifest list, OCI index) and schema 1: the API gives no size.
    for name in ("team-a/web/frontend", "team-b/ml/scorer", "team-c/legacy/billing"):
        assert cells[name] == "unknown"
    for name in ("team-a/scratch", "team-b/placeholder"):
        assert cells[name] == "0 B"
    assert re.fullmatch(r"[\d.]+ (B|KB|MB|GB)", cells["default/alpine"])


def test_a_partly_known_size_is_shown_as_a_lower_bound_with_the_reason(
    client, viewer, cluster, emulator
):
    sized = emulator.repositories.get("default/alpine")["tags"][:1]
    listed = emulator.repositories.get("team-a/web/frontend")["tags"][:1]
    emulator.repositories.put(
        {"name": "team-a/mixed", "owner": "team-a", "scope": "global", "tags": sized + listed}
    )
    response = client.get(url(cluster, q="team-a/mixed"))
    assert re.fullmatch(r"at least [\d.]+ (B|KB|MB)", size_cells(response)["team-a/mixed"])
    assert "multi-arch" in re.search(
        r'<td class="num size">(.*?)</td>', response.content.decode()
    ).group(1)


@pytest.mark.parametrize("sort", ["size", "-size"])
def test_unknown_sizes_sort_last_both_ways(client, viewer, cluster, emulator, sort):
    cells = list(size_cells(client.get(url(cluster, sort=sort, per_page=200))).values())
    unknown = cells.count("unknown")
    assert unknown >= 3
    assert cells[-unknown:] == ["unknown"] * unknown
    assert "0 B" in cells[:-unknown]
