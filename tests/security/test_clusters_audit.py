"""Registering, changing and deleting a cluster are in the action log, old → new, whoever does
it: an admin in the admin, or the `add_cluster` command."""

import pytest
from django.core.management import call_command

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Cluster, Credential
from tests.clusters.test_endpoint_binding import admin_form
from tests.conftest import make_ca_pem

pytestmark = pytest.mark.django_db

API = "/image-manager/api/v1"


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_an_admin_changing_a_cluster_is_logged_old_to_new(admin_client, cluster, emulator):
    old_url = cluster.api_url
    new_url = f"https://other.example.com:8443{API}"
    pem = make_ca_pem("other CA")

    response = admin_client.post(
        f"/admin/clusters/cluster/{cluster.pk}/change/",
        admin_form(cluster, api_url=new_url, ca_pem=pem, name="Renamed"),
    )

    assert response.status_code == 302
    (event,) = events("cluster.update")
    assert event.actor_username == "admin"
    assert event.cluster_id == cluster.pk
    changes = event.details["changes"]
    assert changes["api_url"] == {"old": old_url, "new": new_url}
    assert changes["name"] == {"old": "Emulator", "new": "Renamed"}
    assert changes["ca_bundle"]["old"] == []
    (certificate,) = changes["ca_bundle"]["new"]
    assert "other CA" in certificate["subject"]
    assert len(certificate["sha256"]) == 64
    # The bundle itself never goes into the log.
    assert "BEGIN CERTIFICATE" not in repr(AuditEvent.objects.values_list())


def test_an_admin_registering_a_cluster_is_logged(admin_client):
    response = admin_client.post(
        "/admin/clusters/cluster/add/",
        {
            "name": "Prod East",
            "slug": "prod-east",
            "api_url": f"https://master.example.com:8443{API}",
            "ca_pem": "",
            "verify_tls": "on",
            "registry": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    (event,) = events("cluster.create")
    assert event.actor_username == "admin"
    assert event.details["changes"]["api_url"] == {
        "old": None,
        "new": f"https://master.example.com:8443{API}",
    }


def test_add_cluster_and_its_update_are_logged_with_the_command_as_actor(tmp_path):
    call_command("add_cluster", "edge", f"https://edge.example.com:8443{API}")
    ca = tmp_path / "icp-router.crt"
    ca.write_text(make_ca_pem("edge CA"))
    call_command(
        "add_cluster",
        "edge",
        f"https://edge2.example.com:8443{API}",
        "--ca-file",
        str(ca),
        "--update",
    )

    (created,) = events("cluster.create")
    (updated,) = events("cluster.update")
    for event in (created, updated):
        assert event.actor_id is None
        assert "add_cluster" in event.message
        assert event.details["via"] == "manage.py add_cluster"
    assert updated.details["changes"]["api_url"] == {
        "old": f"https://edge.example.com:8443{API}",
        "new": f"https://edge2.example.com:8443{API}",
    }
    assert "edge CA" in updated.details["changes"]["ca_bundle"]["new"][0]["subject"]
    assert "BEGIN CERTIFICATE" not in repr(AuditEvent.objects.values_list())


def test_deleting_a_cluster_logs_it_and_the_tokens_deleted_with_it(
    admin_client, make_user, connect, cluster
):
    for name in ("olga", "victor"):
        connect(make_user(name, "Viewer"), "viewer")

    response = admin_client.post(f"/admin/clusters/cluster/{cluster.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Cluster.objects.exists()
    assert not Credential.objects.exists()
    (event,) = events("cluster.delete")
    assert event.actor_username == "admin"
    assert event.cluster_name == "Emulator"
    assert event.details["old"]["api_url"] == cluster.api_url
    assert event.details["credentials_deleted"] == 2
    assert event.details["users"] == ["olga", "victor"]
    dropped = events("credential.disconnect")
    assert len(dropped) == 2
    serialized = repr(AuditEvent.objects.values_list())
    for credential_token in ("eyJ",):
        assert credential_token not in serialized


def test_deleting_clusters_in_bulk_from_the_admin_logs_each(admin_client, cluster):
    Cluster.objects.create(name="Other", slug="other", api_url=f"https://o.example.com{API}")
    response = admin_client.post(
        "/admin/clusters/cluster/",
        {
            "action": "delete_selected",
            "_selected_action": list(Cluster.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Cluster.objects.exists()
    assert sorted(e.cluster_name for e in events("cluster.delete")) == ["Emulator", "Other"]
    assert {e.actor_username for e in events("cluster.delete")} == {"admin"}


def test_tokens_deleted_because_the_endpoint_changed_are_logged(
    admin_client, make_user, connect, cluster
):
    connect(make_user("olga", "Viewer"), "viewer")
    admin_client.post(
        f"/admin/clusters/cluster/{cluster.pk}/change/",
        admin_form(cluster, api_url=f"https://elsewhere.example.com{API}"),
    )
    (event,) = events("cluster.update")
    assert event.details["credentials_deleted"] == 1
    assert event.details["users"] == ["olga"]
    (dropped,) = events("credential.disconnect")
    assert "olga" in dropped.message
    assert dropped.actor_username == "admin"
