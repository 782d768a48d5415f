"""Acting on a cluster as the signed-in user: their credential, a client, reconnecting.

Views call `cluster_client_view`; everything that needs a user's token goes through here so
the 401 -> stale -> reconnect -> back-to-page flow is the same everywhere.
"""

from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_variables
from django_htmx.http import HttpResponseClientRedirect

from imgdash.audit.log import record_event
from imgdash.clusters.models import Cluster, Credential
from imgdash.clusters.selection import remember_cluster
from imgdash.imagemanager import ImageManagerClient, Unauthorized, describe_token


class NeedsConnection(Exception):
    """The user has no usable token for this cluster; the message says why."""


def make_client(cluster, token=None):
    """A client for this cluster, configured only from what an admin registered."""
    return ImageManagerClient(
        cluster.api_url,
        token,
        verify=cluster.verify_tls,
        ca_pem=cluster.ca_pem.strip() or None,
        connect_timeout=settings.IMAGEMANAGER_CONNECT_TIMEOUT,
        read_timeout=settings.IMAGEMANAGER_READ_TIMEOUT,
        max_response_bytes=settings.IMAGEMANAGER_MAX_RESPONSE_MB * 1024 * 1024,
    )


def credential_for(user, cluster):
    return Credential.objects.filter(user=user, cluster=cluster).first()


def user_client(user, cluster):
    """(client, credential) for the user's own token, or NeedsConnection."""
    credential = credential_for(user, cluster)
    if credential is None:
        raise NeedsConnection(f"Connect your {cluster.name} credentials to continue.")
    if credential.is_stale:
        raise NeedsConnection(
            f"{cluster.name} no longer accepts your token (it expired or was revoked). "
            "Reconnect to continue."
        )
    if credential.is_expired:
        raise NeedsConnection(f"Your token for {cluster.name} has expired. Reconnect to continue.")
    return make_client(cluster, credential.token), credential


@sensitive_variables("token")
def save_credential(user, cluster, token):
    subject, expires_at = describe_token(token)
    credential = credential_for(user, cluster) or Credential(user=user, cluster=cluster)
    credential.set_token(token)
    credential.subject = subject
    credential.expires_at = expires_at
    credential.stale_since = None
    credential.connected_at = datetime.now(UTC)
    credential.save()
    return credential


def mark_stale(request, credential, error):
    if credential.stale_since is None:
        credential.stale_since = datetime.now(UTC)
        credential.save(update_fields=["stale_since"])
    record_event(
        request,
        "credential.stale",
        outcome="refused",
        cluster=credential.cluster,
        target=f"credential {credential.fingerprint}",
        status=getattr(error, "status", None),
        message="The cluster answered 401: token marked stale",
    )


def connect_url(cluster, next_url=""):
    url = reverse("clusters:connect", args=[cluster.slug])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def safe_next(request, next_url):
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


def back_here(request):
    """Where to come back to after reconnecting: the page, not the fragment being fetched."""
    if request.htmx and request.htmx.current_url_abs_path:
        return request.htmx.current_url_abs_path
    return request.get_full_path() if request.method == "GET" else ""


def reconnect_response(request, cluster, reason):
    messages.warning(request, reason)
    url = connect_url(cluster, back_here(request))
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def cluster_client_view(view):
    """Load the cluster by slug and call view(request, cluster, client, ...) with the user's token.

    No credential, a stale or expired one, or an upstream 401 sends the user to reconnect and
    then back to this page.
    """

    @wraps(view)
    def wrapped(request, slug, *args, **kwargs):
        cluster = get_object_or_404(Cluster, slug=slug)
        remember_cluster(request, cluster)
        try:
            client, credential = user_client(request.user, cluster)
        except NeedsConnection as reason:
            return reconnect_response(request, cluster, str(reason))
        request.credential = credential
        try:
            with client:
                return view(request, cluster, client, *args, **kwargs)
        except Unauthorized as error:
            mark_stale(request, credential, error)
            return reconnect_response(
                request,
                cluster,
                f"{cluster.name} did not accept your token (it expired or was revoked). "
                "Reconnect to continue.",
            )

    return wrapped
