import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from imgdash.clusters.changes import changed_by
from imgdash.clusters.models import Cluster, SignInProvider

VIA = "manage.py add_cluster"


class Command(BaseCommand):
    help = (
        "Register (or with --update, change) a cluster's Image Manager API. Changing its URL, "
        "CA or TLS verification deletes every user's stored token for it. Logged in the "
        "action log as done by this command."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="a name people recognise, e.g. prod-east")
        parser.add_argument("url", help="API base, e.g. https://master:8443/image-manager/api/v1")
        tls = parser.add_mutually_exclusive_group()
        tls.add_argument("--ca-file", help="PEM file of the cluster's CA (icp-router.crt)")
        tls.add_argument(
            "--no-verify",
            action="store_true",
            help="do not verify the cluster's certificate (clusters without a CA "
            "domain only; every user sees a warning)",
        )
        parser.add_argument("--registry", default="", help="HOST:PORT for docker pull/login")
        parser.add_argument("--slug", default="", help="URL name; default from NAME")
        parser.add_argument("--update", action="store_true", help="change an existing cluster")
        oidc = parser.add_argument_group(
            "sign in with this cluster (OpenID Connect; imgdash registered as a client there)"
        )
        oidc.add_argument(
            "--oidc-client-id",
            default="",
            help="offer “Sign in with NAME” with this client id; the secret comes from "
            "--oidc-client-secret-file or the IMGDASH_OIDC_CLIENT_SECRET environment variable",
        )
        oidc.add_argument(
            "--oidc-client-secret-file",
            default="",
            help="file holding the client secret (never give the secret itself on the "
            "command line: other users see it in `ps`)",
        )
        oidc.add_argument(
            "--oidc-discovery-url",
            default="",
            help="default: https://<API URL host>:8443/oidc/endpoint/OP/.well-known/"
            "openid-configuration",
        )
        oidc.add_argument(
            "--no-oidc", action="store_true", help="stop offering sign-in with this cluster"
        )

    def handle(
        self,
        name,
        url,
        ca_file=None,
        no_verify=False,
        registry="",
        slug="",
        update=False,
        **options,
    ):
        provider_secret = _oidc_secret(options) if options.get("oidc_client_id") else None
        ca_pem = ""
        if ca_file:
            try:
                ca_pem = Path(ca_file).read_text()
            except (OSError, UnicodeDecodeError) as err:
                raise CommandError(f"Cannot read the CA file {ca_file}: {err}") from None
        slug = slug or slugify(name)
        existing = Cluster.objects.filter(slug=slug).first()
        if existing and not update:
            raise CommandError(f"A cluster with slug {slug!r} exists; add --update to change it.")
        cluster = existing or Cluster(slug=slug)
        cluster.name, cluster.api_url, cluster.ca_pem = name, url, ca_pem
        cluster.verify_tls, cluster.registry = not no_verify, registry
        try:
            cluster.full_clean()
        except ValidationError as err:
            problems = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in err.message_dict.items()
            )
            raise CommandError(f"Not registered: {problems}") from None
        unbound = 0
        if existing:
            unbound = existing.credentials.exclude(
                endpoint_fingerprint=cluster.endpoint_fingerprint
            ).count()
        with changed_by(via=VIA), transaction.atomic():
            cluster.save()
            sign_in = _configure_sign_in(cluster, options, provider_secret)
        verb = "Updated" if existing else "Registered"
        self.stdout.write(
            f"{verb} cluster {cluster.name} ({cluster.slug}) at {cluster.api_url}; "
            f"TLS verification: {cluster.tls_verification}; "
            f"registry: {cluster.registry_host}"
        )
        if sign_in:
            self.stdout.write(sign_in)
        if unbound:
            self.stdout.write(
                f"The endpoint changed: {unbound} stored token(s) deleted; "
                "their users connect again."
            )


SECRET_VARIABLE = "IMGDASH_OIDC_CLIENT_SECRET"  # noqa: S105 - a variable's name


def _oidc_secret(options):
    """The client secret from its file or the environment, never from the command line."""
    secret_file = options.get("oidc_client_secret_file")
    if secret_file:
        try:
            secret = Path(secret_file).read_text().strip()
        except (OSError, UnicodeDecodeError) as err:
            raise CommandError(f"Cannot read the client secret file {secret_file}: {err}") from None
    else:
        secret = os.environ.get(SECRET_VARIABLE, "").strip()
    if not secret:
        raise CommandError(
            "--oidc-client-id needs the client secret: --oidc-client-secret-file FILE or the "
            f"{SECRET_VARIABLE} environment variable."
        )
    return secret


def _configure_sign_in(cluster, options, secret):
    """Offer (or stop offering) sign-in with the cluster; what changed, in words, or ""."""
    provider = SignInProvider.objects.filter(cluster=cluster).first()
    if options.get("no_oidc"):
        if provider is not None and provider.enabled:
            provider.enabled = False
            provider.save(update_fields=["enabled"])
            return f"Sign-in with {cluster.name} is no longer offered."
        return ""
    if not options.get("oidc_client_id"):
        return ""
    provider = provider or SignInProvider(cluster=cluster)
    provider.enabled = True
    provider.client_id = options["oidc_client_id"]
    provider.discovery_url = options.get("oidc_discovery_url") or ""
    provider.set_client_secret(secret)
    try:
        provider.full_clean(exclude=["cluster"])
    except ValidationError as err:
        raise CommandError(f"Sign-in not configured: {'; '.join(err.messages)}") from None
    provider.save()
    return (
        f"Sign in with {cluster.name} offered: client {provider.client_id}, discovery "
        f"{provider.effective_discovery_url}"
    )
