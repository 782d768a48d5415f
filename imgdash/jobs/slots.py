"""A few slots per cluster for requests in flight, shared by every job and worker.

    number = claim_slot(cluster_id, "delete", limit=2, holder="job7-run1-0", lease=60)
    try: ...  # at most `limit` holders per cluster and purpose get here at once
    finally: release_slot(cluster_id, "delete", number, "job7-run1-0")

The slots live in the database, not the cache: workers on several machines share the
database (their queue is there), while the default file cache is one machine's. A slot is a
row; inserting it is the claim, and the unique constraint makes the claim atomic on SQLite and
PostgreSQL alike. A held slot's lease is extended by its job's heartbeat; one whose worker died
is free again once its lease has run out.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from imgdash.jobs.models import ClusterSlot


def claim_slot(cluster_id, purpose, *, limit, holder, lease):
    """The number of the slot claimed for `holder`, or None when all `limit` are held."""
    now = timezone.now()
    ClusterSlot.objects.filter(cluster_id=cluster_id, purpose=purpose, expires_at__lt=now).delete()
    for number in range(limit):
        try:
            with transaction.atomic():
                ClusterSlot.objects.create(
                    cluster_id=cluster_id,
                    purpose=purpose,
                    number=number,
                    holder=holder,
                    expires_at=now + timedelta(seconds=lease),
                )
        except IntegrityError:
            continue
        return number
    return None


def release_slot(cluster_id, purpose, number, holder):
    ClusterSlot.objects.filter(
        cluster_id=cluster_id, purpose=purpose, number=number, holder=holder
    ).delete()


def extend_slots(holder_prefix, lease):
    """Push back the lease of every slot whose holder starts with `holder_prefix`."""
    ClusterSlot.objects.filter(holder__startswith=holder_prefix).update(
        expires_at=timezone.now() + timedelta(seconds=lease)
    )


def release_slots(holder_prefix):
    ClusterSlot.objects.filter(holder__startswith=holder_prefix).delete()


def held_slots(cluster_id, purpose):
    return ClusterSlot.objects.filter(
        cluster_id=cluster_id, purpose=purpose, expires_at__gte=timezone.now()
    ).count()
