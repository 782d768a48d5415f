"""HTTPS against the emulator: the cluster's CA (as PEM text) passes, anything else fails
with an error that says to check the CA bundle."""

import warnings

import pytest

from imgdash.emulator.server import EmulatorServer
from imgdash.imagemanager import (
    ConfigurationError,
    ImageManagerClient,
    TLSError,
    Unavailable,
    ssl_context_from_pem,
)
from tests.conftest import make_ca_pem


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    server = EmulatorServer(repos=20, seed=3, tls=True, tls_dir=tmp_path_factory.mktemp("tls"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def https(tls_emulator):
    tls_emulator.reset()
    return tls_emulator


def test_the_clusters_ca_as_pem_text_is_trusted(https):
    assert https.api_url.startswith("https://")
    client = ImageManagerClient(https.api_url, https.issue_id_token("admin"), ca_pem=https.ca_pem)
    with client:
        assert "verify=cluster CA" in repr(client)
        assert client.endpoints().endpoints
        assert len(client.list_repositories()) == 20
        client.set_scope("team-a/orders-api", "global")
    assert [e.method for e in https.requests] == ["GET", "GET", "PUT"]


def test_a_bundle_holding_the_right_ca_among_others_is_trusted(https):
    bundle = make_ca_pem() + "\n" + https.ca_pem + "\n" + make_ca_pem("Yet Another CA")
    with ImageManagerClient(https.api_url, https.issue_id_token("admin"), ca_pem=bundle) as c:
        assert c.list_repositories()


def test_a_wrong_ca_fails_with_a_clear_tls_error(https):
    client = ImageManagerClient(
        https.api_url, https.issue_id_token("admin"), ca_pem=make_ca_pem(), backoff=0
    )
    with client, pytest.raises(TLSError) as info:
        client.list_repositories()
    err = info.value
    assert isinstance(err, Unavailable)
    assert f"TLS verification of 127.0.0.1:{https.port} failed" in err.message
    assert "certificate" in err.message
    assert "Check the cluster's CA bundle" in err.message
    assert err.status is None
    assert len(https.requests) == 0  # the handshake failed: nothing reached the API


def test_the_public_cas_do_not_vouch_for_a_cluster(https):
    client = ImageManagerClient(https.api_url, https.issue_id_token("admin"))
    with client, pytest.raises(TLSError, match="CA bundle"):
        client.delete_repository("team-a/orders-api")
    assert https.repositories.get("team-a/orders-api") is not None


def test_verification_is_off_only_when_asked_explicitly(https):
    token = https.issue_id_token("admin")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning: that is the point
        with ImageManagerClient(https.api_url, token, verify=False, ca_pem=make_ca_pem()) as c:
            assert "verify=off" in repr(c)
            assert c.list_repositories()
    for falsy_but_not_false in (None, 0, ""):
        client = ImageManagerClient(https.api_url, token, verify=falsy_but_not_false)
        with client, pytest.raises(TLSError):
            client.endpoints()


def test_https_to_a_plain_http_port_says_tls_failed(emulator):
    url = emulator.api_url.replace("http://", "https://")
    client = ImageManagerClient(url, "token", ca_pem=make_ca_pem())
    with client, pytest.raises(TLSError, match=r"wrong version number.*right scheme and port"):
        client.endpoints()


@pytest.mark.parametrize(
    "pem",
    [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_a_ca_bundle_that_is_not_pem_is_refused_up_front(pem):
    with pytest.raises(ConfigurationError, match="CA bundle could not be read"):
        ImageManagerClient("https://master:8443/image-manager/api/v1", ca_pem=pem)


def test_the_context_trusts_exactly_the_given_cas():
    context = ssl_context_from_pem(make_ca_pem() + make_ca_pem("Second"))
    assert len(context.get_ca_certs()) == 2
