"""A stored credential that changes takes its cached repository list with it."""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from imgdash.clusters.models import Credential
from imgdash.repositories.index import index_key


@receiver(post_save, sender=Credential)
@receiver(post_delete, sender=Credential)
def drop_index_of_changed_credential(sender, instance, **kwargs):
    # Connect, reconnect, stale and disconnect (also by cascade): what the cluster shows this
    # user may have changed, so the next page asks it again.
    cache.delete(index_key(instance.user_id, instance.cluster_id))
