"""A user's stored token goes only to the endpoint it was connected to: when an admin points a
cluster at another host (or changes its CA or TLS verification), no token follows."""

import pytest
from django.core.management import call_command

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Cluster, Credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, make_user, connect):
    user = make_user("olga", "Operator")
    connect(user, "operator")
    client.force_login(user)
    return user


def change_in_admin(admin_client, cluster, **changes):
    form = {
        "name": cluster.name,
        "slug": cluster.slug,
        "api_url": cluster.api_url,
        "ca_pem": cluster.ca_pem,
        "registry": cluster.registry,
        "_save": "Save",
    }
    if cluster.verify_tls:
        form["verify_tls"] = "on"
    form.update(changes)
    if form.get("verify_tls") is False:
        del form["verify_tls"]
    response = admin_client.post(f"/admin/clusters/cluster/{cluster.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]


def authorizations(server):
    return [headers.get("Authorization") for _, _, headers in server.received]


def test_an_admin_pointing_a_cluster_elsewhere_sends_no_token_there(
    client, admin_client, operator, cluster, recording_server
):
    assert client.get(f"/clusters/{cluster.slug}/repositories/").status_code == 200

    change_in_admin(admin_client, cluster, api_url=recording_server.api_url)
    response = client.get(f"/clusters/{cluster.slug}/status/")

    assert not any(authorizations(recording_server))
    assert response.status_code == 302
    assert response["Location"].startswith(f"/clusters/{cluster.slug}/connect/")
    page = client.get(response["Location"]).content.decode()
    assert "address" in page
    assert not Credential.objects.filter(user=operator).exists()


def test_add_cluster_update_pointing_elsewhere_sends_no_token_there(
    client, operator, cluster, recording_server
):
    call_command(
        "add_cluster", cluster.name, recording_server.api_url, "--slug", cluster.slug, "--update"
    )
    response = client.get(f"/clusters/{cluster.slug}/status/")
    assert not any(authorizations(recording_server))
    assert "/connect/" in response["Location"]


def test_a_change_that_bypasses_save_sends_no_token_there(
    client, operator, cluster, recording_server
):
    # A queryset update sends no signal: the credential itself must refuse the new host.
    Cluster.objects.filter(pk=cluster.pk).update(api_url=recording_server.api_url)

    response = client.get(f"/clusters/{cluster.slug}/repositories/")
    detail = client.get(f"/clusters/{cluster.slug}/repositories/team-a/anything/")
    status = client.get(f"/clusters/{cluster.slug}/status/")

    assert not any(authorizations(recording_server))
    for answer in (response, detail, status):
        assert answer.status_code == 302
        assert "/connect/" in answer["Location"]
    assert not Credential.objects.filter(user=operator).exists()
    dropped = AuditEvent.objects.get(action="credential.disconnect")
    assert "olga" in dropped.message


def test_turning_tls_verification_off_drops_the_tokens(
    client, admin_client, operator, cluster, recording_server
):
    change_in_admin(admin_client, cluster, verify_tls=False)
    assert not Credential.objects.filter(user=operator).exists()
