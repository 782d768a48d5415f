from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from imgdash.audit.chain import GENESIS, event_hash, link
from imgdash.audit.keys import key_id
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


def legacy_rows(count, prev_hash=GENESIS):
    """Rows as imgdash wrote them before the chain was keyed: no key id, plain SHA-256."""
    rows = [
        AuditEvent(
            created_at=datetime.now(UTC),
            action="auth.sign_in",
            outcome="ok",
            target=f"legacy {n}",
        )
        for n in range(count)
    ]
    for row in rows:
        row.prev_hash = prev_hash
        row.hash = prev_hash = event_hash(row)
    AuditEvent.objects.bulk_create(rows)
    return rows


def test_rows_name_their_key_by_an_id_that_does_not_reveal_it(db, settings):
    event = record_event(None, "auth.sign_in", target="alice")
    key = settings.AUDIT_KEYS[0]
    assert event.key_id == key_id(key) and len(event.key_id) == 16
    stored = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert not any(key in str(value) for value in stored.values())


def test_a_new_key_signs_while_the_old_one_still_verifies(db, settings):
    old = settings.AUDIT_KEYS[0]
    before = record_event(None, "auth.sign_in")
    settings.AUDIT_KEYS = ["n" * 43, old]
    after = record_event(None, "auth.sign_out")
    assert (before.key_id, after.key_id) == (key_id(old), key_id("n" * 43))
    assert "Checked 2 rows: the chain is intact." in verify_audit()
    settings.AUDIT_KEYS = ["n" * 43]  # the old key dropped while its rows are still there
    with pytest.raises(CommandError, match=rf"Row 1 .*signed by key id {before.key_id}, which is"):
        verify_audit()


def test_a_row_signed_with_another_key_is_caught(db, settings):
    record_event(None, "auth.sign_in")
    settings.AUDIT_KEYS = ["x" * 43]
    forged = record_event(None, "auth.sign_out")
    settings.AUDIT_KEYS = ["y" * 43, "z" * 43]  # neither signed anything
    with pytest.raises(CommandError, match=r"Row 1 .*none of IMGDASH_AUDIT_KEY's keys"):
        verify_audit()
    assert forged.key_id == key_id("x" * 43)


def test_rows_chained_before_the_key_verify_as_plain_sha256_and_are_counted(db):
    old = legacy_rows(3)
    record_event(None, "auth.sign_out")
    output = verify_audit()
    assert "Checked 4 rows: the chain is intact." in output
    assert "3 of them were chained before the chain was keyed (plain SHA-256)" in output
    assert AuditEvent.objects.order_by("id")[3].prev_hash == old[-1].hash


def test_an_unkeyed_row_after_keyed_ones_is_caught(db):
    first = record_event(None, "auth.sign_in")
    legacy_rows(1, prev_hash=first.hash)
    with pytest.raises(CommandError, match=r"Row 2 .*an unkeyed row after keyed ones"):
        verify_audit()


def test_a_log_of_unkeyed_rows_alone_proves_nothing_until_anchored(db, settings, tmp_path):
    legacy_rows(3)
    with pytest.raises(CommandError, match=r"none of them is signed .* anchor_audit"):
        verify_audit()
    settings.AUDIT_ANCHOR = f"file:{tmp_path / 'anchors'}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("anchor_audit", stdout=StringIO())
    output = verify_audit()
    assert "Checked 3 rows: the chain is intact." in output
    assert "1 match their rows" in output
