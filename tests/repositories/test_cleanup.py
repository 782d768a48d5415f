"""The cleanup page: candidates by rule from the cached list, the dry run, and its hand-over
to the confirmed bulk delete, against the emulator."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from imgdash.core.templatetags.imgdash import bytes_human
from imgdash.imagemanager import SIZE_EXACT, Repository
from imgdash.jobs.models import Job
from imgdash.repositories import cleanup
from imgdash.repositories.index import Entry
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db


def url(cluster, query=""):
    return f"/clusters/{cluster.slug}/cleanup/{query}"


def seeded(emulator):
    return [Repository.from_api(r) for r in emulator.repositories.all()]


def table_names(html):
    table = html[html.index('id="cleanup-table"') :]
    return re.findall(r'<td class="repo-name"><a href="[^"]*">([^<]+)</a>', table)


def text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_asks_for_a_rule_before_listing_anything(client, viewer, cluster):
    response = client.get(url(cluster))
    assert response.status_code == 200
    assert "Choose a rule" in response.content.decode()
    assert 'id="cleanup-table"' not in response.content.decode()


def test_it_lists_the_repositories_with_more_than_k_tags_largest_first(
    client, viewer, cluster, emulator
):
    repositories = seeded(emulator)
    expected = [r for r in repositories if r.tag_count > 3]
    html = client.get(url(cluster, "?more_than_tags=3&per_page=200")).content.decode()
    names = table_names(html)
    assert sorted(names) == sorted(r.name for r in expected)
    sizes = {r.name: r for r in expected}
    known = [n for n in names if sizes[n].size_summary().state != "unknown"]
    assert [sizes[n].size for n in known] == sorted((sizes[n].size for n in known), reverse=True)
    assert f"Dry run: {len(expected)} repositor" in html


def test_empty_repositories_and_a_namespace_combine(client, viewer, cluster, emulator):
    html = client.get(url(cluster, "?empty=1&namespace=team-a")).content.decode()
    expected = [r.name for r in seeded(emulator) if not r.tags and r.namespace == "team-a"]
    assert "team-a/scratch" in expected
    assert sorted(table_names(html)) == sorted(expected)
    assert "0 tags" in text(html)


def test_largest_n_applies_to_what_the_other_rules_left(client, viewer, cluster, emulator):
    html = client.get(url(cluster, "?namespace=team-a&largest=2")).content.decode()
    team_a = [
        r
        for r in seeded(emulator)
        if r.namespace == "team-a" and r.size_summary().state != "unknown"
    ]
    largest = sorted(team_a, key=lambda r: (-r.size, r.name))[:2]
    assert table_names(html) == [r.name for r in largest]


def test_the_dry_run_says_how_much_space_and_the_garbage_collection_caveat(
    client, viewer, cluster, emulator
):
    html = client.get(url(cluster, "?namespace=default&more_than_tags=0")).content.decode()
    chosen = [r for r in seeded(emulator) if r.namespace == "default" and r.tag_count > 0]
    exact = [r for r in chosen if r.size_summary().state == SIZE_EXACT]
    total = text(html[html.index('id="dry-run-total"') :])
    if len(exact) == len(chosen):
        assert f"{bytes_human(sum(r.size for r in chosen))} compressed in all" in total
    else:
        assert "at least" in total or "of unknown size" in total
    caveat = text(html[html.index('id="gc-caveat"') :])
    assert "frees the disk space only when its garbage collection runs" in caveat


def test_no_match_says_so(client, viewer, cluster):
    html = client.get(url(cluster, "?more_than_tags=1000000")).content.decode()
    assert "No repository matches these rules" in html


@pytest.mark.parametrize(
    "query, problem",
    [
        ("?more_than_tags=-1", "More than K tags: use a whole number from 0"),
        ("?largest=abc", "Largest N: &#x27;abc&#x27; is not a whole number"),
        ("?largest=0", "Largest N: use a whole number from 1"),
        ("?not_built_days=99999999999999999999999999", "Not built for N days"),
        ("?more_than_tags=1e9", "not a whole number"),
    ],
)
def test_bad_numbers_are_a_readable_400_and_show_no_candidates(
    client, viewer, cluster, query, problem
):
    response = client.get(url(cluster, query))
    assert response.status_code == 400
    html = response.content.decode()
    assert problem in html
    assert 'id="cleanup-table"' not in html


def test_not_built_for_n_days_needs_build_dates_and_matches_nothing_without(
    client, viewer, cluster
):
    html = client.get(url(cluster, "?not_built_days=30&more_than_tags=0")).content.decode()
    assert "needs build dates: start a registry crawl" in html
    assert "No repository matches these rules" in html


def test_not_built_for_n_days_picks_only_repositories_with_an_old_enough_date():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    old, new, undated = (Entry(n, "global", 1, 10, "v1", True, SIZE_EXACT) for n in "abc")
    dates = {"a": now - timedelta(days=200), "b": now - timedelta(days=3)}
    rules = cleanup.parse_rules({"not_built_days": "30"})
    found = cleanup.pick([old, new, undated], rules, dates, now=now)
    assert [e.name for e in found.entries] == ["a"]
    assert found.undated == 1


def test_viewers_see_the_dry_run_but_no_delete_controls(client, viewer, cluster):
    html = client.get(url(cluster, "?more_than_tags=0")).content.decode()
    assert 'id="cleanup-table"' in html
    assert "data-bulk" not in html and "Delete the chosen" not in html


def test_it_pages_thousands_of_candidates(client, viewer, cluster):
    html = client.get(url(cluster, "?more_than_tags=0&per_page=25&page=2")).content.decode()
    assert "Page 2 of" in html
    assert len(table_names(html)) <= 25


def test_the_chosen_repositories_go_to_the_confirmed_bulk_delete(
    client, operator, cluster, emulator
):
    html = client.get(url(cluster, "?empty=1")).content.decode()
    form = html[html.rindex("<form", 0, html.index('id="bulk-form"')) :]
    action = re.search(r'action="([^"]+)"', form).group(1)
    assert action == f"/clusters/{cluster.slug}/repositories/-/bulk-delete/"
    names = re.findall(r'name="repository" value="([^"]+)" data-bulk', form)
    assert names and "Delete the chosen repositories" in form
    confirm = client.post(action, {"repository": names}).content.decode()
    assert f"Type the number of repositories, {len(names)}, to confirm" in confirm
    token = re.search(r'name="confirmation" value="([^"]+)"', confirm).group(1)
    client.post(
        action, {"repository": names, "confirm_count": str(len(names)), "confirmation": token}
    )
    assert [i.target for i in Job.objects.get().items.order_by("position")] == names
    assert not [r for r in emulator.requests if r.method == "DELETE"]


def test_all_candidates_at_once_when_under_the_cap_and_a_message_above_it(
    client, operator, cluster, monkeypatch
):
    html = client.get(url(cluster, "?more_than_tags=0&per_page=25")).content.decode()
    form = html[html.index('id="cleanup-all"') : html.index("</form>", html.index("cleanup-all"))]
    count = int(re.search(r"Delete all ([\d,]+) candidates", form).group(1).replace(",", ""))
    assert count > 25 and form.count('name="repository"') == count
    monkeypatch.setattr("imgdash.repositories.cleanup_views.MAX_BULK", 10)
    capped = client.get(url(cluster, "?more_than_tags=0&per_page=25")).content.decode()
    assert "one bulk delete takes at most 10 repositories" in capped
    assert 'id="cleanup-all"' not in capped


def test_the_navigation_links_to_cleanup(client, viewer, cluster):
    html = client.get(f"/clusters/{cluster.slug}/storage/").content.decode()
    assert f'href="/clusters/{cluster.slug}/cleanup/"' in html


def test_an_unreachable_cluster_is_a_readable_error(client, viewer, cluster, emulator):
    emulator.faults.add(method="GET", path="/repositories$", status=503, body="down for repairs")
    response = client.get(url(cluster, "?empty=1"))
    assert response.status_code == 502
    assert b"down for repairs" in response.content


def test_a_cold_registry_shows_the_fetch_progress_then_the_candidates(
    client, viewer, cluster, monkeypatch
):
    from imgdash.repositories import cleanup_views
    from imgdash.repositories.index import Fetch

    real = cleanup_views.list_index
    monkeypatch.setattr(
        cleanup_views, "list_index", lambda *a, **k: (None, Fetch(id="f1", received=2048))
    )
    html = client.get(url(cluster, "?empty=1")).content.decode()
    assert "Fetching the repository list" in html
    assert 'hx-get="?empty=1&amp;fetch=f1"' in html
    monkeypatch.setattr(cleanup_views, "list_index", real)

    def poll():  # as the progress section does, every second, until the list is in
        html = client.get(url(cluster, "?empty=1&fetch=f1"), HTTP_HX_REQUEST="true")
        return html.content.decode() if "cleanup-table" in html.content.decode() else None

    html = wait_for(poll, timeout=30, interval=0.2, message="the candidates")
    assert html.lstrip().startswith('<div id="cleanup-content">')
    assert "team-a/scratch" in html
