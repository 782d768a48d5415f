"""Coming back to the list a change was made from, and paging a large list."""

import json
import re

import pytest

from tests.repositories.test_write_views import base, confirmation_of, team_a_repository

pytestmark = pytest.mark.django_db

LIST = "/clusters/{}/repositories/"


def list_url(cluster):
    return LIST.format(cluster.slug)


def delete(client, cluster, name, next_url, **headers):
    return client.post(
        base(cluster, name) + "-/delete/",
        {
            "confirm": name,
            "confirmation": confirmation_of(client, cluster, name),
            "next": next_url,
        },
        headers=headers,
    )


def test_a_delete_returns_to_the_list_it_was_made_from(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    back = f"{list_url(cluster)}?q=team-a&sort=-size&page=2&per_page=25"
    response = delete(client, cluster, name, back)
    assert response.status_code == 302
    assert response["Location"] == back


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/clusters/emu/repositories/",
        "//evil.example/clusters/emu/repositories/",
        "/clusters/emu/repositories/team-a/x/",
        "/clusters/other/repositories/",
        "/audit/",
        "javascript:alert(1)",
        "/clusters/emu/repositories/" + "x" * 3000,
    ],
)
def test_a_return_address_elsewhere_falls_back_to_the_plain_list(
    client, operator, cluster, emulator, next_url
):
    name = team_a_repository(emulator)["name"]
    response = delete(client, cluster, name, next_url)
    assert response.status_code == 302
    assert response["Location"] == list_url(cluster)


def test_the_return_address_drops_a_refresh(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    response = delete(client, cluster, name, f"{list_url(cluster)}?q=a&refresh=1&fetch=abc")
    assert response["Location"] == f"{list_url(cluster)}?q=a"


def test_with_htmx_from_the_list_the_results_are_fetched_again_in_place(
    client, operator, cluster, emulator
):
    name = team_a_repository(emulator)["name"]
    back = f"{list_url(cluster)}?sort=-size&page=2&per_page=25"
    response = delete(
        client, cluster, name, back, HX_Request="true", HX_Current_URL=f"http://testserver{back}"
    )
    assert response.status_code == 200
    location = json.loads(response["HX-Location"])
    assert location == {"path": back, "target": "#results", "swap": "outerHTML", "push": "false"}
    assert response["HX-Trigger"] == "imgdash:list-changed"
    # The list's fragment then says what happened, once, and it is not kept for later.
    fragment = client.get(back, headers={"HX-Request": "true"}).content.decode()
    assert fragment.count(f"Deleted {name}") == 2  # shown, and in the live region
    assert f"Deleted {name}" not in client.get(list_url(cluster)).content.decode()


def test_with_htmx_from_a_page_of_its_own_it_goes_to_the_list(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    back = f"{list_url(cluster)}?sort=-size"
    current = f"http://testserver{base(cluster, name)}-/delete/"
    response = delete(client, cluster, name, back, HX_Request="true", HX_Current_URL=current)
    assert response["HX-Redirect"] == back


def test_a_scope_change_returns_to_the_list_it_was_made_from(client, operator, cluster, emulator):
    repository = team_a_repository(emulator, scope="namespace")
    back = f"{list_url(cluster)}?namespace=team-a&sort=-tags"
    form = client.get(base(cluster, repository["name"]) + "-/scope/", {"next": back})
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in form.content.decode()
    response = client.post(
        base(cluster, repository["name"]) + "-/scope/", {"scope": "global", "next": back}
    )
    assert response["Location"] == back
    elsewhere = client.post(
        base(cluster, repository["name"]) + "-/scope/",
        {"scope": "namespace", "next": "https://evil.example/"},
    )
    assert elsewhere["Location"] == base(cluster, repository["name"])


def test_list_rows_carry_their_list_as_the_return_address(client, operator, cluster):
    html = client.get(list_url(cluster), {"sort": "-size", "per_page": "25"}).content.decode()
    assert (
        "-/delete/?next=%2Fclusters%2Femu%2Frepositories%2F%3Fsort%3D-size%26per_page%3D25" in html
    )
    assert (
        "-/scope/?next=%2Fclusters%2Femu%2Frepositories%2F%3Fsort%3D-size%26per_page%3D25" in html
    )


@pytest.fixture
def large_registry(emulator):
    for number in range(1200):
        emulator.repositories.put(
            {"name": f"bulk/repo-{number:04}", "owner": "bulk", "scope": "global", "tags": []}
        )
    return len(emulator.repositories)


def test_counts_have_thousands_separators_and_pages_first_last(
    client, operator, cluster, large_registry
):
    total = large_registry
    pages = -(-total // 50)
    html = client.get(list_url(cluster), {"page": "3"}).content.decode()
    assert f"101–150 of {total:,}" in html
    assert f"Page 3 of {pages}" in html
    assert re.search(r'href="\?page=1"[^>]*>&laquo; First', html)
    assert re.search(rf'href="\?page={pages}"[^>]*>Last &raquo;', html)
    assert 'name="page"' in html and 'id="page-jump"' in html


@pytest.mark.parametrize("page", ["0", "-5", "abc", "9" * 40, "1e3", "", " 2 "])
def test_any_page_number_shows_a_page(client, operator, cluster, page):
    response = client.get(list_url(cluster), {"page": page, "per_page": "25"})
    assert response.status_code == 200
    assert re.search(r"Page \d of \d", response.content.decode())


def test_the_page_jump_keeps_the_search_sort_and_page_size(client, operator, cluster):
    html = client.get(
        list_url(cluster), {"q": "a", "sort": "-size", "per_page": "25"}
    ).content.decode()
    jump = re.search(r'<form class="page-jump".*?</form>', html, re.S).group(0)
    for name, value in (("q", "a"), ("sort", "-size"), ("per_page", "25")):
        assert f'type="hidden" name="{name}" value="{value}"' in jump
    assert 'type="hidden" name="page"' not in jump


def test_the_error_state_keeps_the_chosen_page_size(client, operator, cluster, emulator):
    emulator.faults.add(method="GET", path=r"/repositories$", status=500, body="down\n")
    html = client.get(list_url(cluster), {"per_page": "100"}).content.decode()
    assert '<option value="100" selected>' in html


def test_a_tag_search_marks_the_tags_that_matched(client, operator, cluster, emulator):
    emulator.repositories.put(
        {
            "name": "team-a/marked",
            "owner": "team-a",
            "scope": "global",
            "tags": [
                {"name": n, "manifest": {}} for n in ("1.2.3", "1.2.4", "1.2.5", "1.2.6", "2.0")
            ],
        }
    )
    html = client.get(list_url(cluster), {"q": "tag:1.2 marked"}).content.decode()
    cell = re.search(r'<span class="tag-match">(.*?)</span></td>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", cell)
    assert re.sub(r"\s+", " ", text).strip() == "tags: 1.2.3, 1.2.4, 1.2.5 +1"
    assert "<mark>1.2</mark>.3" in cell


def test_a_marked_tag_is_shown_as_pushed_whatever_the_case_searched(
    client, operator, cluster, emulator
):
    emulator.repositories.put(
        {
            "name": "team-a/cased",
            "owner": "team-a",
            "scope": "global",
            "tags": [{"name": n, "manifest": {}} for n in ("V1.2-RC1", "stable")],
        }
    )
    html = client.get(list_url(cluster), {"q": "tag:rc1 cased"}).content.decode()
    cell = re.search(r'<span class="tag-match">(.*?)</span></td>', html, re.S).group(1)
    assert "V1.2-<mark>RC1</mark>" in cell
