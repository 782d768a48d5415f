"""A token lifetime the cluster states absurdly (10^19 s, negative, not a number) neither
breaks sign-in nor the docker-login token page, and the issued token is still logged."""

import jwt
import orjson
import pytest

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential

pytestmark = pytest.mark.django_db

IDENTITY = "/idprovider/v1/auth/identitytoken"
ABSURD = [10**19, 2**63, -3600, "3600", 1e300, True, None]
ONE_YEAR = 366 * 24 * 3600


@pytest.fixture
def operator(client, make_user):
    user = make_user("olga", "Operator")
    client.force_login(user)
    return user


def answer(emulator, path, body):
    emulator.faults.add(
        method="*",
        path=path,
        status=200,
        body=orjson.dumps(body).decode(),
        content_type="application/json",
    )


@pytest.mark.parametrize("expires_in", ABSURD)
def test_signing_in_on_the_cluster_survives_an_absurd_lifetime(
    client, operator, cluster, emulator, expires_in
):
    # An ID token that states no expiry of its own, so expires_in is all there is.
    id_token = jwt.encode(
        {"sub": "nsadmin"}, "not checked here: the cluster is faked" * 2, algorithm="HS256"
    )
    answer(emulator, IDENTITY + "$", {"id_token": id_token, "expires_in": expires_in})
    answer(emulator, "/auth/token$", {"token": "registry-token", "expires_in": 60})

    response = client.post(
        f"/clusters/{cluster.slug}/connect/", {"username": "nsadmin", "password": "nsadmin"}
    )

    assert response.status_code == 302
    assert Credential.objects.get(user=operator, cluster=cluster).subject == "nsadmin"


@pytest.mark.parametrize("expires_in", ABSURD)
def test_the_docker_token_page_survives_an_absurd_lifetime_and_logs_the_token(
    client, operator, cluster, emulator, connect, expires_in
):
    connect(operator, "admin")
    answer(emulator, "/auth/token$", {"token": "registry-token", "expires_in": expires_in})

    response = client.post(f"/clusters/{cluster.slug}/docker-token/", {})

    assert response.status_code == 200
    assert b"registry-token" in response.content
    event = AuditEvent.objects.filter(action="docker_token.issue").latest("pk")
    assert event.outcome == "ok"
    stated = int(event.message.split("expires in ", 1)[1].split(" s", 1)[0])
    assert 0 < stated <= ONE_YEAR


def test_an_absurd_issue_time_is_not_believed(client, operator, cluster, emulator, connect):
    connect(operator, "admin")
    body = {"token": "registry-token", "expires_in": 300, "issued_at": "9999-12-31T23:59:59Z"}
    answer(emulator, "/auth/token$", body)

    response = client.post(f"/clusters/{cluster.slug}/docker-token/", {})

    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="docker_token.issue").latest("pk")
    assert not event.details["expires_at"].startswith("9999")
