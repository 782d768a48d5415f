import json
import os
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from imgdash.audit import anchors
from imgdash.audit.log import record_event
from imgdash.audit.models import AuditAnchor, AuditEvent


@pytest.fixture
def anchor_file(tmp_path, settings):
    path = tmp_path / "anchors" / "audit-anchors"
    settings.AUDIT_ANCHOR = f"file:{path}"
    settings.AUDIT_ANCHOR_ROWS = 5
    settings.AUDIT_ANCHOR_MINUTES = 10
    return path


@pytest.fixture
def committed(transactional_db):
    """Real commits: anchors are sent when their row commits."""


def anchored_ids(path):
    return [anchor.id for anchor in anchors.read(path)]


def write_rows(count):
    return [record_event(None, "repository.delete", target=f"ns/r{n}") for n in range(count)]


def verify_audit(*args):
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_it_anchors_the_first_row_and_then_every_n_rows(db, anchor_file, committed):
    rows = write_rows(12)
    assert anchored_ids(anchor_file) == [rows[0].pk, rows[5].pk, rows[10].pk]
    line = anchor_file.read_text().splitlines()[1]
    assert line.startswith("imgdash-audit-anchor {")
    record = json.loads(line.split(" ", 1)[1])
    assert (record["id"], record["hash"]) == (rows[5].pk, rows[5].hash)
    assert record["time"] == rows[5].created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert anchor_file.stat().st_mode & 0o777 == 0o600


def test_it_anchors_the_first_row_written_minutes_after_the_last_anchor(db, anchor_file, committed):
    first = record_event(None, "auth.sign_in")
    quiet = record_event(None, "auth.sign_in")  # 1 row after the anchor, within 10 minutes
    AuditAnchor.objects.create(  # as if the first anchor had been written 11 minutes ago
        event_id=first.pk, hash=first.hash, created_at=datetime.now(UTC) - timedelta(minutes=11)
    )
    late = record_event(None, "auth.sign_in")
    soon = record_event(None, "auth.sign_out")
    assert anchored_ids(anchor_file) == [first.pk, late.pk]
    assert quiet.pk not in anchored_ids(anchor_file) and soon.pk not in anchored_ids(anchor_file)


def test_it_does_not_trust_a_note_from_the_future_to_hold_anchors_back(db, anchor_file, committed):
    AuditAnchor.objects.create(
        event_id=10**12, hash="0" * 64, created_at=datetime.now(UTC) + timedelta(days=365)
    )
    event = record_event(None, "auth.sign_in")
    assert anchored_ids(anchor_file) == [event.pk]


def test_an_anchor_is_written_only_when_its_row_commits(db, anchor_file, committed):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(None, "auth.sign_in")
        raise RuntimeError("the request failed after logging")
    assert not anchor_file.exists()
    kept = record_event(None, "auth.sign_in")
    assert anchored_ids(anchor_file) == [kept.pk]


def test_anchors_can_go_to_stdout_for_a_log_collector(db, settings, committed, capsys):
    settings.AUDIT_ANCHOR = "stdout"
    event = record_event(None, "auth.sign_in")
    out = capsys.readouterr().out
    assert [a.id for a in anchors.parse(out.splitlines())] == [event.pk]


def test_anchors_can_go_to_syslog(db, settings, committed, monkeypatch):
    import syslog

    sent = []
    monkeypatch.setattr(syslog, "openlog", lambda *args: None)
    monkeypatch.setattr(syslog, "syslog", lambda priority, line: sent.append((priority, line)))
    settings.AUDIT_ANCHOR = "syslog"
    event = record_event(None, "auth.sign_in")
    assert [(priority, a.id) for priority, line in sent for a in anchors.parse([line])] == [
        (syslog.LOG_NOTICE, event.pk)
    ]


def test_a_failing_sink_is_logged_and_the_row_still_recorded(
    db, settings, tmp_path, committed, caplog
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.AUDIT_ANCHOR = f"file:{blocker / 'anchors'}"  # a path under a file: cannot exist
    event = record_event(None, "auth.sign_in")
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert "Could not write the action log's anchor" in caplog.text


def test_verify_checks_the_log_against_its_anchors(db, anchor_file, committed):
    rows = write_rows(12)
    output = verify_audit()
    assert "Checked 12 rows: the chain is intact." in output
    assert f"Anchors: 3 anchors read from {anchor_file}; 3 match their rows." in output
    assert f"Head: {rows[-1].hash}" in output


def test_verify_reads_a_collected_copy_with_other_lines_around(db, settings, tmp_path, committed):
    settings.AUDIT_ANCHOR = "stdout"
    settings.AUDIT_ANCHOR_ROWS = 5
    rows = write_rows(7)
    collected = tmp_path / "collected.log"
    line = anchors.anchor_line(rows[5].pk, rows[5].hash, rows[5].created_at, datetime.now(UTC))
    collected.write_text(
        "Jan  2 03:04:05 web1 gunicorn[812]: GET /healthz 200\n"
        f"Jan  2 03:04:06 web1 imgdash[812]: {line}\n"
    )
    assert "no anchors read: they go to stdout" in verify_audit()
    assert "1 anchors read from" in verify_audit("--anchors", str(collected))


def test_verify_fails_when_anchored_newest_rows_are_gone(db, anchor_file, committed, tamper):
    rows = write_rows(12)
    tamper("DELETE FROM {table} WHERE id >= %s", [rows[10].pk])
    with pytest.raises(CommandError, match=r"Checked 10 rows: the chain is intact, but 1 anchored"):
        verify_audit()


def test_verify_fails_on_an_emptied_log_with_anchors(db, anchor_file, committed, tamper):
    write_rows(3)
    tamper("DELETE FROM {table}")
    with pytest.raises(CommandError, match="The action log is empty, but 1 anchors name rows"):
        verify_audit()


def test_verify_fails_when_rows_were_rewritten_with_the_key(db, anchor_file, committed, tamper):
    """Even whoever has the key cannot rewrite what an anchor pins."""
    from imgdash.audit.chain import CONTENT_FIELDS, GENESIS, event_hash, seal

    rows = write_rows(8)
    tamper("UPDATE {table} SET target = 'ns/harmless' WHERE id = %s", [rows[2].pk])
    previous = GENESIS
    for row in AuditEvent.objects.order_by("id"):
        row.prev_hash = previous
        previous = seal(row)
        tamper(
            "UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s",
            [row.prev_hash, row.hash, row.pk],
        )
    stored = AuditEvent.objects.values("hash", *CONTENT_FIELDS).get(pk=rows[5].pk)
    assert event_hash(stored) == stored["hash"]  # the chain itself is perfect again
    with pytest.raises(CommandError, match=r"Row 6 .*differs from the one anchored at"):
        verify_audit()


def test_verify_refuses_an_anchor_file_with_garbage(db, anchor_file, committed):
    write_rows(1)
    with open(anchor_file, "a") as lines:
        lines.write("imgdash-audit-anchor {not json\n")
    with pytest.raises(CommandError, match="not a readable anchor"):
        verify_audit()


def test_anchor_audit_anchors_the_head_now(db, anchor_file, committed):
    rows = write_rows(3)
    out = StringIO()
    call_command("anchor_audit", stdout=out)
    assert f"Anchored row id {rows[-1].pk}" in out.getvalue()
    assert anchored_ids(anchor_file) == [rows[0].pk, rows[-1].pk]


def test_anchor_audit_says_when_there_is_nowhere_to_anchor(db, settings):
    settings.AUDIT_ANCHOR = "none"
    with pytest.raises(CommandError, match="nowhere to anchor"):
        call_command("anchor_audit")
    settings.AUDIT_ANCHOR = "stdout"
    out = StringIO()
    call_command("anchor_audit", stdout=out)
    assert out.getvalue() == "The action log is empty: nothing to anchor.\n"


def test_the_anchor_file_is_only_appended_to(db, anchor_file, committed):
    write_rows(6)
    before = anchor_file.read_bytes()
    write_rows(5)
    assert anchor_file.read_bytes().startswith(before)
    assert os.stat(anchor_file).st_size > len(before)
