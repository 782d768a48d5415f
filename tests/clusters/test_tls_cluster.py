"""A cluster registered with its CA bundle is verified with exactly that CA."""

import pytest

from imgdash.clusters.models import Cluster, Credential
from imgdash.emulator.server import EmulatorServer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    with EmulatorServer(
        repos=5, seed=3, tls=True, tls_dir=str(tmp_path_factory.mktemp("tls"))
    ) as server:
        yield server


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    with EmulatorServer(repos=1, tls=True, tls_dir=str(tmp_path_factory.mktemp("other"))) as server:
        return server.ca_pem


@pytest.fixture
def operator(client, make_user):
    user = make_user("olga", "Operator")
    client.force_login(user)
    return user


def register(tls_emulator, ca_pem):
    cluster = Cluster(name="Secure", slug="secure", api_url=tls_emulator.api_url, ca_pem=ca_pem)
    cluster.full_clean()
    cluster.save()
    return cluster


def test_the_clusters_own_ca_verifies_it(client, operator, tls_emulator):
    cluster = register(tls_emulator, tls_emulator.ca_pem)
    token = tls_emulator.issue_id_token("admin")
    response = client.post(f"/clusters/{cluster.slug}/connect/", {"token": token})
    assert response.status_code == 302
    assert Credential.objects.get().cluster == cluster
    page = client.get(f"/clusters/{cluster.slug}/status/").content.decode()
    assert "cluster CA bundle" in page
    assert "IBM Cloud Private Image Management API." in page


def test_a_wrong_ca_fails_with_a_clear_tls_message(client, operator, tls_emulator, other_ca):
    cluster = register(tls_emulator, other_ca)
    response = client.post(
        f"/clusters/{cluster.slug}/connect/", {"token": tls_emulator.issue_id_token("admin")}
    )
    assert response.status_code == 400
    assert b"TLS verification" in response.content
    assert b"CA bundle" in response.content
    assert not Credential.objects.exists()
