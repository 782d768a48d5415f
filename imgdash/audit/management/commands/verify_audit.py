"""Walk the action log's keyed chain and check it against the anchors written outside the
database: say whether any row was edited, removed, inserted or forged."""

from django.core.management.base import BaseCommand, CommandError

from imgdash.audit import anchors
from imgdash.audit.chain import CONTENT_FIELDS, verify
from imgdash.audit.models import AuditEvent

CHUNK_ROWS = 2000


def rows_oldest_first(chunk_rows=CHUNK_ROWS):
    """Every row, oldest first, one short query per chunk (no cursor held while checking)."""
    last_id = 0
    while True:
        chunk = list(
            AuditEvent.objects.filter(id__gt=last_id)
            .order_by("id")
            .values("id", "hash", *CONTENT_FIELDS)[:chunk_rows]
        )
        yield from chunk
        if len(chunk) < chunk_rows:
            return
        last_id = chunk[-1]["id"]


class Command(BaseCommand):
    help = (
        "Check the action log's keyed hash chain and its anchors. Exits 1 naming the first row "
        "that does not match, or an anchored row that is missing or different. Reads the anchor "
        "file IMGDASH_AUDIT_ANCHOR names, or the files given with --anchors (a collected copy "
        "of syslog or stdout anchors)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            default="",
            metavar="HASH",
            help="a head hash printed by an earlier run: it must still be in the chain",
        )
        parser.add_argument(
            "--anchors",
            action="append",
            default=[],
            metavar="FILE",
            help="read anchors from FILE instead of the configured anchor file (repeatable; "
            "lines without an anchor are skipped, so a syslog or collector file will do)",
        )

    def _anchors(self, files):
        kind, path = anchors.sink()
        if not files and kind == "file" and path.exists():
            files = [path]
        try:
            found = [anchor for name in files for anchor in anchors.read(name)]
        except anchors.AnchorFileError as error:
            raise CommandError(str(error)) from None
        if files:
            note = f"{len(found)} anchors read from {', '.join(map(str, files))}"
        elif kind in ("syslog", "stdout"):
            note = (
                f"no anchors read: they go to {kind}; pass a collected copy with --anchors FILE "
                "to check the log against them"
            )
        else:
            note = "no anchors read"
        return found, note

    def handle(self, *args, expect_head="", anchors=(), **options):
        found, note = self._anchors(anchors)
        report = verify(rows_oldest_first(), expect_head=expect_head, anchors=found)
        if report.first_break is not None:
            raise CommandError(
                f"{report.first_break}. Checked {report.checked} rows; the action log was "
                "changed outside imgdash."
            )
        if report.missing_anchors:
            newest = report.missing_anchors[-1]
            if report.checked == 0:
                raise CommandError(
                    f"The action log is empty, but {len(report.missing_anchors)} anchors name "
                    f"rows in it (the newest: row id {newest.id} of {newest.time}, anchored at "
                    f"{newest.anchored_at}): it was emptied outside imgdash."
                )
            first = report.missing_anchors[0]
            raise CommandError(
                f"Checked {report.checked} rows: the chain is intact, but "
                f"{len(report.missing_anchors)} anchored rows are not in it (row id {first.id} "
                f"of {first.time}, anchored at {first.anchored_at}, {first.source}); the log "
                f"ends at row id {report.head_id}: rows were removed outside imgdash."
            )
        if expect_head and not report.found_head:
            raise CommandError(
                f"Checked {report.checked} rows: the chain is intact, but the expected head "
                f"{expect_head} is not in it: rows at the end were removed (or the hash is "
                "from another database)."
            )
        if report.checked and not report.keyed and not report.anchors_matched:
            raise CommandError(
                f"Checked {report.checked} rows: none of them is signed with an IMGDASH_AUDIT_KEY "
                "key and no anchor pins them, so nothing shows they were not rewritten. If "
                "imgdash has written no row since the chain was keyed, run "
                "`python manage.py anchor_audit` once to pin them."
            )
        if report.checked == 0:
            self.stdout.write("Checked 0 rows: the action log is empty.")
            return
        self.stdout.write(f"Checked {report.checked} rows: the chain is intact.")
        if report.legacy:
            self.stdout.write(
                f"{report.legacy} of them were chained before the chain was keyed (plain "
                "SHA-256); the keyed rows and anchors after them pin them."
            )
        if report.anchors_matched:
            note += f"; {report.anchors_matched} match their rows"
        self.stdout.write(f"Anchors: {note}.")
        self.stdout.write(f"Head: {report.head}")
