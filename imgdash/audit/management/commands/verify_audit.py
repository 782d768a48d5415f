"""Walk the action log's hash chain and say whether any row was edited, removed or inserted."""

from django.core.management.base import BaseCommand, CommandError

from imgdash.audit.chain import CONTENT_FIELDS, verify
from imgdash.audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the action log's hash chain. Exits 1 naming the first row that does not match. "
        "Removing the newest rows leaves no gap in the chain: keep the printed head hash "
        "somewhere else and pass it with --expect-head next time to catch that too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            default="",
            metavar="HASH",
            help="a head hash printed by an earlier run: it must still be in the chain",
        )

    def handle(self, *args, expect_head="", **options):
        rows = (
            AuditEvent.objects.order_by("id")
            .values("id", "hash", *CONTENT_FIELDS)
            .iterator(chunk_size=2000)
        )
        try:
            report = verify(rows, expect_head=expect_head)
        finally:
            rows.close()  # stopping at a break leaves the cursor open otherwise
        if report.first_break is not None:
            raise CommandError(
                f"{report.first_break}. Checked {report.checked} rows; the action log was "
                "changed outside imgdash."
            )
        if expect_head and not report.found_head:
            raise CommandError(
                f"Checked {report.checked} rows: the chain is intact, but the expected head "
                f"{expect_head} is not in it: rows at the end were removed (or the hash is "
                "from another database)."
            )
        if report.checked == 0:
            self.stdout.write("Checked 0 rows: the action log is empty.")
            return
        self.stdout.write(f"Checked {report.checked} rows: the chain is intact.")
        self.stdout.write(f"Head: {report.head}")
