from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from imgdash.audit.log import Origin
from imgdash.clusters.models import Cluster, Credential
from imgdash.imagemanager import ImageManagerError
from imgdash.jobs.models import REGISTRY_CRAWL
from imgdash.jobs.services import finish_summary, start_job
from imgdash.repositories import crawl, index

VIA = "manage.py crawl_registry"


class Command(BaseCommand):
    help = (
        "Read build dates, platforms and sizes from a cluster's registry for every repository "
        "a user's token lists, at a polite rate, in the foreground. It runs as a registry "
        "crawl job (on the Jobs page, resumable with this command or there) with the stored "
        "token of --user, by default the first admin (superuser) connected to CLUSTER. "
        "What the store knows already is skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("cluster", help="the cluster's slug or name")
        parser.add_argument(
            "--user",
            default="",
            help="whose stored token to use (they must be connected to CLUSTER); default: "
            "the first admin with a token for it",
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=None,
            help="requests per second to the cluster and its registry together, 0.1 to 100 "
            f"(default IMGDASH_CRAWL_RATE, now {settings.REGISTRY_CRAWL_RATE:g})",
        )

    def handle(self, cluster, user="", rate=None, **options):
        target = Cluster.objects.filter(Q(slug=cluster) | Q(name=cluster)).first()
        if target is None:
            raise CommandError(f"No cluster {cluster!r}: see /clusters/ or add_cluster.")
        rate = settings.REGISTRY_CRAWL_RATE if rate is None else rate
        if not 0.1 <= rate <= 100:
            raise CommandError("--rate must be 0.1 to 100 requests per second.")
        owner = self._owner(target, user)
        try:
            snapshot, _ = index.list_index(
                owner, target, wait=settings.IMAGEMANAGER_LIST_DEADLINE + 5
            )
        except ImageManagerError as error:
            raise CommandError(f"{target.name} did not list its repositories: {error}") from None
        if snapshot is None:
            raise CommandError(f"{target.name} did not list its repositories in time.")
        names = [entry.name for entry in snapshot.entries if entry.linkable]
        origin = Origin(user=owner, ip="", user_agent=VIA, request_id="")
        job = start_job(
            origin,
            kind=REGISTRY_CRAWL,
            cluster=target,
            parameters={"repositories": len(names), "rate": rate, "via": VIA},
            items=[(name, {}) for name in names],
        )
        self.stdout.write(
            f"Job {job.pk}: crawling {len(names):,} repositories of {target.name} as "
            f"{owner.get_username()}, at most {rate:g} requests per second."
        )
        state = crawl.run_crawl(job.pk, job.run)
        job.refresh_from_db()
        self.stdout.write(f"Job {job.pk} {state or job.state}: {finish_summary(job)[0]}.")
        if job.message:
            self.stdout.write(job.message)

    def _owner(self, cluster, username):
        users = get_user_model().objects
        if username:
            owner = users.filter(username=username).first()
            if owner is None:
                raise CommandError(f"No user {username!r}.")
            if not Credential.objects.filter(user=owner, cluster=cluster).exists():
                raise CommandError(f"{username} has no token for {cluster.name}: connect first.")
            return owner
        credential = (
            Credential.objects.filter(
                cluster=cluster, user__is_superuser=True, user__is_active=True
            )
            .select_related("user")
            .order_by("user_id")
            .first()
        )
        if credential is None:
            raise CommandError(
                f"No admin has a token for {cluster.name}: pass --user with a connected user."
            )
        return credential.user
