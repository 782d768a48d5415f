from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from imgdash.clusters.models import Credential


@receiver(post_save, sender=get_user_model())
def drop_credentials_of_inactive_users(sender, instance, **kwargs):
    # A deactivated person must not keep acting on clusters through a stored token.
    if not instance.is_active:
        Credential.objects.filter(user=instance).delete()
