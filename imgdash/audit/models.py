"""The action log: one append-only table whose rows form a keyed hash chain.

Rows are written only by `imgdash.audit.log`; nothing in the application updates or deletes
them. The model and its QuerySet refuse to, the admin is read-only, and triggers (migrations
0002 and 0003, PostgreSQL and SQLite) reject UPDATE and DELETE whoever sends them.
"""

from django.conf import settings
from django.db import models

from imgdash.audit.actions import INTENT, OUTCOMES, action_label

# Reading everyone's rows (not just one's own): granted to the Auditor role, and to admins.
READ_ALL_PERMISSION = "audit.view_auditevent"


class AppendOnlyError(Exception):
    """Someone tried to change or remove an action-log row."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Action-log rows are never updated.")

    def delete(self):
        raise AppendOnlyError("Action-log rows are never deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Action-log rows are never updated.")

    def _raw_delete(self, using):
        raise AppendOnlyError("Action-log rows are never deleted.")


def _reference_that_never_changes_the_row(model):
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )


class AuditEvent(models.Model):
    # Who and what are also kept as text, so a row stays readable after the user or cluster is
    # gone. The foreign keys have no database constraint and do nothing on delete: a cascade
    # or SET NULL would be an UPDATE of the log (and break its hash chain).
    created_at = models.DateTimeField(db_index=True)
    actor = _reference_that_never_changes_the_row(settings.AUTH_USER_MODEL)
    actor_username = models.CharField(max_length=150, blank=True)
    cluster = _reference_that_never_changes_the_row("clusters.Cluster")
    cluster_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=16, choices=list(OUTCOMES.items()), db_index=True)
    status = models.PositiveSmallIntegerField("upstream status", null=True, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    intent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcomes",
    )
    # Text, not inet: the hash is computed over exactly what is stored.
    ip = models.CharField("client IP", max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which IMGDASH_AUDIT_KEY signed the row (chain.py); empty on rows chained before the
    # chain was keyed, which verify as plain SHA-256.
    key_id = models.CharField(max_length=16, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "action-log event"
        verbose_name_plural = "action log"

    def __str__(self):
        return f"#{self.pk} {self.action} {self.outcome} {self.target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Action-log rows are never updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Action-log rows are never deleted.")

    @property
    def action_label(self):
        return action_label(self.action)

    @property
    def is_intent(self):
        return self.outcome == INTENT


class AuditAnchor(models.Model):
    """A note that the head was anchored outside the database (anchors.py), kept to decide
    when the next anchor is due. Not evidence: verify_audit reads the anchors themselves."""

    event_id = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "action-log anchor"

    def __str__(self):
        return f"anchor of #{self.event_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Anchor notes are never updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Anchor notes are never deleted.")
