"""Signed-in pages are never stored by a browser or proxy cache, a request id is taken from
the caller only when well-formed, and characters that hide or reorder text are shown as
escapes wherever a repository name appears."""

import re

import pytest

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # right-to-left override: "team-a/\u202egpj.exe" reads "team-a/exe.jpg"
ZWSP = "\u200b"  # zero-width space: "team-a/ng\u200binx" looks like "team-a/nginx"
HIDDEN = (RLO, ZWSP, "\u200f", "\u2066", "\u2069", "\ufeff", "\u2060", "\u061c")


def directives(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize(
    "url",
    [
        "/clusters/",
        "/clusters/emu/repositories/",
        "/clusters/emu/repositories/team-a/orders-api/",
        "/clusters/emu/repositories/team-a/orders-api/-/delete/",
        "/clusters/emu/status/",
        "/clusters/emu/connect/",
        "/clusters/emu/repositories/no-such/-/nothing/",  # a 404
    ],
)
def test_signed_in_pages_are_private_and_not_stored(client, operator, cluster, url):
    response = client.get(url)
    assert {"private", "no-store"} <= directives(response), (url, response.status_code)


def test_htmx_fragments_and_redirects_are_private_and_not_stored(client, operator, cluster):
    fragment = client.get("/clusters/emu/repositories/?q=a", headers={"HX-Request": "true"})
    assert {"private", "no-store"} <= directives(fragment)
    redirect = client.get("/")
    assert redirect.status_code == 302
    assert {"private", "no-store"} <= directives(redirect)


def test_the_health_check_is_left_alone(client, make_user):
    health = client.get("/healthz")
    client.force_login(make_user("vera", "Viewer"))
    assert client.get("/healthz")["Cache-Control"] == health["Cache-Control"]


@pytest.mark.parametrize(
    "forged", ["lb-42\n", "lb-42\nX-Evil: 1", "x" * 65, "a b", "id;drop", "ü", "lb/42", "<x>"]
)
def test_a_malformed_request_id_is_replaced_and_never_logged(client, make_user, forged):
    from imgdash.audit.models import AuditEvent

    client.force_login(make_user("val"))  # no role: the refusal is logged
    response = client.get("/clusters/", headers={"X-Request-ID": forged})
    assert response.status_code == 403
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    event = AuditEvent.objects.get(action="access.denied")
    assert event.request_id == response["X-Request-ID"]


def test_a_well_formed_request_id_is_kept(client):
    assert client.get("/healthz", headers={"X-Request-ID": "a" * 64})["X-Request-ID"] == "a" * 64


def hostile_names(emulator):
    names = [f"team-a/{RLO}gpj.exe", f"team-a/ng{ZWSP}inx", *(f"team-a/x{c}y" for c in HIDDEN)]
    for name in names:
        emulator.repositories.put({"name": name, "owner": "team-a", "scope": "global", "tags": []})
    return names


def assert_shown_escaped(page):
    for char in HIDDEN:
        assert char not in page, f"U+{ord(char):04X} shown raw"
    assert "\\u202e" in page


def test_hidden_characters_in_names_are_shown_as_escapes_in_the_list(
    client, operator, cluster, emulator
):
    hostile_names(emulator)
    page = client.get("/clusters/emu/repositories/?per_page=200&q=team-a").content.decode()
    assert_shown_escaped(page)
    assert "team-a/ng\\u200binx" in re.sub(r"<[^>]+>", "", page)


def test_hidden_characters_are_shown_as_escapes_in_a_bulk_delete_confirmation(
    client, operator, cluster, emulator
):
    names = hostile_names(emulator)
    response = client.post(
        "/clusters/emu/repositories/-/bulk-delete/", {"repository": [*names, "team-a/orders-api"]}
    )
    assert response.status_code == 200
    assert_shown_escaped(response.content.decode())


def test_hidden_characters_in_tags_and_owner_are_shown_as_escapes_on_the_detail_page(
    client, operator, cluster, emulator
):
    emulator.repositories.put(
        {
            "name": "team-a/odd",
            "owner": f"team-a{RLO}",
            "scope": "global",
            "tags": [{"name": f"1.0{RLO}{ZWSP}", "manifest": {}}],
        }
    )
    page = client.get("/clusters/emu/repositories/team-a/odd/").content.decode()
    assert_shown_escaped(page)


def test_hidden_characters_in_messages_are_shown_as_escapes(client, operator, cluster):
    response = client.post(
        "/clusters/emu/docker-token/", {"repository": f"team-a/{RLO}x"}, follow=True
    )
    page = response.content.decode()
    assert RLO not in page
