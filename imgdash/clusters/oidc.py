"""Signing in with a cluster's OpenID provider: the pending sign-in in the session, the user
made or found from the ID token, their roles from its groups, their credential, renewal.

The HTTP and the token checks are imagemanager.oidc's; this module decides what they mean
for imgdash's users. A user is found by the provider's issuer and `sub` (ClusterIdentity),
never by a matching username, so a sign-in can never take over a local account.
"""

import logging
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from imgdash.accounts.roles import grant_role
from imgdash.audit.log import record_event
from imgdash.clusters import locks
from imgdash.clusters.crypto import InvalidToken
from imgdash.clusters.models import ClusterIdentity, Credential, SignInProvider
from imgdash.clusters.services import save_credential, transport_options
from imgdash.imagemanager import ImageManagerError
from imgdash.imagemanager.oidc import OpenIDClient

logger = logging.getLogger("imgdash.clusters")

PENDING_KEY = "oidc_pending"
SIGNED_IN_WITH_KEY = "oidc_signed_in_with"
# How long a started sign-in may take on the provider's page, and how many may be pending
# in one session (one per open tab, say).
PENDING_TTL = 10 * 60
MAX_PENDING = 5


def enabled_providers():
    return list(
        SignInProvider.objects.filter(enabled=True)
        .select_related("cluster")
        .order_by("cluster__name")
    )


def provider_for(cluster):
    """The cluster's enabled sign-in provider, or None."""
    return SignInProvider.objects.filter(cluster=cluster, enabled=True).first()


def provider_client(provider):
    """An OpenIDClient for the provider, reached like the cluster's API (its CA, timeouts)."""
    cluster = provider.cluster
    return OpenIDClient(
        provider.effective_discovery_url,
        provider.client_id,
        provider.client_secret,
        **{**transport_options(cluster), "max_response_bytes": 1024 * 1024},
        call_deadline=settings.IMAGEMANAGER_CALL_DEADLINE,
    )


# -- the pending sign-in -----------------------------------------------------------------


def remember_pending(session, cluster, request_, next_url):
    """Keep the state, nonce and PKCE verifier of a started sign-in until its callback."""
    now = time.time()
    pending = {
        state: entry
        for state, entry in session.get(PENDING_KEY, {}).items()
        if entry.get("at", 0) > now - PENDING_TTL
    }
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda state: pending[state]["at"]))
    pending[request_.state] = {
        "cluster": cluster.pk,
        "nonce": request_.nonce,
        "verifier": request_.code_verifier,
        "next": next_url,
        "at": now,
    }
    session[PENDING_KEY] = pending


def take_pending(session, state):
    """The pending sign-in for `state`, removed so it can be used once; None when there is
    none (never started here, used already, or older than PENDING_TTL)."""
    pending = session.get(PENDING_KEY, {})
    if not isinstance(state, str) or state not in pending:
        return None
    entry = pending.pop(state)
    session[PENDING_KEY] = pending
    if entry.get("at", 0) <= time.time() - PENDING_TTL:
        return None
    return entry


# -- the user ----------------------------------------------------------------------------


@sensitive_variables("tokens")
def complete_sign_in(request, provider, claims, tokens):
    """The user for verified `claims` (made on first sign-in), their roles applied, the ID
    token stored as their credential and the refresh token kept."""
    cluster = provider.cluster
    with transaction.atomic():
        identity = (
            ClusterIdentity.objects.select_related("user")
            .filter(issuer=claims["iss"], subject=claims["sub"])
            .first()
        )
        if identity is None:
            user = _new_user(claims)
            identity = ClusterIdentity(user=user, cluster=cluster, issuer=claims["iss"])
            identity.subject = claims["sub"]
            created = True
        else:
            user, created = identity.user, False
            if not user.is_active:
                return user  # deactivated: no token is stored for them, no role granted
            _update_profile(user, claims)
        identity.cluster = cluster
        identity.set_refresh_token(tokens.refresh_token)
        identity.last_sign_in_at = datetime.now(UTC)
        identity.save()
        granted = apply_roles(user, claims)
        credential = save_credential(user, cluster, tokens.id_token)
    record_event(
        request,
        "credential.connect",
        actor=user,
        cluster=cluster,
        target=f"credential {credential.fingerprint}",
        message=f"Token from signing in with {cluster.name}",
        details={"via": "sign-in", "subject": credential.subject},
    )
    if created or granted:
        record_event(
            request,
            "auth.oidc_user" if created else "auth.oidc_roles",
            actor=user,
            cluster=cluster,
            target=user.get_username(),
            message=(
                f"Made from {cluster.name}'s sign-in (sub {claims['sub']})"
                if created
                else "Roles granted from the cluster's groups"
            ),
            details={"roles_granted": sorted(granted), "groups": _groups(claims)},
        )
    return user


def _new_user(claims):
    model = get_user_model()
    base = _username_from(claims)
    for attempt in range(1, 1000):
        username = base if attempt == 1 else f"{base[:140]}-{attempt}"
        if model.objects.filter(username=username).exists():
            continue
        try:
            with transaction.atomic():
                user = model.objects.create_user(username)
        except IntegrityError:  # taken meanwhile by another sign-in
            continue
        user.set_unusable_password()
        _update_profile(user, claims, save=False)
        user.save()
        return user
    raise ValueError("no free username")  # a thousand users of one name: not a real case


def _username_from(claims):
    for name in ("preferred_username", "email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            cleaned = "".join(ch for ch in value.strip() if ch.isalnum() or ch in "@.+-_")
            if cleaned:
                return cleaned[:150]
    return "cluster-user"


def _update_profile(user, claims, save=True):
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    first, _, last = name.strip().partition(" ")
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    user.first_name, user.last_name = first[:150], last[:150]
    user.email = email[:254]
    if save:
        user.save(update_fields=["first_name", "last_name", "email"])


def _groups(claims):
    groups = claims.get("groups")
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return []
    return [group for group in groups if isinstance(group, str)]


def roles_for(claims):
    """The roles IMGDASH_OIDC_ROLE_MAP gives the token's groups, else the default role."""
    roles = set()
    for group in _groups(claims):
        roles |= settings.OIDC_ROLE_MAP.get(group, set())
    if not roles and settings.OIDC_DEFAULT_ROLE:
        roles.add(settings.OIDC_DEFAULT_ROLE)
    return roles


def apply_roles(user, claims):
    """Grant the mapped roles the user lacks; the roles they hold are never removed here (an
    admin may have granted them by hand). Returns the roles granted now."""
    missing = roles_for(claims) - set(user.groups.values_list("name", flat=True))
    for role in missing:
        grant_role(user, role)
    return missing


# -- renewal -----------------------------------------------------------------------------


def needs_renewal(credential):
    if credential.expires_at is None:
        return False
    renew_at = credential.expires_at - timedelta(seconds=settings.OIDC_RENEW_BEFORE)
    return datetime.now(UTC) >= renew_at


# How long a request waits for another one renewing the same user's token, in seconds.
RENEWAL_PATIENCE = 15


def renew_credential(user, cluster, credential):
    """A renewed credential through the user's refresh token, or None when there is no
    refresh token or the provider refused (the user then signs in again). Logged either way
    as credential.refresh.

    One renewal per user and cluster at a time, across workers and instances: the provider
    rotates refresh tokens, so two requests renewing at once with the same one would see the
    second refused and sign the user out. A request that waited finds the credential renewed
    and uses it; one that waited in vain goes on with the current token while it is valid.
    """
    key = f"oidc-renewal:{cluster.pk}:{user.pk}"
    deadline = time.monotonic() + RENEWAL_PATIENCE
    while not locks.claim(key, timeout=RENEWAL_PATIENCE * 2):
        if time.monotonic() > deadline:
            return None if credential.is_expired else credential
        time.sleep(0.05)
    try:
        current = Credential.objects.filter(user=user, cluster=cluster).first()
        if current is None:
            return None  # disconnected meanwhile: not ours to bring back
        if not needs_renewal(current):
            return current  # renewed by the request we waited for
        return _renew(user, cluster, credential)
    finally:
        locks.release(key)


@sensitive_variables("refresh_token", "tokens")
def _renew(user, cluster, credential):
    identity = ClusterIdentity.objects.filter(user=user, cluster=cluster).first()
    provider = provider_for(cluster)
    if identity is None or provider is None or not identity.refresh_token_encrypted:
        return None
    try:
        refresh_token = identity.refresh_token
        with provider_client(provider) as client:
            config = client.discover()
            tokens = client.refresh(config, refresh_token)
            client.verify_id_token(config, tokens.id_token, nonce=None)
    except (ImageManagerError, InvalidToken) as err:
        identity.set_refresh_token("")
        identity.save(update_fields=["refresh_token_encrypted"])
        _record_refresh(user, cluster, credential, "failed", getattr(err, "message", "unreadable"))
        return None
    identity.set_refresh_token(tokens.refresh_token or refresh_token)
    identity.save(update_fields=["refresh_token_encrypted"])
    renewed = save_credential(user, cluster, tokens.id_token)
    _record_refresh(user, cluster, renewed, "ok", "Renewed with the refresh token")
    return renewed


def _record_refresh(user, cluster, credential, outcome, message):
    record_event(
        None,
        "credential.refresh",
        actor=user,
        outcome=outcome,
        cluster=cluster,
        target=f"credential {credential.fingerprint}",
        message=message,
    )


def renewable(user, cluster):
    """Whether the user holds a refresh token from signing in with `cluster`."""
    return (
        ClusterIdentity.objects.filter(user=user, cluster=cluster)
        .exclude(refresh_token_encrypted="")
        .exists()
    )
