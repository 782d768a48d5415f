"""Namespace RBAC: every role against every operation, on repositories chosen so each rule
shows (own namespace, another team's, global elsewhere, namespace-scoped elsewhere).

Users: admin ClusterAdministrator; nsadmin Administrator, operator Operator and viewer
Viewer in team-a and team-b; editor Editor in team-a only.
"""

import pytest

from tests.emulator import client

TEAM_A = "team-a/orders-api"  # namespace scope, team-a
TEAM_B = "team-b/batch/jobs/report"  # namespace scope, team-b
TEAM_B_GLOBAL = "team-b/payments"  # global, team-b
GLOBAL = "ibmcom/icp-inception"  # global, a namespace no team user has a role in
HIDDEN = "kube-system/tiller"  # namespace scope, a namespace no team user has a role in
TARGETS = [TEAM_A, TEAM_B, TEAM_B_GLOBAL, GLOBAL, HIDDEN]
USERS = ["admin", "nsadmin", "operator", "editor", "viewer"]

# user -> status for each of TARGETS, in that order.
EXPECTED = {
    "GET": {
        "admin": [200, 200, 200, 200, 200],
        "nsadmin": [200, 200, 200, 200, 404],
        "operator": [200, 200, 200, 200, 404],
        "editor": [200, 404, 200, 200, 404],
        "viewer": [200, 200, 200, 200, 404],
    },
    "PUT": {
        "admin": [200, 200, 200, 200, 200],
        "nsadmin": [200, 200, 200, 403, 404],
        "operator": [200, 200, 200, 403, 404],
        "editor": [200, 404, 403, 403, 404],
        "viewer": [403, 403, 403, 403, 404],
    },
    "DELETE": {
        "admin": [200, 200, 200, 200, 200],
        "nsadmin": [200, 200, 200, 403, 404],
        "operator": [403, 403, 403, 403, 404],
        "editor": [403, 404, 403, 403, 404],
        "viewer": [403, 403, 403, 403, 404],
    },
}
CASES = [
    (method, user, target, EXPECTED[method][user][index])
    for method in EXPECTED
    for user in USERS
    for index, target in enumerate(TARGETS)
]


@pytest.mark.parametrize(("method", "username", "name", "status"), CASES)
def test_role_against_operation(emulator, bearer, method, username, name, status):
    before = emulator.repositories.get(name)
    new_scope = "namespace" if before["scope"] == "global" else "global"

    response = client.request(
        method,
        f"{emulator.api_url}/repositories/{name}",
        headers=bearer(username),
        json={"scope": new_scope} if method == "PUT" else None,
    )

    assert response.status_code == status, response.text
    after = emulator.repositories.get(name)
    if status == 200 and method == "PUT":
        assert response.text == "OK"
        assert after == {**before, "scope": new_scope}
    elif status == 200 and method == "DELETE":
        assert response.content == b""
        assert after is None
    elif status == 200:
        assert response.json() == before
    else:
        assert after == before  # a refusal changes nothing
        expected_text = "repository not found\n" if status == 404 else f"Forbidden: {username} ("
        assert response.text.startswith(expected_text)


@pytest.mark.parametrize("username", USERS)
def test_the_list_shows_own_namespaces_and_every_global_repository(emulator, bearer, username):
    user = emulator.users[username]
    expected = {
        name
        for name in emulator.repositories.names()
        if user.is_cluster_admin
        or emulator.repositories.get(name)["scope"] == "global"
        or emulator.repositories.get(name)["owner"] in user.roles
    }

    response = client.get(emulator.api_url + "/repositories", headers=bearer(username))

    listed = {repository["name"] for repository in response.json()["repositories"]}
    assert listed == expected
    visible = {name: EXPECTED["GET"][username][i] == 200 for i, name in enumerate(TARGETS)}
    assert {name for name, seen in visible.items() if seen} == listed & set(TARGETS)


def test_each_role_sees_a_realistic_mix(emulator, bearer):
    """Seeded data gives every team user repositories of both scopes, and global ones from
    namespaces they hold no role in."""
    for username in ["nsadmin", "operator", "editor", "viewer"]:
        user = emulator.users[username]
        response = client.get(emulator.api_url + "/repositories", headers=bearer(username))
        repositories = response.json()["repositories"]
        own = [r for r in repositories if r["owner"] in user.roles]
        assert {r["scope"] for r in own} == {"global", "namespace"}
        assert any(r["owner"] not in user.roles for r in repositories)
        assert len(repositories) < len(emulator.repositories)


def test_a_user_with_no_role_sees_only_global_repositories(start_emulator):
    emulator = start_emulator(users={"outsider": {"password": "pw", "roles": {}}})
    token = emulator.issue_id_token("outsider")

    response = client.get(
        emulator.api_url + "/repositories", headers={"Authorization": f"Bearer {token}"}
    )

    scopes = {repository["scope"] for repository in response.json()["repositories"]}
    assert scopes == {"global"}
    assert "admin" not in emulator.users


def test_a_scope_change_moves_a_repository_in_and_out_of_sight(emulator, bearer):
    url = f"{emulator.api_url}/repositories/{HIDDEN}"
    assert client.get(url, headers=bearer("viewer")).status_code == 404

    assert client.put(url, json={"scope": "global"}, headers=bearer("admin")).text == "OK"

    assert client.get(url, headers=bearer("viewer")).status_code == 200
    assert client.put(url, json={"scope": "namespace"}, headers=bearer("viewer")).status_code == 403
