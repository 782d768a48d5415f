""" "Last built" on the repository list: a column, a sort and a built: filter, filled from the
registry-facts store, and a line saying how many repositories have a date."""

import re

import pytest

from tests.repositories.registry_fake import (
    FRESH,
    MULTI,
    STALE,
    UNREAD,
    put_four,
)
from tests.repositories.test_list import names_on, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def dated(client, viewer, cluster, emulator, registry):
    """Four repositories: built 3 days ago, 400 days ago, 10 days ago (a manifest list whose
    newest platform is 10 days old), and one whose registry facts were never read. The list is
    fetched first; the facts arrive after, through the repository pages."""
    put_four(emulator)
    assert client.get(url(cluster)).status_code == 200  # the index, before any facts
    for name in (FRESH, STALE, MULTI):
        assert client.get(f"/clusters/{cluster.slug}/repositories/{name}/").status_code == 200
    return len(emulator.repositories.all())


def list_calls(emulator):
    return sum(1 for r in emulator.requests if r.path.rstrip("/").endswith("/repositories"))


def ours(names):
    return [n for n in names if n in (FRESH, STALE, MULTI, UNREAD)]


def test_new_facts_show_on_the_list_without_fetching_it_again(client, cluster, emulator, dated):
    html = client.get(url(cluster, q="team-", per_page=200)).content.decode()
    row = html.split("<strong>fresh</strong>")[1].split("</tr>")[0]
    assert re.search(r'<time datetime="[^"]+" title="[^"]+ UTC">3\xa0days ago</time>', row)
    unread = html.split("<strong>unread</strong>")[1].split("</tr>")[0]
    assert ">unknown</span>" in unread
    assert list_calls(emulator) == 1


def test_it_sorts_by_build_date_with_unknown_dates_last_both_ways(client, cluster, dated):
    newest = names_on(client.get(url(cluster, sort="-built", per_page=200)))
    assert ours(newest) == [FRESH, MULTI, STALE, UNREAD]
    assert newest[:3] == [FRESH, MULTI, STALE]  # every other repository has no date
    oldest = names_on(client.get(url(cluster, sort="built", per_page=200)))
    assert oldest[:3] == [STALE, MULTI, FRESH]
    assert ours(oldest)[-1] == UNREAD


def test_it_filters_by_age_in_days_weeks_months_and_years(client, cluster, dated):
    def found(q):
        return names_on(client.get(url(cluster, q=q, sort="name", per_page=200)))

    assert found("built:<30d") == [FRESH, MULTI]
    assert found("built:<1w") == [FRESH]
    assert found("built:>180d") == [STALE]
    assert found("built:>1y") == [STALE]
    assert found("built:>6m built:<2y") == [STALE]
    assert found("built:<30d team-b") == [MULTI]


def test_it_says_how_many_repositories_have_dates(client, cluster, dated):
    html = client.get(url(cluster)).content.decode()
    line = re.search(r'<p[^>]*id="built-completeness">(.*?)</p>', html, re.S).group(1)
    assert f"Build dates for 3 of {dated} repositories" in line
    assert "read the whole registry" not in line  # a Viewer may not start a crawl


def test_an_operator_is_offered_the_crawl(client, operator, cluster, emulator, registry):
    html = client.get(url(cluster)).content.decode()
    assert f'href="/clusters/{cluster.slug}/repositories/-/crawl/"' in html
    assert "Build dates for 0 of" in html


@pytest.mark.parametrize(
    "value", ["<30", "30d", "<xd", "=3d", "<-3d", "<99999y", "<3h", "", "<1e3d", "<\u0663d"]
)
def test_bad_ages_are_reported_and_the_rest_of_the_search_still_runs(client, cluster, dated, value):
    response = client.get(url(cluster, q=f"built:{value} fresh"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not an age; use built:&lt;30d" in html
    assert names_on(response) == [FRESH]
