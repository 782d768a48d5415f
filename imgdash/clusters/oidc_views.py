"""“Sign in with <cluster>”: start, the provider's callback, and signing out of both.

One callback URL serves every cluster (it is the redirect URI registered at each provider);
the state says which sign-in it answers. Each refusal is logged as a failed sign-in with its
reason (never a token) and shown on a page that says what to do next.
"""

import logging

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imgdash.accounts.lockout import (
    is_locked_out,
    lockout_context,
    note_failure,
    note_success,
    record_lockout_event,
)
from imgdash.audit.log import record_event
from imgdash.clusters import oidc
from imgdash.clusters.crypto import InvalidToken
from imgdash.clusters.decorators import safe_next
from imgdash.clusters.models import Cluster, Credential
from imgdash.clusters.selection import remember_cluster
from imgdash.imagemanager import ImageManagerError
from imgdash.imagemanager.oidc import SignInRefused

logger = logging.getLogger("imgdash.clusters")

BACKEND = "imgdash.accounts.backends.UserBackend"
TEMPLATE = "registration/oidc_refused.html"


def _throttle_key(cluster):
    return f"sign-in with {cluster.slug}"


@login_not_required
def sign_in(request):
    """Django's sign-in page, with a “Sign in with <cluster>” button per enabled provider."""
    view = auth_views.LoginView.as_view(
        redirect_authenticated_user=True,
        extra_context={"sign_in_providers": oidc.enabled_providers()},
    )
    return view(request)


@login_not_required
@require_http_methods(["GET", "POST"])
def start(request, slug):
    """Send the browser to the cluster's provider, remembering state, nonce and verifier."""
    cluster = get_object_or_404(Cluster, slug=slug)
    provider = oidc.provider_for(cluster)
    if provider is None:
        return _refused(request, cluster, "not_offered", status=404)
    if is_locked_out(request, _throttle_key(cluster)):
        return _locked_out(request, cluster)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    try:
        with oidc.provider_client(provider) as client:
            config = client.discover()
            authorization = client.authorization_request(config, _callback_url(request))
    except (ImageManagerError, InvalidToken) as err:
        return _failed(request, cluster, "provider_unavailable", err, status=502)
    oidc.remember_pending(request.session, cluster, authorization, next_url)
    return redirect(authorization.url)


@login_not_required
@require_GET
@sensitive_variables("tokens", "pending", "code")
def callback(request):
    """The provider sends the browser back here with a code (or an error) and the state."""
    pending = oidc.take_pending(request.session, request.GET.get("state"))
    if pending is None:
        return _failed(request, None, "unknown_state", None, status=400)
    cluster = Cluster.objects.filter(pk=pending["cluster"]).first()
    provider = oidc.provider_for(cluster) if cluster else None
    if provider is None:
        return _refused(request, cluster, "not_offered", status=404)
    if is_locked_out(request, _throttle_key(cluster)):
        return _locked_out(request, cluster)
    if request.GET.get("error"):
        return _failed(request, cluster, "provider_error", None, status=400, count=False)
    code = request.GET.get("code", "")
    try:
        with oidc.provider_client(provider) as client:
            config = client.discover()
            tokens = client.redeem_code(config, code, _callback_url(request), pending["verifier"])
            claims = client.verify_id_token(
                config, tokens.id_token, nonce=pending["nonce"], access_token=tokens.access_token
            )
    except SignInRefused as err:
        return _failed(request, cluster, err.reason, err, status=400)
    except (ImageManagerError, InvalidToken) as err:
        return _failed(request, cluster, "provider_unavailable", err, status=502, count=False)
    user = oidc.complete_sign_in(request, provider, claims, tokens)
    if not user.is_active:
        return _failed(request, cluster, "inactive", None, status=403, count=False)
    note_success(request, _throttle_key(cluster))
    login(request, user, backend=BACKEND)
    request.session[oidc.SIGNED_IN_WITH_KEY] = cluster.pk
    remember_cluster(request, cluster)  # the start page opens this cluster's repositories
    return redirect(pending.get("next") or reverse("clusters:home"))


@require_POST
def sign_out(request):
    """Sign out of imgdash; when the user signed in with a cluster whose provider can end
    sessions, on to its end-session page, which sends the browser back to us."""
    cluster_pk = request.session.get(oidc.SIGNED_IN_WITH_KEY)
    end_session_url = _end_session_url(request, cluster_pk) if cluster_pk else None
    cluster = Cluster.objects.filter(pk=cluster_pk).first() if end_session_url else None
    logout(request)
    if end_session_url:
        # A page, not a redirect: CSP's form-action would stop this form's answer from
        # leading to another site. The page moves on by itself (meta refresh) or by its link.
        context = {"cluster": cluster, "end_session_url": end_session_url}
        return render(request, "registration/signing_out.html", context)
    messages.info(request, "You were signed out of imgdash.")
    return redirect("login")


def _end_session_url(request, cluster_pk):
    cluster = Cluster.objects.filter(pk=cluster_pk).first()
    provider = oidc.provider_for(cluster) if cluster else None
    credential = Credential.objects.filter(user=request.user, cluster=cluster).first()
    if provider is None or credential is None:
        return None
    try:
        with oidc.provider_client(provider) as client:
            config = client.discover()
            back = request.build_absolute_uri("/")
            return client.end_session_url(config, credential.token, back)
    except (ImageManagerError, InvalidToken) as err:
        logger.warning("Could not end the session at %s's provider: %s", cluster.slug, err)
        return None


def _callback_url(request):
    return request.build_absolute_uri(reverse("oidc_callback"))


# -- refusals ------------------------------------------------------------------------------

# What happened, in words, and what to do next; the error's own message adds the detail.
REASONS = {
    "unknown_state": (
        "This sign-in was not started here, was already used, or took too long.",
        "Start again with the “Sign in with” button.",
    ),
    "provider_error": (
        "The cluster's sign-in page did not sign you in (cancelled or refused there).",
        "Try again, or use your imgdash account.",
    ),
    "provider_unavailable": (
        "The cluster's sign-in provider could not be reached or did not answer properly.",
        "Try again in a few minutes, use your imgdash account, or ask an imgdash admin.",
    ),
    "not_offered": (
        "Signing in with this cluster is not offered.",
        "Use your imgdash account, or ask an imgdash admin.",
    ),
    "inactive": (
        "Your imgdash account is deactivated.",
        "Ask an imgdash admin.",
    ),
}
TOKEN_REFUSED = (
    "imgdash refused the identity the cluster's sign-in provider sent: it cannot be trusted.",
    "Try again; if it happens again, ask an imgdash admin to check the cluster's sign-in "
    "settings, and use your imgdash account meanwhile.",
)


def _failed(request, cluster, reason, error, *, status, count=True):
    """Log the failed sign-in (reason, never a token), count it against the sign-in
    throttle, and show what happened."""
    detail = error.message if isinstance(error, ImageManagerError) else ""
    if error is not None and not isinstance(error, ImageManagerError):
        detail = "The stored client secret could not be decrypted with the token keys."
    if reason == "provider_error":
        detail = f"The provider answered: {request.GET.get('error', '')[:100]}"
    record_event(
        request,
        "auth.sign_in_failed",
        outcome="failed",
        cluster=cluster,
        target=cluster.slug if cluster else "",
        message=f"Sign-in with the cluster refused: {reason}. {detail}".strip(),
        details={"via": "oidc", "reason": reason},
    )
    if count and cluster is not None and note_failure(request, _throttle_key(cluster)):
        record_lockout_event(
            request, "auth.lockout", target=_throttle_key(cluster), cluster=cluster
        )
        return _locked_out(request, cluster)
    return _refused(request, cluster, reason, detail, status=status)


def _refused(request, cluster, reason, detail="", *, status):
    what, next_step = REASONS.get(reason, TOKEN_REFUSED)
    context = {
        "cluster": cluster,
        "what": what,
        "detail": detail,
        "next_step": next_step,
        "reason": reason,
    }
    return render(request, TEMPLATE, context, status=status)


def _locked_out(request, cluster):
    context = lockout_context(request, _throttle_key(cluster))
    return render(request, "registration/locked_out.html", context, status=429)
