"""The inline scope editor (list rows and the repository page): it says what happened where the
form was, and leaves no message behind for some later page."""

import re

import pytest

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def team_a_repository(emulator, scope):
    return next(
        r for r in emulator.repositories.all() if r["owner"] == "team-a" and r["scope"] == scope
    )


def scope_url(cluster, name):
    return f"/clusters/{cluster.slug}/repositories/{name}/-/scope/"


def later_pages(client, cluster):
    """Pages someone might open next, unrelated to the scope change."""
    for url in ("/clusters/", f"/clusters/{cluster.slug}/status/"):
        yield client.get(url).content.decode()


def test_an_inline_change_confirms_in_place_and_leaves_no_message(
    client, operator, cluster, emulator
):
    name = team_a_repository(emulator, "namespace")["name"]

    response = client.post(scope_url(cluster, name), {"scope": "global"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="badge global"' in html
    status = re.search(r'<span [^>]*role="status"[^>]*>(.*?)</span>\s*</span>\s*$', html, re.S)
    assert status and f"{name} now has scope global" in status.group(1)
    assert emulator.repositories.get(name)["scope"] == "global"
    for page in later_pages(client, cluster):
        assert "now has scope" not in page


def test_an_inline_save_of_the_same_scope_says_so_in_place(client, operator, cluster, emulator):
    name = team_a_repository(emulator, "global")["name"]

    html = client.post(scope_url(cluster, name), {"scope": "global"}, headers=HTMX).content.decode()

    assert 'role="status"' in html and "nothing was changed" in html
    assert not [r for r in emulator.requests if r.method == "PUT"]
    for page in later_pages(client, cluster):
        assert "nothing was changed" not in page


def test_the_inline_editor_and_the_badge_after_it_say_where_focus_goes(
    client, operator, cluster, emulator
):
    name = team_a_repository(emulator, "namespace")["name"]

    form = client.get(scope_url(cluster, name), headers=HTMX).content.decode()
    cancelled = client.get(scope_url(cluster, name) + "?show=badge", headers=HTMX).content.decode()
    saved = client.post(scope_url(cluster, name), {"scope": "global"}, headers=HTMX)

    assert re.search(r'<input [^>]*value="namespace"[^>]* checked data-scope-focus', form)
    assert form.count("data-scope-focus") == 1
    assert re.search(r"<a [^>]*data-scope-focus[^>]*>change</a>", cancelled)
    assert re.search(r"<a [^>]*data-scope-focus[^>]*>change</a>", saved.content.decode())


def test_without_javascript_the_change_is_announced_on_the_next_page(
    client, operator, cluster, emulator
):
    name = team_a_repository(emulator, "namespace")["name"]

    response = client.post(scope_url(cluster, name), {"scope": "global"}, follow=True)

    assert f"{name} now has scope global" in response.content.decode()
    assert "data-scope-focus" not in response.content.decode()


def test_an_inline_change_leaves_no_message_for_a_later_page(client, operator, cluster, emulator):
    name = team_a_repository(emulator, "namespace")["name"]
    client.post(scope_url(cluster, name), {"scope": "global"}, headers=HTMX)

    later = list(later_pages(client, cluster))

    assert not any(f"{name} now has scope" in page for page in later)
