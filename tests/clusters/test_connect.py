import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential

pytestmark = pytest.mark.django_db


def dump_database():
    """Every row of every table, as text: what someone reading the database file would see."""
    text = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            text.append(repr(cursor.fetchall()))
    return "\n".join(text)


@pytest.fixture
def operator(client, make_user):
    user = make_user("olga", "Operator")
    client.force_login(user)
    return user


def test_connect_page_offers_token_and_password(client, operator, cluster):
    page = client.get(f"/clusters/{cluster.slug}/connect/").content.decode()
    assert 'name="token"' in page
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "cloudctl tokens" in page


def test_it_connects_with_a_pasted_token(client, operator, cluster, emulator):
    token = emulator.issue_id_token("operator")
    response = client.post(f"/clusters/{cluster.slug}/connect/", {"token": f"ID token: {token}"})
    assert response.status_code == 302
    credential = Credential.objects.get(user=operator, cluster=cluster)
    assert credential.token == token
    assert credential.subject == "operator"
    assert credential.expires_at > datetime.now(UTC) + timedelta(hours=11)
    # The token was proven with one authenticated call before it was kept.
    assert [r.path for r in emulator.requests][-1].endswith("/auth/token")
    event = AuditEvent.objects.get(action="credential.connect")
    assert (event.outcome, event.actor_username) == ("ok", "olga")
    assert event.target == f"credential {credential.fingerprint}"
    assert token.split(".")[2] not in repr(event.__dict__)


def test_it_connects_with_username_and_password(client, operator, cluster, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(
        f"/clusters/{cluster.slug}/connect/", {"username": "nsadmin", "password": "nsadmin"}
    )
    assert response.status_code == 302
    assert Credential.objects.get(user=operator, cluster=cluster).subject == "nsadmin"
    assert "identitytoken" in " ".join(r.path for r in emulator.requests)
    assert "password=nsadmin" not in caplog.text


def test_a_wrong_cluster_password_is_not_saved_and_says_why(client, operator, cluster, emulator):
    response = client.post(
        f"/clusters/{cluster.slug}/connect/", {"username": "nsadmin", "password": "wrong"}
    )
    assert response.status_code == 400
    assert not Credential.objects.exists()
    assert b"Not connected" in response.content
    assert b"Nothing was saved" in response.content


def test_a_token_the_cluster_rejects_is_not_saved(client, operator, cluster, emulator):
    forged = emulator.issue_id_token("operator")[:-6] + "AAAAAA"
    response = client.post(f"/clusters/{cluster.slug}/connect/", {"token": forged})
    assert response.status_code == 400
    assert not Credential.objects.exists()
    page = response.content.decode()
    assert "Not connected" in page
    assert "401" in page
    assert forged not in page  # not even echoed back into the form
    event = AuditEvent.objects.get(action="credential.connect_failed")
    assert (event.outcome, event.status) == ("refused", 401)


def test_an_expired_token_is_not_saved(client, operator, cluster, emulator):
    expired = emulator.issue_id_token("operator", ttl=-60)
    response = client.post(f"/clusters/{cluster.slug}/connect/", {"token": expired})
    assert response.status_code == 400
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"token": "not a jwt"},
        {"token": "x" * 20000},
        {},
        {"username": "only-user"},
        {"token": "a.b.c", "username": "u", "password": "p"},
    ],
)
def test_bad_forms_make_no_upstream_call(client, operator, cluster, emulator, data):
    response = client.post(f"/clusters/{cluster.slug}/connect/", data)
    assert response.status_code == 200
    assert b'class="errorlist"' in response.content or b'class="alert error"' in response.content
    assert len(emulator.requests) == 0
    if "token" in data:
        assert data["token"].encode() not in response.content


def test_the_token_never_appears_in_pages_logs_action_log_or_database(
    client, operator, cluster, emulator, caplog
):
    caplog.set_level(logging.DEBUG)
    canary = emulator.issue_id_token("operator")
    client.post(f"/clusters/{cluster.slug}/connect/", {"token": canary})
    pages = [
        client.get("/clusters/"),
        client.get(f"/clusters/{cluster.slug}/connect/"),
        client.get(f"/clusters/{cluster.slug}/repositories/"),
        client.get(f"/clusters/{cluster.slug}/status/"),
        client.get("/audit/"),
    ]
    signature = canary.split(".")[2]
    for response in pages:
        assert signature not in response.content.decode()
    assert signature not in caplog.text
    assert signature not in dump_database()


def test_expiry_is_shown_in_words_and_exact_utc(client, operator, cluster, connect):
    credential = connect(operator, "operator", ttl=3 * 3600 + 12 * 60 + 30)
    page = client.get("/clusters/").content.decode()
    assert "expires in 3 h 12 min" in page
    assert credential.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC") in page
    assert credential.fingerprint in page


def test_it_disconnects(client, operator, cluster, connect):
    connect(operator, "operator")
    response = client.post(f"/clusters/{cluster.slug}/disconnect/")
    assert response.status_code == 302
    assert not Credential.objects.exists()


def test_disconnect_needs_post(client, operator, cluster, connect):
    connect(operator, "operator")
    assert client.get(f"/clusters/{cluster.slug}/disconnect/").status_code == 405
    assert Credential.objects.count() == 1


def test_deactivating_a_user_deletes_their_credentials(operator, cluster, connect):
    credential = connect(operator, "operator")
    operator.is_active = False
    operator.save()
    assert not Credential.objects.exists()
    event = AuditEvent.objects.get(action="credential.disconnect")
    assert event.target == f"credential {credential.fingerprint}"
    assert "olga was deactivated" in event.message


def test_deleting_a_user_deletes_their_credentials(operator, cluster, connect):
    connect(operator, "operator")
    operator.delete()
    assert not Credential.objects.exists()
    assert "olga was deleted" in AuditEvent.objects.get(action="credential.disconnect").message


def test_an_admin_can_revoke_a_credential_and_it_is_logged(client, make_user, cluster, connect):
    credential = connect(make_user("olga", "Operator"), "operator")
    client.force_login(make_user("root", superuser=True))
    url = f"/admin/clusters/credential/{credential.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Credential.objects.exists()
    event = AuditEvent.objects.get(action="credential.disconnect")
    assert event.actor_username == "root"
    assert "Revoked by an admin for olga" in event.message


def test_the_admin_never_shows_the_token(client, make_user, cluster, connect, emulator):
    credential = connect(make_user("olga", "Operator"), "operator")
    client.force_login(make_user("root", superuser=True))
    page = client.get(f"/admin/clusters/credential/{credential.pk}/change/").content.decode()
    assert credential.fingerprint in page
    assert credential.token.split(".")[2] not in page
    assert credential.token_encrypted not in page


def test_a_401_marks_the_token_stale_and_sends_the_user_to_reconnect(
    client, operator, cluster, connect, emulator
):
    connect(operator, "operator")
    emulator.faults.add(
        method="GET", path=r"/repositories/team-a/", status=401, body="token revoked\n"
    )
    page = f"/clusters/{cluster.slug}/repositories/team-a/app/"
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == (
        f"/clusters/{cluster.slug}/connect/?next=%2Fclusters%2F{cluster.slug}"
        "%2Frepositories%2Fteam-a%2Fapp%2F"
    )
    assert Credential.objects.get().is_stale
    assert AuditEvent.objects.get(action="credential.stale").status == 401
    # Reconnecting brings the user back where they were.
    emulator.faults.clear()
    again = client.post(
        response["Location"], {"token": emulator.issue_id_token("operator"), "next": page}
    )
    assert again["Location"] == page
    assert not Credential.objects.get().is_stale


def test_an_htmx_request_gets_hx_redirect_back_to_the_page_not_the_fragment(
    client, operator, cluster, connect, emulator
):
    connect(operator, "operator")
    emulator.faults.add(method="GET", path=r"/repositories$", status=401)
    response = client.get(
        f"/clusters/{cluster.slug}/repositories/?q=nginx",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": f"http://testserver/clusters/{cluster.slug}/repositories/?q=x",
        },
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == (
        f"/clusters/{cluster.slug}/connect/?next=%2Fclusters%2F{cluster.slug}"
        "%2Frepositories%2F%3Fq%3Dx"
    )


def test_a_403_keeps_the_token(client, operator, cluster, connect, emulator):
    connect(operator, "viewer")
    emulator.faults.add(method="GET", path=r"/repositories/", status=403, body="forbidden\n")
    response = client.get(f"/clusters/{cluster.slug}/repositories/team-a/app/")
    assert response.status_code == 403
    assert b"refused" in response.content
    assert not Credential.objects.get().is_stale


def test_a_next_url_to_another_host_is_ignored(client, operator, cluster, emulator):
    response = client.post(
        f"/clusters/{cluster.slug}/connect/",
        {"token": emulator.issue_id_token("operator"), "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert "evil" not in response["Location"]
