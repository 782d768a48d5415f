"""/people/: admins see every user and change their roles, sessions and accounts."""

import pytest
from django.test import Client

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential
from imgdash.core.people import PER_PAGE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PEOPLE = "/people/"


@pytest.fixture
def admin(client, make_user):
    """Ada, an imgdash admin signed in on `client`."""
    user = make_user("ada", superuser=True)
    client.force_login(user)
    return user


def signed_in_as(user):
    other = Client()
    assert (
        other.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    return other


def test_it_lists_every_user_with_roles_tokens_and_how_they_sign_in(
    client, admin, make_user, connect
):
    vera = make_user("vera", "Viewer", "Auditor")
    vera.first_name, vera.last_name = "Vera", "Lynn"
    vera.save()
    credential = connect(vera, "viewer")
    cluster_user = make_user("sso-sam")
    cluster_user.set_unusable_password()
    cluster_user.save()
    from imgdash.clusters.models import ClusterIdentity

    ClusterIdentity.objects.create(
        user=cluster_user, cluster=credential.cluster, issuer="https://op.example", subject="sam"
    )

    page = client.get(PEOPLE).content.decode()

    row = page[page.index('data-username="vera"') :].split("</tr>")[0]
    assert "Vera Lynn" in row and "vera@example.com" in row
    assert "Viewer" in row and "Auditor" in row and "Operator</span>" not in row
    assert credential.fingerprint in row and "Emulator" in row and "expires" in row
    assert "password" in row and "never" in row  # never signed in
    assert credential.token not in page
    sam = page[page.index('data-username="sso-sam"') :].split("</tr>")[0]
    assert "sign in with Emulator" in sam and "password" not in sam
    ada = page[page.index('data-username="ada"') :].split("</tr>")[0]
    assert '<span class="badge ok">Admin</span>' in ada


def test_a_stale_token_shows_as_stale(client, admin, make_user, connect):
    vera = make_user("vera", "Viewer")
    credential = connect(vera, "viewer")
    Credential.objects.filter(pk=credential.pk).update(stale_since="2026-01-01T00:00:00Z")
    assert "stale (the cluster refused it)" in client.get(PEOPLE).content.decode()


def test_a_granted_role_shows_on_the_users_next_request(client, admin, make_user):
    vera = make_user("vera")
    vera_client = signed_in_as(vera)
    assert vera_client.get("/clusters/").status_code == 403

    response = client.post(f"/people/{vera.pk}/grant-role/", {"role": "Viewer"})

    assert response.status_code == 302
    assert vera_client.get("/clusters/").status_code == 200
    event = AuditEvent.objects.get(action="role.grant")
    assert (event.actor_username, event.target, event.details["role"]) == ("ada", "vera", "Viewer")


def test_a_removed_role_is_gone_on_the_users_next_request(client, admin, make_user):
    olga = make_user("olga", "Viewer", "Auditor")
    olga_client = signed_in_as(olga)
    assert olga_client.get("/clusters/").status_code == 200

    client.post(f"/people/{olga.pk}/remove-role/", {"role": "Viewer"})

    assert olga_client.get("/clusters/").status_code == 403
    assert olga_client.get("/").status_code == 302  # still an Auditor: sent to the log
    assert AuditEvent.objects.filter(action="role.remove", target="olga").count() == 1


def test_admin_rights_can_be_granted_and_removed(client, admin, make_user):
    vera = make_user("vera", "Viewer")
    vera_client = signed_in_as(vera)
    assert vera_client.get(PEOPLE).status_code == 403
    client.post(f"/people/{vera.pk}/grant-role/", {"role": "Admin"})
    assert vera_client.get(PEOPLE).status_code == 200
    client.post(f"/people/{vera.pk}/remove-role/", {"role": "Admin"})
    assert vera_client.get(PEOPLE).status_code == 403


def test_deactivation_deletes_tokens_ends_sessions_and_is_logged(client, admin, make_user, connect):
    vera = make_user("vera", "Viewer")
    credential = connect(vera, "viewer")
    vera_client = signed_in_as(vera)
    assert vera_client.get("/clusters/").status_code == 200

    confirm = client.get(f"/people/{vera.pk}/deactivate/")
    assert confirm.status_code == 200 and "1 stored cluster token" in confirm.content.decode()
    response = client.post(f"/people/{vera.pk}/deactivate/", follow=True)

    assert "vera is deactivated" in response.content.decode()
    assert not Credential.objects.filter(user=vera).exists()
    assert vera_client.get("/clusters/").status_code == 302  # sent to sign in
    assert (
        Client().post("/accounts/login/", {"username": "vera", "password": PASSWORD}).status_code
        == 200
    )  # refused
    actions = list(AuditEvent.objects.filter(actor_username="ada").values_list("action", "target"))
    assert ("user.deactivate", "vera") in actions
    assert ("credential.disconnect", f"credential {credential.fingerprint}") in actions
    assert ("auth.sign_out_everywhere", "vera") in actions


def test_a_reactivated_user_signs_in_again(client, admin, make_user):
    vera = make_user("vera", "Viewer")
    client.post(f"/people/{vera.pk}/deactivate/")
    page = client.get(PEOPLE).content.decode()
    assert "inactive" in page and f"/people/{vera.pk}/reactivate/" in page

    client.post(f"/people/{vera.pk}/reactivate/")

    assert signed_in_as(vera).get("/clusters/").status_code == 200
    assert AuditEvent.objects.filter(action="user.activate", target="vera").exists()


def test_sign_out_everywhere_ends_the_users_sessions(client, admin, make_user):
    vera = make_user("vera", "Viewer")
    vera_client = signed_in_as(vera)
    client.post(f"/people/{vera.pk}/sign-out-everywhere/")
    assert vera_client.get("/clusters/").status_code == 302
    assert AuditEvent.objects.get(action="auth.sign_out_everywhere").actor_username == "ada"


def test_an_admin_cannot_deactivate_themselves_or_drop_their_own_admin_rights(client, admin):
    response = client.post(f"/people/{admin.pk}/deactivate/", follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    response = client.post(f"/people/{admin.pk}/remove-role/", {"role": "Admin"}, follow=True)
    assert "cannot remove your own admin rights" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and admin.is_superuser
    assert not AuditEvent.objects.filter(action__in=["user.deactivate", "role.remove"]).exists()


def test_another_admin_can_be_deactivated(client, admin, make_user):
    root = make_user("root", superuser=True)
    client.post(f"/people/{root.pk}/deactivate/")
    root.refresh_from_db()
    assert not root.is_active


@pytest.mark.parametrize(
    "path, data",
    [
        ("/people/", None),
        ("/people/{pk}/grant-role/", {"role": "Viewer"}),
        ("/people/{pk}/remove-role/", {"role": "Viewer"}),
        ("/people/{pk}/deactivate/", {}),
        ("/people/{pk}/reactivate/", {}),
        ("/people/{pk}/sign-out-everywhere/", {}),
    ],
)
def test_nobody_but_an_admin_gets_in(client, make_user, path, data):
    olga = make_user("olga", "Operator", "Auditor")
    target = make_user("vera", "Viewer")
    client.force_login(olga)
    path = path.format(pk=target.pk)
    response = client.get(path) if data is None else client.post(path, data)
    assert response.status_code == 403
    if data is not None:
        assert client.get(path).status_code in (403, 405)
    target.refresh_from_db()
    assert target.is_active and target.groups.count() == 1
    assert AuditEvent.objects.filter(action="access.denied", actor_username="olga").exists()


def test_a_post_without_csrf_is_refused(admin, make_user):
    vera = make_user("vera")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    response = strict.post(f"/people/{vera.pk}/grant-role/", {"role": "Viewer"})
    assert response.status_code == 403
    assert not vera.groups.exists()


def test_search_and_paging(client, admin, make_user):
    for number in range(PER_PAGE + 5):
        make_user(f"user{number:03}")
    make_user("zed").__class__.objects.filter(username="zed").update(email="zed@acme.test")

    first = client.get(PEOPLE).content.decode()
    second = client.get(PEOPLE, {"page": "2"}).content.decode()
    found = client.get(PEOPLE, {"q": "ACME"}).content.decode()

    assert "Page 1 of 2" in first and 'data-username="user000"' in first
    assert 'data-username="zed"' in second and 'data-username="user000"' not in second
    assert 'data-username="zed"' in found and 'data-username="user001"' not in found
    assert "1–1 of 1 matching person" in found


def test_active_search_answers_with_the_results_only(client, admin, make_user):
    make_user("vera")
    response = client.get(PEOPLE, {"q": "ver"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="people-results">')
    assert 'data-username="vera"' in body and 'data-username="ada"' not in body


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999", "1e9", "9" * 40, ""])
def test_any_page_number_gives_a_page(client, admin, page):
    response = client.get(PEOPLE, {"page": page})
    assert response.status_code == 200 and 'data-username="ada"' in response.content.decode()


def test_bad_input_is_refused_without_a_change(client, admin, make_user):
    vera = make_user("vera")
    response = client.post(f"/people/{vera.pk}/grant-role/", {"role": "Root"}, follow=True)
    assert "There is no role" in response.content.decode()
    assert not vera.groups.exists() and not AuditEvent.objects.filter(action="role.grant")
    for path in ("grant-role", "remove-role", "deactivate", "reactivate", "sign-out-everywhere"):
        assert client.post(f"/people/987654/{path}/", {"role": "Viewer"}).status_code == 404
        assert client.post(f"/people/{'9' * 30}/{path}/").status_code == 404


def test_it_returns_to_the_list_it_came_from_and_nowhere_else(client, admin, make_user):
    vera = make_user("vera")
    url = f"/people/{vera.pk}/sign-out-everywhere/"
    assert client.post(url, {"next": "/people/?q=ve&page=1"})["Location"] == "/people/?q=ve&page=1"
    for elsewhere in ("https://evil.test/people/", "//evil.test/people/", "/audit/"):
        assert client.post(url, {"next": elsewhere})["Location"] == "/people/"


def test_the_navigation_links_to_people_for_admins_only(client, admin, make_user):
    assert 'href="/people/"' in client.get("/jobs/").content.decode()
    client.force_login(make_user("olga", "Operator"))
    assert 'href="/people/"' not in client.get("/jobs/").content.decode()
