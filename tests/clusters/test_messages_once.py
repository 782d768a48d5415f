"""Each message says a thing once: the cluster's refusal, a missing repository, the cluster's
own reply to a failed connect, a token the cluster stopped accepting. Reproduced against the
emulator (with its faults) and counted on the rendered page."""

import html as htmllib
import re

import pytest

pytestmark = pytest.mark.django_db


def page_text(response):
    """The words a person reads on the page, tags and scripts removed."""
    body = response.content.decode()
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def a_repository_of(emulator, owner):
    return next(r for r in emulator.repositories.all() if r["owner"] == owner)


@pytest.fixture
def team_operator(client, make_user, connect):
    """An Operator holding the token of the emulator's nsadmin (Administrator of team-a)."""
    user = make_user("tom", "Operator")
    connect(user, "nsadmin")
    client.force_login(user)
    return user


def test_it_says_the_cluster_refused_once(client, team_operator, cluster, emulator):
    name = a_repository_of(emulator, "team-a")["name"]
    emulator.faults.add(method="DELETE", status=403, body="user nsadmin may not delete\n")
    url = f"/clusters/{cluster.slug}/repositories/{name}/-/delete/"
    token = re.search(r'name="confirmation" value="([^"]+)"', client.get(url).content.decode())
    response = client.post(url, {"confirm": name, "confirmation": token.group(1)})
    text = page_text(response)
    assert response.status_code == 409
    assert text.count("The cluster refused") == 1
    assert text.count("user nsadmin may not delete") == 1
    # and which cluster role would have allowed it
    assert "Deleting needs the Administrator role in namespace team-a" in text


def test_a_missing_repository_is_said_missing_once(client, team_operator, cluster):
    response = client.get(f"/clusters/{cluster.slug}/repositories/team-a/no-such-image/")
    text = page_text(response)
    assert response.status_code == 404
    assert text.count("was not found") == 1
    assert text.count("may have been deleted") == 1
    assert text.count("repository not found") <= 1  # the emulator's reply, quoted at most once
    assert "Back to the list" in text  # the way on is still offered


def test_a_failed_connect_quotes_the_clusters_reply_once(client, make_user, cluster, emulator):
    client.force_login(make_user("cora", "Viewer"))
    emulator.faults.add(method="GET", status=401, body="token expired: please log in again\n")
    response = client.post(
        f"/clusters/{cluster.slug}/connect/", {"token": emulator.issue_id_token("admin")}
    )
    text = page_text(response)
    assert response.status_code == 400
    assert text.count("token expired: please log in again") == 1
    assert text.count("HTTP 401") == 1


def test_a_stale_token_shows_one_banner(client, make_user, connect, cluster, emulator):
    user = make_user("stan", "Viewer")
    connect(user, "admin")
    client.force_login(user)
    emulator.faults.add(method="GET", status=401)
    response = client.get(f"/clusters/{cluster.slug}/repositories/", follow=True)
    text = page_text(response)
    assert response.redirect_chain[-1][0].startswith(f"/clusters/{cluster.slug}/connect/")
    said = [
        phrase
        for phrase in ("did not accept your token", "no longer accepted", "no longer accepts")
        for _ in range(text.count(phrase))
    ]
    assert len(said) == 1, said


def test_an_expired_token_shows_one_banner(client, make_user, connect, cluster):
    user = make_user("ella", "Viewer")
    connect(user, "admin", ttl=-60)
    client.force_login(user)
    response = client.get(f"/clusters/{cluster.slug}/repositories/", follow=True)
    text = page_text(response)
    assert text.count("expired") == 1, text
