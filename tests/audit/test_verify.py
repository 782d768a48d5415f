from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imgdash.audit.chain import link
from imgdash.audit.log import record_event
from imgdash.audit.models import AuditEvent


def verify_audit(*args):
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_it_reports_an_empty_log(db):
    assert verify_audit() == "Checked 0 rows: the action log is empty.\n"


def test_it_passes_an_intact_chain(events):
    output = verify_audit()
    assert "Checked 5 rows: the chain is intact." in output
    assert f"Head: {events[-1].hash}" in output


def test_it_catches_an_edited_row(events, tamper):
    tamper("UPDATE {table} SET target = 'credential ff' WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError) as caught:
        verify_audit()
    assert str(caught.value).startswith(
        f"Row 3 (id {events[2].pk}, {events[2].created_at:%Y-%m-%dT%H:%M:%S.%fZ}): "
        "hash does not match its content"
    )


def test_it_catches_an_edited_row_whose_hash_was_recomputed(events, tamper):
    forged = AuditEvent.objects.get(pk=events[2].pk)
    forged.target = "credential ff"
    link([forged], prev_hash=forged.prev_hash)
    tamper(
        "UPDATE {table} SET target = %s, hash = %s WHERE id = %s",
        [forged.target, forged.hash, forged.pk],
    )
    with pytest.raises(
        CommandError,
        match=rf"Row 4 \(id {events[3].pk}, .*prev_hash does not "
        rf"match row 3 \(id {events[2].pk}\)",
    ):
        verify_audit()


def test_it_catches_a_removed_row(events, tamper):
    tamper("DELETE FROM {table} WHERE id = %s", [events[1].pk])
    with pytest.raises(
        CommandError,
        match=rf"Row 2 \(id {events[2].pk}, .*prev_hash does not "
        rf"match row 1 \(id {events[0].pk}\): a row was "
        "removed or inserted",
    ):
        verify_audit()


def test_it_catches_removed_first_rows(events, tamper):
    tamper("DELETE FROM {table} WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match=r"Row 1 .*not the start of the chain"):
        verify_audit()


def test_it_catches_an_inserted_row(db):
    first = record_event(None, "auth.sign_in", target="alice")
    # Rows 10 and 20 after it, leaving room for a forgery in between.
    later = [
        AuditEvent(
            id=first.pk + gap,
            created_at=first.created_at,
            action="auth.sign_out",
            outcome="ok",
            target=f"row {gap}",
        )
        for gap in (10, 20)
    ]
    link(later, prev_hash=first.hash)
    AuditEvent.objects.bulk_create(later)
    assert "Checked 3 rows" in verify_audit()

    forged = AuditEvent(
        id=first.pk + 15,
        created_at=first.created_at,
        action="repository.delete",
        outcome="ok",
        target="ns/covered-up",
    )
    link([forged], prev_hash=later[0].hash)  # a perfectly hashed row claiming its place
    AuditEvent.objects.bulk_create([forged])
    with pytest.raises(
        CommandError,
        match=rf"Row 4 \(id {later[1].pk}, .*prev_hash does not "
        rf"match row 3 \(id {forged.pk}\)",
    ):
        verify_audit()


def test_it_catches_a_row_appended_with_a_wrong_link(events):
    forged = AuditEvent(created_at=events[-1].created_at, action="auth.sign_in", outcome="ok")
    link([forged], prev_hash=events[0].hash)
    AuditEvent.objects.bulk_create([forged])
    with pytest.raises(CommandError, match=r"Row 6 .*prev_hash does not match row 5"):
        verify_audit()


def test_it_catches_removed_newest_rows_against_a_known_head(events, tamper):
    head = events[-1].hash
    assert "intact" in verify_audit("--expect-head", head)
    tamper("DELETE FROM {table} WHERE id = %s", [events[-1].pk])
    assert "Checked 4 rows: the chain is intact." in verify_audit()  # invisible without the head
    with pytest.raises(CommandError, match=r"expected head .* is not in it"):
        verify_audit("--expect-head", head)


def test_it_exits_non_zero_from_the_command_line(events, tamper):
    tamper("UPDATE {table} SET message = 'nothing to see' WHERE id = %s", [events[0].pk])
    with pytest.raises(SystemExit) as exited:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "verify_audit"])
    assert exited.value.code == 1
