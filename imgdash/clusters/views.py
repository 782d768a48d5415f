from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imgdash.accounts.roles import VIEWER, role_required
from imgdash.audit.log import record_event
from imgdash.clusters import services
from imgdash.clusters.decorators import safe_next
from imgdash.clusters.forms import ConnectForm
from imgdash.clusters.models import Cluster
from imgdash.clusters.selection import current_cluster, registered_clusters, remember_cluster
from imgdash.imagemanager import ImageManagerError


def _repositories_url(cluster):
    return reverse("repositories:list", args=[cluster.slug])


@require_GET
@role_required(VIEWER)
def clusters_home(request):
    """The start page: the current cluster's repositories, or the cluster list."""
    cluster = current_cluster(request, registered_clusters())
    if cluster is None or services.credential_for(request.user, cluster) is None:
        return redirect("clusters:list")
    return redirect(_repositories_url(cluster))


@require_GET
@role_required(VIEWER)
def cluster_list(request):
    clusters = registered_clusters()
    credentials = services.credentials_by_cluster(request.user, clusters)
    rows = [
        {
            "cluster": cluster,
            "credential": credentials.get(cluster.pk),
            "endpoint_changed": services.endpoint_changed_notice(cluster),
            "repositories_url": _repositories_url(cluster),
        }
        for cluster in clusters
    ]
    return render(request, "clusters/list.html", {"rows": rows, "nav_section": "clusters"})


@sensitive_post_parameters("token", "password")
@require_http_methods(["GET", "POST"])
@role_required(VIEWER)
def connect(request, slug):
    cluster = get_object_or_404(Cluster, slug=slug)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    form = ConnectForm(request.POST if request.method == "POST" else None)
    error = None
    if request.method == "POST" and form.is_valid():
        method = "password" if form.cleaned_data["username"] else "token"
        try:
            credential = services.connect(request.user, cluster, **form.cleaned_data)
        except ImageManagerError as err:
            error = err
            record_event(
                request,
                "credential.connect_failed",
                outcome="refused" if err.status else "failed",
                cluster=cluster,
                target=f"{request.user.get_username()}@{cluster.slug}",
                status=err.status,
                message=err.message,
                details={"method": method},
            )
        else:
            _record_connect(request, cluster, credential, method)
            remember_cluster(request, cluster)
            subject = credential.subject or "the token’s user"
            messages.success(request, f"Connected to {cluster.name} as {subject}.")
            return redirect(next_url or _repositories_url(cluster))
    credential = services.credential_for(request.user, cluster)
    context = {
        "cluster": cluster,
        "form": form,
        "error": error,
        "next": next_url,
        "credential": credential,
        "endpoint_changed": "" if credential else services.endpoint_changed_notice(cluster),
        "nav_section": "clusters",
    }
    return render(request, "clusters/connect.html", context, status=400 if error else 200)


def _record_connect(request, cluster, credential, method):
    expires_at = credential.expires_at.isoformat() if credential.expires_at else None
    record_event(
        request,
        "credential.connect",
        cluster=cluster,
        target=f"credential {credential.fingerprint}",
        message=f"Connected as {credential.subject or 'unknown subject'}",
        details={"method": method, "subject": credential.subject, "expires_at": expires_at},
    )


@require_POST
@role_required(VIEWER)
def disconnect(request, slug):
    cluster = get_object_or_404(Cluster, slug=slug)
    credential = services.credential_for(request.user, cluster)
    if credential is None:
        messages.info(request, f"You were not connected to {cluster.name}.")
        return redirect("clusters:list")
    fingerprint = credential.fingerprint
    credential.delete()
    record_event(
        request,
        "credential.disconnect",
        cluster=cluster,
        target=f"credential {fingerprint}",
        message="Token deleted",
    )
    messages.success(request, f"Disconnected from {cluster.name}. Your token was deleted.")
    return redirect("clusters:list")
