"""A private CA and a server certificate for the emulator's HTTPS, like a cluster's own
`icp-router` CA: a client trusts the emulator by adding `ca.pem` as the cluster's CA bundle.

Files in the TLS directory: ca.pem (give this to clients), ca-key.pem, server.pem (server
certificate then CA), server-key.pem. An existing directory is reused when its certificate
is still valid and covers the host, so a CA bundle registered once keeps working across
restarts.
"""

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_NAMES = ["127.0.0.1", "localhost", "::1"]
VALID_FOR = datetime.timedelta(days=825)


class TLSFiles:
    def __init__(self, directory):
        self.directory = Path(directory)
        self.ca_file = self.directory / "ca.pem"
        self.ca_key_file = self.directory / "ca-key.pem"
        self.cert_file = self.directory / "server.pem"
        self.key_file = self.directory / "server-key.pem"

    @property
    def ca_pem(self):
        return self.ca_file.read_text()

    def server_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def server_names(host):
    names = list(DEFAULT_NAMES)
    if host and host not in ("0.0.0.0", "::", "") and host not in names:  # noqa: S104
        names.append(host)
    return names


def ensure_certificates(directory, host="127.0.0.1"):
    """TLSFiles in `directory`, reusing what is there if still good for `host`."""
    files = TLSFiles(directory)
    files.directory.mkdir(parents=True, exist_ok=True)
    names = server_names(host)
    if not _reusable(files, names):
        _generate(files, names)
    return files


def _reusable(files, names):
    paths = (files.ca_file, files.ca_key_file, files.cert_file, files.key_file)
    if not all(path.exists() for path in paths):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    covered = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    covered |= set(san.get_values_for_type(x509.DNSName))
    wanted = {str(_ip(name) or name) for name in names}
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    return wanted <= covered and cert.not_valid_after_utc > soon


def _ip(name):
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _write(path, data, private=False):
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _generate(files, names):
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + VALID_FOR

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "imgdash emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, "imgdash emulator CA"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(signs_certificates=True),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [x509.IPAddress(_ip(name)) if _ip(name) else x509.DNSName(name) for name in names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(signs_certificates=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    _write(files.ca_key_file, _key_pem(ca_key), private=True)
    _write(files.key_file, _key_pem(key), private=True)
    _write(files.cert_file, cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    _write(files.ca_file, ca_pem)


def _key_usage(signs_certificates):
    """Signatures only; a CA also signs certificates and revocation lists."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )
