"""Tokens are bound to the endpoint they were connected to; only an endpoint change drops
them."""

import pytest
from django.core.management import call_command

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Cluster, Credential, compute_endpoint_fingerprint
from tests.conftest import make_ca_pem

pytestmark = pytest.mark.django_db

API = "/image-manager/api/v1"


def admin_form(cluster, **changes):
    """The admin's change form for `cluster` as it stands, with `changes`."""
    form = {
        "name": cluster.name,
        "slug": cluster.slug,
        "api_url": cluster.api_url,
        "ca_pem": cluster.ca_pem,
        "verify_tls": "on",
        "registry": cluster.registry,
        "_save": "Save",
    }
    form.update(changes)
    return form


@pytest.fixture
def viewer(client, make_user, connect):
    user = make_user("vera", "Viewer")
    connect(user, "viewer")
    client.force_login(user)
    return user


def test_renaming_a_cluster_keeps_the_tokens(admin_client, viewer, cluster):
    response = admin_client.post(
        f"/admin/clusters/cluster/{cluster.pk}/change/",
        admin_form(cluster, name="Renamed", slug="renamed", registry="reg.example.com:8500"),
    )
    assert response.status_code == 302
    assert Credential.objects.filter(user=viewer).exists()
    event = AuditEvent.objects.get(action="cluster.update")
    assert set(event.details["changes"]) == {"name", "slug", "registry"}
    assert "credentials_deleted" not in event.details
    assert Cluster.objects.get().endpoint_changed_at is None


def test_saving_a_cluster_unchanged_keeps_tokens_and_logs_nothing(admin_client, viewer, cluster):
    admin_client.post(f"/admin/clusters/cluster/{cluster.pk}/change/", admin_form(cluster))
    assert Credential.objects.filter(user=viewer).exists()
    assert not AuditEvent.objects.filter(action="cluster.update").exists()


def test_the_same_ca_bundle_with_other_line_endings_is_no_change(
    make_user, connect, cluster, admin_client
):
    pem = make_ca_pem()
    Cluster.objects.filter(pk=cluster.pk).update(ca_pem=pem)
    cluster.refresh_from_db()
    user = make_user("vera", "Viewer")
    connect(user, "viewer")
    # A browser's textarea sends CRLF: re-saving the form must not count as a new CA.
    admin_client.post(
        f"/admin/clusters/cluster/{cluster.pk}/change/",
        admin_form(cluster, ca_pem="# our cluster CA\r\n" + pem.replace("\n", "\r\n")),
    )
    assert Credential.objects.filter(user=user).exists()


def test_another_ca_bundle_is_a_change():
    url = f"https://m.example.com:8443{API}"
    assert compute_endpoint_fingerprint(
        url, make_ca_pem("a"), True
    ) != compute_endpoint_fingerprint(url, make_ca_pem("b"), True)
    assert compute_endpoint_fingerprint(url, "", True) != compute_endpoint_fingerprint(
        url, "", False
    )
    assert compute_endpoint_fingerprint(url, "", True) != compute_endpoint_fingerprint(
        url.replace("m.", "n."), "", True
    )


def test_the_pages_say_why_the_user_was_disconnected(client, admin_client, viewer, cluster):
    admin_client.post(
        f"/admin/clusters/cluster/{cluster.pk}/change/",
        admin_form(cluster, api_url=f"https://elsewhere.example.com:8443{API}"),
    )
    listing = client.get("/clusters/").content.decode()
    connect_page = client.get(f"/clusters/{cluster.slug}/connect/").content.decode()
    for page in (listing, connect_page):
        assert "changed Emulator’s address" in page or "changed Emulator&#x27;s address" in page


def test_add_cluster_update_says_how_many_tokens_it_deleted(viewer, cluster, capsys):
    call_command(
        "add_cluster",
        "Emulator",
        f"https://other.example.com:8443{API}",
        "--slug",
        "emu",
        "--update",
    )
    assert "1 stored token(s) deleted" in capsys.readouterr().out
    assert not Credential.objects.exists()


def test_a_token_is_bound_to_the_endpoint_it_was_proven_against(viewer, cluster):
    credential = Credential.objects.get(user=viewer)
    assert credential.endpoint_fingerprint == cluster.endpoint_fingerprint
    assert credential.is_bound_to(cluster)
    cluster.api_url = f"https://other.example.com:8443{API}"
    assert not credential.is_bound_to(cluster)
