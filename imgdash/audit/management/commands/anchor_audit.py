"""Write the action log's head to the anchor sink now (cron, a rotation, an upgrade)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from imgdash.audit import anchors
from imgdash.audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Anchor the action log's newest row outside the database now (IMGDASH_AUDIT_ANCHOR). "
        "imgdash anchors by itself as rows are written; run this from cron so a quiet log's "
        "last rows are anchored too, after rotating IMGDASH_AUDIT_KEY, and once after upgrading "
        "to the keyed chain to pin the rows written before it."
    )

    def handle(self, *args, **options):
        kind, path = anchors.sink()
        if kind == "none":
            raise CommandError("IMGDASH_AUDIT_ANCHOR is none: there is nowhere to anchor to.")
        head = AuditEvent.objects.order_by("-id").values("id", "hash", "created_at").first()
        if head is None:
            self.stdout.write("The action log is empty: nothing to anchor.")
            return
        with transaction.atomic():
            anchors.anchor(head["id"], head["hash"], head["created_at"])
        where = path if kind == "file" else kind
        self.stdout.write(f"Anchored row id {head['id']} ({head['hash']}) to {where}.")
