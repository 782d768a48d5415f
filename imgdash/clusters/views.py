from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imgdash.accounts.roles import VIEWER, role_required
from imgdash.audit.log import record_event
from imgdash.clusters.forms import ConnectForm
from imgdash.clusters.models import Cluster, Credential
from imgdash.clusters.selection import current_cluster, remember_cluster, visible_clusters
from imgdash.clusters.services import make_client, safe_next, save_credential
from imgdash.imagemanager import ImageManagerError


def _repositories_url(cluster):
    try:
        return reverse("repositories:list", args=[cluster.slug])
    except NoReverseMatch:
        return reverse("clusters:list")


@require_GET
@role_required(VIEWER)
def clusters_home(request):
    """The start page: the current cluster's repositories, or the cluster list."""
    cluster = current_cluster(request, visible_clusters(request.user))
    if cluster is None:
        return redirect("clusters:list")
    if not Credential.objects.filter(user=request.user, cluster=cluster).exists():
        return redirect("clusters:list")
    return redirect(_repositories_url(cluster))


@require_GET
@role_required(VIEWER)
def cluster_list(request):
    clusters = visible_clusters(request.user)
    credentials = {
        c.cluster_id: c for c in Credential.objects.filter(user=request.user, cluster__in=clusters)
    }
    rows = [
        {
            "cluster": cluster,
            "credential": credentials.get(cluster.pk),
            "repositories_url": _repositories_url(cluster),
        }
        for cluster in clusters
    ]
    return render(request, "clusters/list.html", {"rows": rows, "nav_section": "clusters"})


@sensitive_variables("token", "password")
def _obtain_token(client, form):
    """The ID token from the form: pasted, or from the identity provider (password used once)."""
    if form.cleaned_data["token"]:
        return form.cleaned_data["token"]
    return client.sign_in(form.cleaned_data["username"], form.cleaned_data["password"]).id_token


@sensitive_post_parameters("token", "password")
@sensitive_variables("token")
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
            with make_client(cluster) as anonymous:
                token = _obtain_token(anonymous, form)
            # Prove the token with one cheap authenticated call before keeping it.
            with make_client(cluster, token) as client:
                client.docker_token()
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
            credential = save_credential(request.user, cluster, token)
            record_event(
                request,
                "credential.connect",
                cluster=cluster,
                target=f"credential {credential.fingerprint}",
                message=f"Connected as {credential.subject or 'unknown subject'}",
                details={
                    "method": method,
                    "subject": credential.subject,
                    "expires_at": credential.expires_at.isoformat()
                    if credential.expires_at
                    else None,
                },
            )
            remember_cluster(request, cluster)
            messages.success(
                request,
                f"Connected to {cluster.name} as {credential.subject or 'the token’s user'}.",
            )
            return redirect(next_url or _repositories_url(cluster))
    credential = Credential.objects.filter(user=request.user, cluster=cluster).first()
    context = {
        "cluster": cluster,
        "form": form,
        "error": error,
        "next": next_url,
        "credential": credential,
        "nav_section": "clusters",
    }
    return render(request, "clusters/connect.html", context, status=400 if error else 200)


@require_POST
@role_required(VIEWER)
def disconnect(request, slug):
    cluster = get_object_or_404(Cluster, slug=slug)
    credential = Credential.objects.filter(user=request.user, cluster=cluster).first()
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
