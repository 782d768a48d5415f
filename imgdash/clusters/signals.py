from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from imgdash.audit.log import record_event
from imgdash.clusters.models import Credential


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
