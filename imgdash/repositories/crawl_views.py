"""Starting a registry crawl from the repository list (Operator and up)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imgdash.accounts.roles import OPERATOR, role_required
from imgdash.clusters.decorators import cluster_client_view, upstream_error_response
from imgdash.imagemanager import ImageManagerError
from imgdash.jobs.models import QUEUED, REGISTRY_CRAWL, RUNNING, Job
from imgdash.jobs.services import start_job
from imgdash.repositories import built, index

# A repository needs about this many requests when nothing of it is known: operation 4, a
# pull token, a config (lists: a manifest and a config per platform).
REQUESTS_PER_REPOSITORY = 3


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
    undated = len(names) - min(dates.dated, len(names))
    context.update(
        {
            "running": running,
            "total": len(names),
            "dated": dates.dated,
            "minutes": max(1, round(undated * REQUESTS_PER_REPOSITORY / _rate() / 60)),
        }
    )
    return render(request, "repositories/crawl.html", context)


def _rate():
    rate = settings.REGISTRY_CRAWL_RATE
    return int(rate) if rate == int(rate) else rate
