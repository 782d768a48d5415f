"""A stored token that no key in IMGDASH_TOKEN_KEYS can read any more (its key was dropped
before `rotate_token_keys` ran) is a stale token: the user reconnects, nothing answers 500."""

import pytest
from cryptography.fernet import Fernet

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, make_user, connect):
    user = make_user("olga", "Operator")
    connect(user, "operator")
    client.force_login(user)
    return user


@pytest.fixture
def keys_rotated_away(settings):
    settings.TOKEN_KEYS = [Fernet.generate_key().decode()]


@pytest.mark.parametrize("page", ["repositories/", "status/", "storage/"])
def test_an_unreadable_token_leads_to_reconnect(
    client, operator, cluster, emulator, keys_rotated_away, page
):
    client.raise_request_exception = False
    response = client.get(f"/clusters/{cluster.slug}/{page}")

    assert response.status_code == 302
    assert response["Location"].startswith(f"/clusters/{cluster.slug}/connect/?next=")
    connect_page = client.get(response["Location"])
    assert connect_page.status_code == 200
    assert "could not be read" in connect_page.content.decode()
    assert Credential.objects.get(user=operator).is_stale
    assert not emulator.requests.matching(path="/image-manager/api/v1/repositories")
    (event,) = AuditEvent.objects.filter(action="credential.stale")
    assert event.actor_username == "olga"
    assert "IMGDASH_TOKEN_KEYS" in event.message


def test_an_unreadable_token_on_an_htmx_request_redirects_the_page(
    client, operator, cluster, keys_rotated_away
):
    client.raise_request_exception = False
    response = client.get(
        f"/clusters/{cluster.slug}/repositories/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/clusters/emu/"},
    )
    assert response.status_code == 200
    assert "/connect/" in response["HX-Redirect"]
