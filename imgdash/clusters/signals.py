from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from imgdash.audit.log import record_event
from imgdash.clusters.changes import change_source, changed_facts, cluster_facts
from imgdash.clusters.models import Cluster, Credential
from imgdash.clusters.services import delete_credential, record_credential_deleted


def drop_credentials(user, reason):
    """Delete a user's stored tokens, each with its line in the action log."""
    for credential in Credential.objects.filter(user=user).select_related("cluster"):
        record_event(
            None,
            "credential.disconnect",
            cluster=credential.cluster,
            target=f"credential {credential.fingerprint}",
            message=f"{user.get_username()} {reason}: token deleted",
        )
        credential.delete()


@receiver(post_save, sender=get_user_model())
def drop_credentials_of_inactive_users(sender, instance, **kwargs):
    # A deactivated person must not keep acting on clusters through a stored token.
    if not instance.is_active:
        drop_credentials(instance, "was deactivated")


@receiver(pre_delete, sender=get_user_model())
def drop_credentials_of_deleted_users(sender, instance, **kwargs):
    drop_credentials(instance, "was deleted")


# --- Clusters: every registration, change and deletion is logged, old -> new ----------------


@receiver(pre_save, sender=Cluster)
def remember_cluster_before_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    before = Cluster.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._facts_before = cluster_facts(before) if before else None
    if before is not None and before.endpoint_fingerprint != instance.endpoint_fingerprint:
        instance.endpoint_changed_at = datetime.now(UTC)


@receiver(post_save, sender=Cluster)
def log_cluster_save(sender, instance, created, raw=False, **kwargs):
    """Log the registration or change, and delete every token connected to another endpoint.

    The deletion compares each credential with the endpoint as saved now, not with the one
    before: it also clears tokens left behind by a change that bypassed save().
    """
    if raw:
        return
    request, via = change_source()
    before = None if created else getattr(instance, "_facts_before", None)
    changes = changed_facts(before, cluster_facts(instance))
    unbound = list(
        instance.credentials.exclude(endpoint_fingerprint=instance.endpoint_fingerprint)
        .select_related("user")
        .order_by("user__username")
    )
    if not changes and not unbound:
        return
    details = {"changes": changes, "via": via}
    if created:
        action, message = "cluster.create", f"Registered {instance.name} at {instance.api_url}"
    else:
        action, message = "cluster.update", f"Changed {', '.join(changes) or 'nothing'}"
    if unbound:
        details.update(_deleted_credentials(unbound))
        message += f"; {len(unbound)} stored token(s) deleted: the endpoint changed"
    record_event(
        request,
        action,
        cluster=instance,
        target=f"cluster {instance.slug}",
        message=f"{message} (via {via})",
        details=details,
    )
    for credential in unbound:
        delete_credential(
            request,
            credential,
            instance,
            f"{credential.user.get_username()}'s token deleted: {instance.name}'s API URL, "
            "CA bundle or TLS verification changed since it was connected",
            reason="endpoint changed",
        )


@receiver(pre_delete, sender=Cluster)
def log_cluster_delete(sender, instance, **kwargs):
    """Log the deletion with the tokens that go with it (by cascade), before they are gone."""
    request, via = change_source()
    credentials = list(instance.credentials.select_related("user").order_by("user__username"))
    record_event(
        request,
        "cluster.delete",
        cluster=instance,
        target=f"cluster {instance.slug}",
        message=f"Deleted {instance.name}; {len(credentials)} stored token(s) deleted with it "
        f"(via {via})",
        details={"old": cluster_facts(instance), "via": via, **_deleted_credentials(credentials)},
    )
    for credential in credentials:
        # Deleted by the cascade that follows this signal.
        record_credential_deleted(
            request,
            credential,
            instance,
            f"{credential.user.get_username()}'s token deleted with cluster {instance.name}",
            reason="cluster deleted",
        )


def _deleted_credentials(credentials):
    return {
        "credentials_deleted": len(credentials),
        "users": [credential.user.get_username() for credential in credentials],
    }
