"""What a view that acts on a cluster needs: the cluster and client, and the responses for
when the cluster says no.

    @cluster_client_view
    def repository_detail(request, cluster, client, name): ...

An upstream 401 anywhere in such a view marks the token stale and sends the user to
reconnect, then back; every other ImageManagerError becomes a page through
`upstream_error_response`, the one place that maps the cluster's failures to our answers.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from imgdash.clusters.selection import cluster_by_slug, remember_cluster
from imgdash.clusters.services import (
    NeedsConnection,
    NeedsSignIn,
    UnreadableToken,
    mark_stale,
    user_client,
)
from imgdash.imagemanager import NotFound, Unauthorized

# The cluster's refusals pass through as ours; anything else is a bad gateway.
_PASSED_THROUGH = {403: 403, 404: 404}


def upstream_status(error):
    """Our answer's status for an upstream failure: the cluster's refusal, else 502."""
    return _PASSED_THROUGH.get(error.status, 502)


def upstream_error_response(request, template, context, error):
    """`template` rendered with the cluster's `error` (and `gone` for a 404), at a status
    that says what happened. A 401 is re-raised for `cluster_client_view` to handle.
    """
    if isinstance(error, Unauthorized):
        raise error
    context.update({"error": error, "gone": isinstance(error, NotFound)})
    return render(request, template, context, status=upstream_status(error))


def cluster_client_view(view):
    """Load the cluster by slug and call view(request, cluster, client, ...) with the user's token.

    No credential, a stale, expired or undecryptable one, or an upstream 401 sends the user to
    reconnect and then back to this page.
    """

    @wraps(view)
    def wrapped(request, slug, *args, **kwargs):
        cluster = cluster_by_slug(request, slug)
        remember_cluster(request, cluster)
        try:
            client, credential = user_client(request.user, cluster)
        except UnreadableToken as reason:
            # Like a 401: the token is unusable until the user reconnects, not a server error.
            mark_stale(
                request,
                reason.credential,
                None,
                "The stored token could not be decrypted with any key of IMGDASH_TOKEN_KEYS "
                "(a key was removed before rotate_token_keys re-encrypted it): marked stale",
            )
            return reconnect_response(request, cluster, str(reason))
        except NeedsSignIn as reason:
            return sign_in_again_response(request, cluster, str(reason))
        except NeedsConnection as reason:
            return reconnect_response(request, cluster, str(reason))
        # The view's own reads of the user's credential take it from here: one query.
        request.cluster_credential = credential
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


# Tags the message that says why the user was sent to connect, so that page does not say it
# again in its own words.
RECONNECT_TAG = "reconnect"


def reconnect_response(request, cluster, reason):
    """To the connect page with `reason` shown, and back to this page afterwards."""
    messages.warning(request, reason, extra_tags=RECONNECT_TAG)
    url = connect_url(cluster, back_here(request))
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def sign_in_again_response(request, cluster, reason):
    """To the cluster's sign-in (its token could not be renewed), and back here afterwards."""
    messages.warning(request, reason, extra_tags=RECONNECT_TAG)
    url = reverse("oidc_start", args=[cluster.slug])
    next_url = back_here(request)
    url = f"{url}?{urlencode({'next': next_url})}" if next_url else url
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def connect_url(cluster, next_url=""):
    url = reverse("clusters:connect", args=[cluster.slug])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def back_here(request):
    """Where to come back to after reconnecting: the page, not the fragment being fetched."""
    if request.htmx and request.htmx.current_url_abs_path:
        return request.htmx.current_url_abs_path
    return request.get_full_path() if request.method == "GET" else ""


def safe_next(request, next_url):
    """`next_url` if it stays on this site, else ""."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""
