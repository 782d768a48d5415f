import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from imgdash.accounts.roles import (
    AUDITOR,
    OPERATOR,
    VIEWER,
    grant_role,
    has_role,
    is_admin,
    role_required,
    user_roles,
)

pytestmark = pytest.mark.django_db


@role_required(OPERATOR)
def operator_only(request):
    return HttpResponse("done")


def request_as(user):
    request = RequestFactory().post("/somewhere/")
    request.user = user
    return request


def test_the_migration_creates_the_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {VIEWER, OPERATOR, AUDITOR}


def test_an_operator_can_also_browse(make_user):
    assert user_roles(make_user("olga", OPERATOR)) == {OPERATOR, VIEWER}


def test_an_auditor_does_not_browse_unless_also_a_viewer(make_user):
    auditor = make_user("audrey", AUDITOR)
    assert not has_role(auditor, VIEWER)
    assert has_role(make_user("both", AUDITOR, VIEWER), VIEWER)


def test_superusers_are_admins_with_every_role(make_user):
    admin = make_user("root", superuser=True)
    assert is_admin(admin)
    assert user_roles(admin) == {VIEWER, OPERATOR, AUDITOR}


def test_inactive_and_anonymous_users_have_no_role(make_user):
    user = make_user("gone", OPERATOR)
    user.is_active = False
    assert user_roles(user) == frozenset()
    assert user_roles(AnonymousUser()) == frozenset()


def test_role_required_lets_the_role_through(make_user):
    assert operator_only(request_as(make_user("olga", OPERATOR))).content == b"done"


@pytest.mark.parametrize("roles", [(), (VIEWER,), (AUDITOR,), (VIEWER, AUDITOR)])
def test_role_required_refuses_others_with_403(make_user, roles):
    with pytest.raises(PermissionDenied, match="needs the Operator role"):
        operator_only(request_as(make_user("someone", *roles)))


def test_a_user_in_no_group_sees_ask_an_admin(client, make_user):
    client.force_login(make_user("newbie"))
    response = client.get("/", follow=True)
    assert response.status_code == 403
    assert b"have no imgdash role yet" in response.content
    assert b"Ask an imgdash admin" in response.content


def test_a_viewer_without_the_role_gets_a_readable_403_page(client, make_user):
    client.force_login(make_user("audrey", AUDITOR))
    response = client.get("/clusters/")
    assert response.status_code == 403
    assert b"This needs the Viewer role" in response.content


def test_granting_a_role_brings_its_permissions_even_if_the_group_was_lost(client, make_user):
    # Transactional tests and careless admins can remove the migration-made groups.
    Group.objects.filter(name=AUDITOR).delete()
    auditor = make_user("aud", AUDITOR)
    other = make_user("someone-else", VIEWER)
    client.force_login(other)
    client.get("/clusters/")  # an action of someone else's in the log
    client.force_login(auditor)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert b"by everyone" in response.content


def test_a_role_granted_or_removed_applies_at_the_users_next_request(client, make_user):
    # The roles are loaded with the signed-in user on each request (accounts.backends).
    user = make_user("vic")
    client.force_login(user)
    assert client.get("/clusters/").status_code == 403
    grant_role(user, VIEWER)
    assert client.get("/clusters/").status_code == 200
    user.groups.clear()
    assert client.get("/clusters/").status_code == 403
    grant_role(user, AUDITOR)
    assert client.get("/audit/").status_code == 200
    assert client.get("/clusters/").status_code == 403


def test_the_signed_in_user_and_their_roles_are_one_query(client, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_user("olive", OPERATOR))
    client.get("/clusters/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/clusters/")
    sqls = [query["sql"] for query in queries.captured_queries]
    # One query reads the user, and their roles and session epoch with them.
    assert sum('"auth_user"' in sql for sql in sqls) == 1
    assert sum('"auth_group"' in sql or '"accounts_sessionepoch"' in sql for sql in sqls) == 1


def test_removing_operator_keeps_a_viewer_role_held_on_its_own(make_user):
    from imgdash.accounts.roles import remove_role, user_roles

    user = make_user("otto", OPERATOR, VIEWER)
    remove_role(user, OPERATOR)
    assert user_roles(user) == {VIEWER}
    remove_role(user, VIEWER)
    assert user_roles(user) == frozenset()
