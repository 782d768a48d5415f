from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imgdash.accounts.roles import VIEWER, role_required
from imgdash.audit.log import record_event
from imgdash.clusters import services, throttle
from imgdash.clusters.decorators import RECONNECT_TAG, safe_next
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
    cluster = current_cluster(request, registered_clusters(request))
    if cluster is None or services.credential_for(request.user, cluster) is None:
        return redirect("clusters:list")
    return redirect(_repositories_url(cluster))


@require_GET
@role_required(VIEWER)
def cluster_list(request):
    clusters = registered_clusters(request)
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
    error = locked = None
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        # A locked-out cluster username is refused here: the cluster is not asked.
        locked = username and throttle.lockout_context(request, cluster, username)
        if not locked:
            credential, error = _try_connect(request, cluster, form.cleaned_data)
            if credential is not None:
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
        "told_why": _told_why_to_reconnect(request),
        "nav_section": "clusters",
        **(locked or {}),
    }
    status = 429 if locked else 400 if error else 200
    return render(request, "clusters/connect.html", context, status=status)


def _told_why_to_reconnect(request):
    """True when a message on this page already says why the user must connect again (a
    stale, expired or dropped token): the page then does not say it a second time."""
    return any(RECONNECT_TAG in m.extra_tags.split() for m in messages.get_messages(request))


@sensitive_variables("data")
def _try_connect(request, cluster, data):
    """(credential, None) once connected, else (None, the cluster's error); logged, and a
    wrong cluster password counted towards a lockout."""
    username = data["username"]
    method = "password" if username else "token"
    try:
        credential = services.connect(request.user, cluster, **data)
    except ImageManagerError as err:
        _record_connect_failed(request, cluster, err, method)
        if services.is_wrong_password(err):
            throttle.note_wrong_password(request, cluster, username)
        return None, err
    if username:
        throttle.note_connected(request, cluster, username)
    _record_connect(request, cluster, credential, method)
    return credential, None


def _record_connect_failed(request, cluster, err, method):
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
