"""HTTPS with the emulator's generated CA, as a cluster is added with its CA bundle."""

import ipaddress
import os
import socket
import ssl

import pytest
import requests
from cryptography import x509

from tests.emulator import client


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    from imgdash.emulator.server import EmulatorServer

    with EmulatorServer(repos=5, tls=True, tls_dir=tmp_path_factory.mktemp("tls")) as server:
        yield server


def admin_headers(emulator):
    return {"Authorization": "Bearer " + emulator.issue_id_token("admin")}


def test_it_serves_https_verified_with_the_generated_ca(tls_emulator):
    assert tls_emulator.url.startswith("https://127.0.0.1:")

    response = client.get(
        tls_emulator.api_url + "/repositories",
        headers=admin_headers(tls_emulator),
        verify=tls_emulator.ca_file,
    )

    assert response.status_code == 200
    assert len(response.json()["repositories"]) == 5


def test_verification_fails_without_the_ca(tls_emulator):
    with pytest.raises(requests.exceptions.SSLError):
        client.get(tls_emulator.api_url, verify=True)


def test_verification_fails_against_another_ca(tls_emulator, start_emulator):
    other = start_emulator(repos=1, tls=True)

    with pytest.raises(requests.exceptions.SSLError):
        client.get(tls_emulator.api_url, verify=other.ca_file)


def test_the_certificate_is_good_for_localhost_too(tls_emulator):
    url = f"https://localhost:{tls_emulator.port}/image-manager/api/v1"

    assert client.get(url, verify=tls_emulator.ca_file).status_code == 200


def test_the_certificate_names_the_loopback_addresses_and_localhost(tls_emulator):
    pem = (tls_emulator.tls_files.cert_file).read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def test_the_ca_is_offered_as_a_file_and_as_text(tls_emulator):
    with open(tls_emulator.ca_file) as f:
        assert f.read() == tls_emulator.ca_pem
    assert tls_emulator.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in tls_emulator.ca_pem
    assert os.stat(tls_emulator.tls_files.key_file).st_mode & 0o077 == 0


def test_the_standard_library_trusts_it_with_the_ca_too(tls_emulator):
    context = ssl.create_default_context(cafile=tls_emulator.ca_file)
    with (
        socket.create_connection(("127.0.0.1", tls_emulator.port)) as sock,
        context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_a_failed_handshake_does_not_stop_the_server(tls_emulator):
    with pytest.raises(requests.exceptions.SSLError):
        client.get(tls_emulator.api_url)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get(tls_emulator.api_url.replace("https://", "http://"), timeout=5)

    assert client.get(tls_emulator.api_url, verify=tls_emulator.ca_file).status_code == 200


def test_the_ca_in_a_tls_dir_is_reused_on_restart(tmp_path, start_emulator):
    first = start_emulator(repos=1, tls=True, tls_dir=tmp_path)
    ca = first.ca_pem
    first.stop()

    second = start_emulator(repos=1, tls=True, tls_dir=tmp_path)

    assert second.ca_pem == ca
    assert client.get(second.api_url, verify=str(tmp_path / "ca.pem")).status_code == 200


def test_a_temporary_tls_dir_is_removed_on_stop(start_emulator):
    server = start_emulator(repos=1, tls=True)
    ca_file = server.ca_file
    assert os.path.exists(ca_file)

    server.stop()

    assert not os.path.exists(ca_file)


def test_wire_faults_work_over_tls_too(tls_emulator):
    tls_emulator.faults.add(path="/v1$", reset=True, times=1)
    tls_emulator.faults.add(path="/v1$", truncate=True, times=1)

    with pytest.raises(requests.exceptions.ConnectionError):
        client.get(tls_emulator.api_url, verify=tls_emulator.ca_file)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        client.get(tls_emulator.api_url, verify=tls_emulator.ca_file)
    assert client.get(tls_emulator.api_url, verify=tls_emulator.ca_file).status_code == 200
