"""Acting on a cluster as a user: their stored credential, a client, connecting, going stale.

No views or responses here (those are in decorators.py): these functions are what the views,
the commands and the demo share.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from imgdash.audit.log import record_event
from imgdash.clusters.models import Credential
from imgdash.imagemanager import ImageManagerClient, describe_token


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
        call_deadline=settings.IMAGEMANAGER_CALL_DEADLINE,
        list_deadline=settings.IMAGEMANAGER_LIST_DEADLINE,
        max_repositories=settings.IMAGEMANAGER_MAX_REPOSITORIES,
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


@sensitive_variables("token", "password")
def connect(user, cluster, *, token="", username="", password=""):
    """Store the user's token for `cluster`: a pasted one, or one signed in for (password used
    once, never stored). The token is proven with one cheap authenticated call first, so a token
    the cluster rejects is never kept. Raises ImageManagerError when the cluster says no.
    """
    if not token:
        with make_client(cluster) as anonymous:
            token = anonymous.sign_in(username, password).id_token
    with make_client(cluster, token) as client:
        client.docker_token()  # no scope: grants nothing, proves the token
    return save_credential(user, cluster, token)


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
    """After the cluster's 401: keep the token but stop using it until the user reconnects.

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
        outcome="refused",
        cluster=credential.cluster,
        target=f"credential {credential.fingerprint}",
        status=getattr(error, "status", None),
        message="The cluster answered 401: token marked stale",
    )
