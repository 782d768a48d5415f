"""Starting a registry crawl from the repository list (Operator and up)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imgdash.accounts.roles import OPERATOR, role_required
from imgdash.clusters.decorators import cluster_client_view, upstream_error_response
from imgdash.imagemanager import SIZE_EXACT, ImageManagerError
from imgdash.jobs.models import QUEUED, REGISTRY_CRAWL, RUNNING, Job
from imgdash.jobs.services import start_job
from imgdash.repositories import built, index

# Besides its digests, a repository costs operation 4 and a pull token.
REQUESTS_PER_REPOSITORY = 2


@require_http_methods(["GET", "POST"])
@role_required(OPERATOR)
@cluster_client_view
def start_crawl(request, cluster, client):
    context = {"cluster": cluster, "nav_section": "repositories", "rate": _rate()}
    running = (
        Job.objects.filter(kind=REGISTRY_CRAWL, cluster=cluster, state__in=(QUEUED, RUNNING))
        .order_by("-id")
        .first()
    )
    try:
        snapshot, _ = index.list_index(request.user, cluster, credential=request.cluster_credential)
    except ImageManagerError as error:
        return upstream_error_response(request, "repositories/crawl.html", context, error)
    if snapshot is None:
        messages.info(request, "The repository list is still being fetched: try again then.")
        return redirect("repositories:list", cluster.slug)
    names = [entry.name for entry in snapshot.entries if entry.linkable]
    dates = built.built_dates(cluster, snapshot.entries, snapshot.derived)
    if request.method == "POST":
        if running is not None:
            messages.info(request, "A crawl of this registry is already under way: this is it.")
            return redirect("jobs:detail", running.pk)
        job = start_job(
            request,
            kind=REGISTRY_CRAWL,
            cluster=cluster,
            parameters={"repositories": len(names), "rate": _rate()},
            items=[(name, {}) for name in names],
        )
        return redirect(reverse("jobs:detail", args=[job.pk]))
    linkable = (entry for entry in snapshot.entries if entry.linkable)
    requests = estimated_requests(built.unsettled(cluster, linkable))
    context.update(
        {
            "running": running,
            "total": len(names),
            "dated": dates.dated,
            "requests": requests,
            "minutes": max(1, round(requests / _rate() / 60)),
        }
    )
    return render(request, "repositories/crawl.html", context)


def estimated_requests(entries):
    """About how many requests a crawl of `entries` sends: per repository, operation
    4, a pull token and one per digest the list names (a config; for a manifest list a
    platform's manifest, then its config too). A list entry without exact sizes is taken to
    be a manifest list; schema 1 images are counted as if they were one too."""
    total = 0
    for entry in entries:
        digests = len(built.prefixes_of(entry))
        total += REQUESTS_PER_REPOSITORY + digests * (1 if entry.size_state == SIZE_EXACT else 2)
    return total


def _rate():
    rate = settings.REGISTRY_CRAWL_RATE
    return int(rate) if rate == int(rate) else rate
