"""Acting on a cluster as a user: their stored credential, a client, connecting, going stale.

No views or responses here (those are in decorators.py): these functions are what the views,
the commands and the demo share.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from imgdash.audit.log import record_event
from imgdash.clusters.crypto import InvalidToken
from imgdash.clusters.models import Credential
from imgdash.imagemanager import (
    ImageManagerClient,
    ImageManagerError,
    NotFound,
    RateLimited,
    Unauthorized,
    describe_token,
)
from imgdash.imagemanager.errors import SIGN_IN

logger = logging.getLogger("imgdash.clusters")


class NeedsConnection(Exception):
    """The user has no usable token for this cluster; the message says why."""


class UnreadableToken(NeedsConnection):
    """The stored token cannot be decrypted with any key of IMGDASH_TOKEN_KEYS."""

    def __init__(self, message, credential):
        super().__init__(message)
        self.credential = credential


class NeedsSignIn(NeedsConnection):
    """The token came from signing in with the cluster and could not be renewed: the user
    signs in with the cluster again."""

    def __init__(self, message, cluster):
        super().__init__(message)
        self.cluster = cluster


def transport_options(cluster):
    """How every client to `cluster` connects (its API, registry and sign-in provider): TLS as
    an admin registered it, and the timeouts and size cap of the settings."""
    return {
        "verify": cluster.verify_tls,
        "ca_pem": cluster.ca_pem.strip() or None,
        "connect_timeout": settings.IMAGEMANAGER_CONNECT_TIMEOUT,
        "read_timeout": settings.IMAGEMANAGER_READ_TIMEOUT,
        "max_response_bytes": settings.IMAGEMANAGER_MAX_RESPONSE_MB * 1024 * 1024,
    }


def make_client(cluster, token=None):
    """A client for this cluster, configured only from what an admin registered."""
    return ImageManagerClient(
        cluster.api_url,
        token,
        **transport_options(cluster),
        call_deadline=settings.IMAGEMANAGER_CALL_DEADLINE,
        list_deadline=settings.IMAGEMANAGER_LIST_DEADLINE,
        max_repositories=settings.IMAGEMANAGER_MAX_REPOSITORIES,
    )


def credential_for(user, cluster):
    """The user's credential for `cluster`, or None; a credential connected to another
    endpoint than the cluster's current one is deleted (and logged) instead of returned."""
    credential, _ = _bound_credential(user, cluster)
    return credential


def _bound_credential(user, cluster):
    """(credential or None, whether an unbound one was just deleted)."""
    credential = Credential.objects.filter(user=user, cluster=cluster).first()
    if credential is not None and not credential.is_bound_to(cluster):
        _drop_unbound(credential, cluster)
        return None, True
    return credential, False


def credentials_by_cluster(user, clusters):
    """{cluster pk: credential} of the user's credentials for `clusters`, as credential_for."""
    by_pk = {cluster.pk: cluster for cluster in clusters}
    credentials = {}
    for credential in Credential.objects.filter(user=user, cluster__in=list(by_pk)):
        cluster = by_pk[credential.cluster_id]
        if credential.is_bound_to(cluster):
            credentials[cluster.pk] = credential
        else:
            _drop_unbound(credential, cluster)
    return credentials


def _drop_unbound(credential, cluster):
    # Saving a cluster deletes the tokens of its old endpoint at once; one still here means the
    # endpoint was changed without save() (a queryset update, raw SQL): never send it there.
    logger.warning(
        "Credential %s of user %s does not match cluster %s's endpoint: deleted unused",
        credential.fingerprint,
        credential.user_id,
        cluster.slug,
    )
    delete_credential(
        None,
        credential,
        cluster,
        f"{credential.user.get_username()}'s token deleted unused: it was connected to another "
        f"API URL, CA bundle or TLS verification than {cluster.name}'s current one",
        reason="endpoint changed",
    )


def record_credential_deleted(request, credential, cluster, message, *, reason):
    record_event(
        request,
        "credential.disconnect",
        cluster=cluster,
        target=f"credential {credential.fingerprint}",
        message=message,
        details={"user": credential.user.get_username(), "reason": reason},
    )


def delete_credential(request, credential, cluster, message, *, reason):
    """Delete a stored token with its line in the action log."""
    record_credential_deleted(request, credential, cluster, message, reason=reason)
    credential.delete()


def endpoint_changed_notice(cluster):
    """Why a user may find themselves disconnected from `cluster`, or ""."""
    if cluster.endpoint_changed_at is None:
        return ""
    when = cluster.endpoint_changed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"An admin changed {cluster.name}'s address or TLS settings (API URL, CA bundle or "
        f"certificate verification) on {when}: every token stored before then was deleted, "
        "so none is sent to the new address."
    )


def user_client(user, cluster):
    """(client, credential) for the user's own token, or NeedsConnection (UnreadableToken
    when the stored token cannot be decrypted: the caller marks it stale)."""
    credential, dropped = _bound_credential(user, cluster)
    if dropped:
        raise NeedsConnection(
            f"An admin changed {cluster.name}'s address or TLS settings, so your stored token "
            "was deleted rather than sent there. Connect again to continue."
        )
    if credential is None:
        # The connect page says why, when the cluster's endpoint changed (endpoint_changed_notice).
        raise NeedsConnection(f"Connect your {cluster.name} credentials to continue.")
    if credential.is_stale:
        raise NeedsConnection(
            f"{cluster.name} no longer accepts your token (it expired or was revoked). "
            "Reconnect to continue."
        )
    if credential.expires_at is not None:
        credential = _renewed_if_due(user, cluster, credential)
    if credential.is_expired:
        raise NeedsConnection(f"Your token for {cluster.name} has expired. Reconnect to continue.")
    try:
        token = credential.token
    except InvalidToken:
        raise UnreadableToken(
            f"Your stored token for {cluster.name} could not be read (the server's token keys "
            "were changed). Reconnect to continue.",
            credential,
        ) from None
    return make_client(cluster, token), credential


def _renewed_if_due(user, cluster, credential):
    """The credential, renewed first through the cluster's sign-in provider when it is about
    to expire and the user signed in there (NeedsSignIn when the provider refuses)."""
    # Imported here: the sign-in module stores credentials through this one.
    from imgdash.clusters import oidc

    if not oidc.needs_renewal(credential) or not oidc.renewable(user, cluster):
        return credential
    renewed = oidc.renew_credential(user, cluster, credential)
    if renewed is None:
        raise NeedsSignIn(
            f"Your sign-in with {cluster.name} has ended and could not be renewed. "
            f"Sign in with {cluster.name} again to continue.",
            cluster,
        )
    return renewed


@sensitive_variables("token", "password")
def connect(user, cluster, *, token="", username="", password=""):
    """Store the user's token for `cluster`: a pasted one, or one signed in for (password used
    once, never stored). The token is proven with one cheap authenticated call first, so a token
    the cluster rejects is never kept. Raises ImageManagerError when the cluster says no.
    """
    if not token:
        with make_client(cluster) as anonymous:
            try:
                token = anonymous.sign_in(username, password).id_token
            except ImageManagerError as err:
                raise sign_in_failure(err) from None
    with make_client(cluster, token) as client:
        client.docker_token()  # no scope: grants nothing, proves the token
    return save_credential(user, cluster, token)


def sign_in_failure(err):
    """The identity provider's refusal in our own fixed words, by status.

    Its body is never quoted, shown or logged: a provider may echo the password there, in
    forms no redaction can list (percent-encoded, HTML-escaped, …). Failures without an answer
    (unreachable, TLS, timeout) keep the client's message, which holds no body.
    """
    status = err.status
    if status is None:
        return err
    provider = "The cluster's identity provider"
    instead = "or paste an ID token from `cloudctl tokens` instead"
    if isinstance(err, Unauthorized):
        message = (
            f"{provider} rejected the username or password (HTTP {status}). These are the "
            "cluster's own credentials, not imgdash's: check them and try again."
        )
    elif isinstance(err, RateLimited):
        message = (
            f"{provider} is refusing sign-ins for now (HTTP 429): wait a few minutes and try "
            f"again, {instead}."
        )
    elif isinstance(err, NotFound):
        message = (
            f"{provider} was not found at the cluster's address (HTTP 404): ask an imgdash "
            f"admin to check the cluster's API URL, {instead}."
        )
    elif status >= 500:
        message = (
            f"{provider} could not sign you in (HTTP {status}): it is down or failing. Try "
            f"again later, {instead}."
        )
    else:
        message = (
            f"{provider} could not sign you in: it answered HTTP {status}, which imgdash "
            f"cannot use. Ask an imgdash admin to check the cluster's API URL, {instead}."
        )
    return type(err)(message, operation=SIGN_IN, status=status)


def is_wrong_password(err):
    """True when the identity provider refused the username or password themselves."""
    return isinstance(err, Unauthorized) and err.operation == SIGN_IN


@sensitive_variables("token")
def save_credential(user, cluster, token):
    subject, expires_at = describe_token(token)
    credential = credential_for(user, cluster) or Credential(user=user, cluster=cluster)
    credential.cluster = cluster  # bound to the endpoint the token was proven against
    credential.set_token(token)
    credential.subject = subject
    credential.expires_at = expires_at
    credential.stale_since = None
    credential.connected_at = datetime.now(UTC)
    credential.save()
    return credential


def mark_stale(request, credential, error, message="The cluster answered 401: token marked stale"):
    """After the cluster's 401 (or a token no key can decrypt, `error` None): keep the token
    but stop using it until the user reconnects.

    `credential` may be None when the user disconnected meanwhile: nothing is left to mark.
    """
    if credential is None:
        return
    if credential.stale_since is None:
        credential.stale_since = datetime.now(UTC)
        credential.save(update_fields=["stale_since"])
    record_event(
        request,
        "credential.stale",
        outcome="refused" if error is not None else "failed",
        cluster=credential.cluster,
        target=f"credential {credential.fingerprint}",
        status=getattr(error, "status", None),
        message=message,
    )
