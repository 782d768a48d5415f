import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from imgdash.clusters.models import Cluster

pytestmark = pytest.mark.django_db

API = "/image-manager/api/v1"


def test_it_registers_an_https_cluster_with_a_ca_file(tmp_path):

    ca = tmp_path / "icp-router.crt"
    ca.write_text(_ca_pem())
    call_command(
        "add_cluster", "Prod East", f"https://master.example.com:8443{API}", "--ca-file", str(ca)
    )
    cluster = Cluster.objects.get(slug="prod-east")
    assert cluster.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert cluster.verify_tls
    assert cluster.registry_host == "master.example.com:8500"


def test_it_adds_the_api_path_to_a_bare_origin():
    call_command("add_cluster", "edge", "https://edge.example.com:8443")
    assert Cluster.objects.get().api_url == f"https://edge.example.com:8443{API}"


def test_plain_http_is_refused_except_on_this_machine():
    with pytest.raises(CommandError, match="must use HTTPS"):
        call_command("add_cluster", "insecure", f"http://master.example.com:8443{API}")
    call_command("add_cluster", "local", f"http://127.0.0.1:9443{API}")
    assert Cluster.objects.filter(slug="local").exists()


def test_a_bad_ca_file_is_refused(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("this is not a certificate")
    with pytest.raises(CommandError, match="not PEM certificates"):
        call_command(
            "add_cluster", "x", f"https://m.example.com:8443{API}", "--ca-file", str(bogus)
        )
    with pytest.raises(CommandError, match="Cannot read the CA file"):
        call_command(
            "add_cluster",
            "x",
            f"https://m.example.com:8443{API}",
            "--ca-file",
            str(tmp_path / "missing.pem"),
        )
    assert not Cluster.objects.exists()


def test_no_verify_is_explicit_and_visible(capsys):
    call_command(
        "add_cluster",
        "lab",
        f"https://lab.example.com:8443{API}",
        "--no-verify",
        "--registry",
        "mycluster.icp:8500",
    )
    cluster = Cluster.objects.get()
    assert not cluster.verify_tls
    assert cluster.tls_verification == "off"
    assert "TLS verification: off" in capsys.readouterr().out
    assert cluster.registry_host == "mycluster.icp:8500"


def test_ca_file_and_no_verify_exclude_each_other(tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "add_cluster",
            "x",
            f"https://m.example.com:8443{API}",
            "--no-verify",
            "--ca-file",
            "x.pem",
        )


def test_an_existing_cluster_changes_only_with_update():
    call_command("add_cluster", "lab", f"https://lab.example.com:8443{API}")
    with pytest.raises(CommandError, match="add --update"):
        call_command("add_cluster", "lab", f"https://lab2.example.com:8443{API}")
    call_command("add_cluster", "lab", f"https://lab2.example.com:8443{API}", "--update")
    assert Cluster.objects.get().api_url.startswith("https://lab2.")


def test_urls_with_credentials_or_queries_are_refused():
    with pytest.raises(CommandError, match="must not carry"):
        call_command("add_cluster", "x", f"https://user:pw@m.example.com:8443{API}")
    with pytest.raises(CommandError):
        call_command("add_cluster", "x", "ftp://m.example.com/")


def _ca_pem():
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()
