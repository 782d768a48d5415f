import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from imgdash.clusters import crypto

API_PATH = "/image-manager/api/v1"


def is_loopback_host(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_url(url):
    """An Image Manager API base URL: HTTPS, except on this machine (the local emulator)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError("Enter the API URL, e.g. https://master.example.com:8443" + API_PATH)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValidationError(
            "The API URL must use HTTPS: the users' tokens travel with every call. "
            "Plain HTTP is allowed only for 127.0.0.1/localhost (the local emulator)."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError("The API URL must not carry a query, fragment or credentials.")


def validate_ca_pem(pem):
    if not pem.strip():
        return
    from cryptography import x509

    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        raise ValidationError(
            "The CA bundle is not PEM certificates (-----BEGIN CERTIFICATE----- ...)."
        ) from None
    if not certificates:
        raise ValidationError("The CA bundle holds no certificate.")


def _certificates(pem):
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        return []


def describe_ca_bundle(pem):
    """The bundle's certificates as subject and SHA-256 of each: what the action log keeps
    of a CA bundle instead of its text."""
    if not pem.strip():
        return []
    from cryptography.hazmat.primitives import serialization

    certificates = _certificates(pem)
    if not certificates:
        text = "\n".join(line.rstrip() for line in pem.strip().splitlines())
        return [{"subject": "(not PEM certificates)", "sha256": _sha256(text.encode())}]
    return [
        {
            "subject": certificate.subject.rfc4514_string(),
            "sha256": _sha256(certificate.public_bytes(serialization.Encoding.DER)),
        }
        for certificate in certificates
    ]


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def compute_endpoint_fingerprint(api_url, ca_pem, verify_tls):
    """SHA-256 over where a cluster's tokens go and how its certificate is checked.

    A credential is bound to the fingerprint it was connected under: when the API URL, the CA
    bundle or the verify setting changes, the fingerprint changes and the token is never sent
    again. The CA bundle counts by its certificates (DER), so re-saving the same bundle with
    other line endings (a browser's textarea sends CRLF) or comments is no change.
    """
    canonical = {
        "api_url": api_url,
        "ca_bundle": [certificate["sha256"] for certificate in describe_ca_bundle(ca_pem)],
        "verify_tls": bool(verify_tls),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return _sha256(text.encode())


ENDPOINT_HELP = " Changing it deletes every user's stored token for this cluster: they reconnect."


class Cluster(models.Model):
    """An ICP cluster's Image Manager API, registered by an admin (users never type URLs)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    api_url = models.CharField(
        "API URL",
        max_length=500,
        validators=[validate_api_url],
        help_text=f"e.g. https://master.example.com:8443{API_PATH}.{ENDPOINT_HELP}",
    )
    ca_pem = models.TextField(
        "CA bundle (PEM)",
        blank=True,
        validators=[validate_ca_pem],
        help_text="The cluster's CA, e.g. cluster/cfc-certs/router/icp-router.crt on the boot "
        "node. Empty: the system's trusted CAs." + ENDPOINT_HELP,
    )
    verify_tls = models.BooleanField(
        "verify TLS",
        default=True,
        help_text="Turn off only for a cluster without a CA domain: tokens can then be "
        "intercepted. Shown as a warning to every user." + ENDPOINT_HELP,
    )
    registry = models.CharField(
        "registry host",
        max_length=300,
        blank=True,
        help_text="host:port for docker pull/login; empty means <cluster host>:8500.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    endpoint_changed_at = models.DateTimeField(
        "endpoint changed at",
        null=True,
        blank=True,
        editable=False,
        help_text="When the API URL, CA bundle or TLS verification last changed (and every "
        "stored token for the cluster was deleted).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        self.api_url = self.api_url.strip().rstrip("/")
        if not self.api_url.endswith(API_PATH) and "://" in self.api_url:
            parts = urlsplit(self.api_url)
            if parts.path in ("", "/"):
                self.api_url += API_PATH
        if not self.slug:
            self.slug = slugify(self.name)[:100]
        if not self.verify_tls and self.ca_pem.strip():
            raise ValidationError("Give a CA bundle or turn verification off, not both.")

    @property
    def endpoint_fingerprint(self):
        return compute_endpoint_fingerprint(self.api_url, self.ca_pem, self.verify_tls)

    @property
    def origin(self):
        """scheme://host:port of the cluster's management ingress (for cloudctl login)."""
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def registry_host(self):
        if self.registry:
            return self.registry
        return f"{urlsplit(self.api_url).hostname}:8500"

    @property
    def tls_verification(self):
        """How this cluster's certificate is checked, in words for the status page."""
        if urlsplit(self.api_url).scheme == "http":
            return "none (plain HTTP on this machine)"
        if not self.verify_tls:
            return "off"
        return "cluster CA bundle" if self.ca_pem.strip() else "system CAs"


class Credential(models.Model):
    """One user's ID token for one cluster, encrypted at rest; never shown back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cluster_credentials"
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="credentials")
    token_encrypted = models.TextField(editable=False)
    subject = models.CharField(max_length=200, blank=True)
    fingerprint = models.CharField(max_length=16)
    expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    stale_since = models.DateTimeField(null=True, blank=True)
    # The cluster's endpoint_fingerprint when the token was connected: it is sent only there.
    endpoint_fingerprint = models.CharField(max_length=64, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "cluster"], name="one_credential_per_cluster")
        ]

    def __str__(self):
        return f"{self.user} on {self.cluster} ({self.fingerprint})"

    def __repr__(self):
        return f"<Credential {self.pk} {self.user_id}@{self.cluster_id} {self.fingerprint}>"

    @property
    def token(self):
        return crypto.decrypt_token(self.token_encrypted)

    def set_token(self, token):
        """Store `token`, bound to the cluster's endpoint as this object knows it (the one the
        token was proven against)."""
        self.token_encrypted = crypto.encrypt_token(token)
        self.fingerprint = crypto.fingerprint(token)
        self.endpoint_fingerprint = self.cluster.endpoint_fingerprint

    def is_bound_to(self, cluster):
        """Whether `cluster`, as it is registered now, is where this token was connected."""
        return self.endpoint_fingerprint == cluster.endpoint_fingerprint

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= datetime.now(UTC)

    @property
    def is_stale(self):
        return self.stale_since is not None

    @property
    def usable(self):
        return not self.is_stale and not self.is_expired


class SignInProvider(models.Model):
    """A cluster's OpenID Connect provider, when an admin lets people sign in with it.

    imgdash is registered there as a client (id and secret; the secret encrypted at rest
    like the tokens, never shown back). The ID tokens it issues are the cluster's Bearer
    tokens, so a sign-in also connects the user to the cluster.
    """

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="sign_in")
    enabled = models.BooleanField(
        "offer “Sign in with” this cluster",
        default=False,
        help_text="Shows a “Sign in with <cluster>” button on the sign-in page.",
    )
    discovery_url = models.CharField(
        "discovery URL",
        max_length=500,
        blank=True,
        validators=[validate_api_url],
        help_text="Empty: https://<API URL host>:8443/oidc/endpoint/OP/.well-known/"
        "openid-configuration (IBM Cloud Private's provider).",
    )
    client_id = models.CharField("client id", max_length=200)
    client_secret_encrypted = models.TextField(editable=False, blank=True)

    def __str__(self):
        return f"sign-in with {self.cluster}"

    def __repr__(self):
        return f"<SignInProvider {self.cluster_id} {self.client_id} enabled={self.enabled}>"

    @property
    def effective_discovery_url(self):
        from imgdash.imagemanager.oidc import default_discovery_url

        return self.discovery_url or default_discovery_url(self.cluster.api_url)

    @property
    def client_secret(self):
        return crypto.decrypt_token(self.client_secret_encrypted)

    def set_client_secret(self, secret):
        self.client_secret_encrypted = crypto.encrypt_token(secret)


class ClusterIdentity(models.Model):
    """Who a user is at a cluster's sign-in provider: the provider's issuer and `sub`, the
    stable key a returning user is found by, and their refresh token (encrypted)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cluster_identities"
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="identities")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    refresh_token_encrypted = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_identity")
        ]

    def __str__(self):
        return f"{self.user} at {self.cluster} ({self.subject})"

    def __repr__(self):
        return f"<ClusterIdentity {self.user_id}@{self.cluster_id} {self.subject!r}>"

    @property
    def refresh_token(self):
        """The refresh token, or "" when the provider gave none."""
        if not self.refresh_token_encrypted:
            return ""
        return crypto.decrypt_token(self.refresh_token_encrypted)

    def set_refresh_token(self, token):
        self.refresh_token_encrypted = crypto.encrypt_token(token) if token else ""
