from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from imgdash.clusters.changes import changed_by
from imgdash.clusters.models import Cluster

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
        with changed_by(via=VIA):
            cluster.save()
        verb = "Updated" if existing else "Registered"
        self.stdout.write(
            f"{verb} cluster {cluster.name} ({cluster.slug}) at {cluster.api_url}; "
            f"TLS verification: {cluster.tls_verification}; "
            f"registry: {cluster.registry_host}"
        )
        if unbound:
            self.stdout.write(
                f"The endpoint changed: {unbound} stored token(s) deleted; "
                "their users connect again."
            )
