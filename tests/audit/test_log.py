import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, connections, transaction
from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from imgdash.audit import log
from imgdash.audit.chain import CONTENT_FIELDS, GENESIS, event_hash, verify
from imgdash.audit.log import clean_text, record_event, record_intent, record_outcome
from imgdash.audit.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


def request_for(user=None, **meta):
    meta = {"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "Mozilla/5.0 test", **meta}
    request = RequestFactory().get("/clusters/", **meta)
    request.user = user or AnonymousUser()
    request.request_id = "req-123"
    return request


def all_text(event):
    return " ".join(str(getattr(event, name)) for name in CONTENT_FIELDS)


def test_it_records_who_where_and_what(user, prod):
    event = record_event(
        request_for(user),
        "credential.disconnect",
        cluster=prod,
        target="credential ab12",
        status=200,
        message="Token deleted",
        details={"method": "token"},
    )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor == user
    assert event.actor_username == "val"
    assert (event.cluster, event.cluster_name) == (prod, "Prod")
    assert (event.action, event.outcome, event.status) == ("credential.disconnect", "ok", 200)
    assert (event.target, event.message) == ("credential ab12", "Token deleted")
    assert event.details == {"method": "token"}
    assert (event.ip, event.user_agent, event.request_id) == (
        "10.1.2.3",
        "Mozilla/5.0 test",
        "req-123",
    )
    assert event.created_at.tzinfo is not None
    assert event.action_label == "Disconnected a cluster token"


def test_it_records_without_a_request(user):
    event = record_event(None, "credential.stale", outcome="refused", actor=user)
    assert (event.actor, event.actor_username) == (user, "val")
    assert (event.ip, event.user_agent, event.request_id) == ("", "", "")


def test_it_leaves_the_actor_empty_for_anonymous_requests(db):
    event = record_event(request_for(), "auth.sign_in_failed", outcome="failed")
    assert event.actor is None
    assert event.actor_username == ""


def test_it_keeps_names_readable_after_user_and_cluster_are_deleted(user, prod):
    event = record_event(request_for(user), "credential.connect", cluster=prod)
    user.delete()
    prod.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_username, event.cluster_name) == ("val", "Prod")
    assert (
        verify(AuditEvent.objects.order_by("id").values("id", "hash", *CONTENT_FIELDS)).first_break
        is None
    )


def test_it_rejects_an_unknown_outcome(db):
    with pytest.raises(ValueError, match="outcome"):
        record_event(None, "credential.connect", outcome="maybe")
    assert not AuditEvent.objects.exists()


def test_it_escapes_control_characters_and_newlines(make_user):
    actor = make_user("eve\nadmin")
    request = request_for(actor, HTTP_USER_AGENT="curl\r\n\x1b[31mfake")
    event = record_event(
        request,
        "repository.delete",
        target="ns/app\nok\x00",
        message="line1\nline2\tend\u202e",
        details={"why": "a\nb"},
    )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_username == "eve\\nadmin"
    assert event.user_agent == "curl\\r\\n\\x1b[31mfake"
    assert event.target == "ns/app\\nok\\x00"
    assert event.message == "line1\\nline2\\tend\\u202e"
    assert event.details == {"why": "a\\nb"}


def test_it_caps_lengths(db):
    event = record_event(
        None,
        "repository.scope",
        target="x" * 5000,
        message="y" * 5000,
        details={"error": "z" * 50000},
    )
    assert len(event.target) == 500
    assert len(event.message) == 1000
    assert len(event.details["error"]) == 2000
    big = record_event(None, "repository.scope", details={f"k{n}": "v" * 1000 for n in range(40)})
    assert list(big.details) == ["truncated"]


def test_it_redacts_secrets_by_key_name(db):
    event = record_event(
        None,
        "credential.connect",
        details={
            "token": "abc",
            "Password": "hunter2",
            "client_secret": "s",
            "authorization": "Basic x",
            "nested": {"id_token": "t", "items": [{"api_key": "k", "size": 3}]},
            "method": "password",
        },
    )
    assert event.details == {
        "token": "[redacted]",
        "Password": "[redacted]",
        "client_secret": "[redacted]",
        "authorization": "[redacted]",
        "nested": {"id_token": "[redacted]", "items": [{"api_key": "[redacted]", "size": 3}]},
        "method": "password",
    }


def test_it_redacts_anything_that_looks_like_a_token(db):
    event = record_event(
        None,
        "credential.connect_failed",
        target=f"x {JWT}",
        message=f"Authorization: Bearer {JWT} and Bearer abcdefgh12345",
        details={"error": f"bad {JWT}", "list": [JWT]},
    )
    assert JWT not in all_text(event)
    assert "abcdefgh12345" not in event.message
    assert event.target == "x [redacted token]"
    assert event.details["list"] == ["[redacted token]"]


def test_it_stores_details_that_hash_the_same_after_a_round_trip(db):
    details = {
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "big": 1e20,
        "ratio": 0.1,
        "nan": float("nan"),
        "size": 2**40,
        "none": None,
        "ok": True,
        "text": "é ✓",
        "tuple": (1, 2),
        "other": object,
    }
    event = record_event(None, "repository.delete", details=details)
    stored = AuditEvent.objects.values("hash", *CONTENT_FIELDS).get(pk=event.pk)
    assert event_hash(stored) == stored["hash"] == event.hash
    assert stored["details"]["big"] == 10**20
    assert stored["details"]["nan"] == "nan"
    assert stored["details"]["when"].startswith("2026-01-02T03:04:05")


def test_it_chains_each_row_to_the_one_before(db):
    first = record_event(None, "auth.sign_in")
    second = record_event(None, "auth.sign_out")
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert first.hash != second.hash
    assert second.created_at >= first.created_at


def test_it_links_an_outcome_to_its_intent(user, prod):
    intent = record_intent(
        request_for(user),
        "repository.scope",
        cluster=prod,
        target="ns/app",
        details={"from": "namespace", "to": "global"},
    )
    assert intent.outcome == "intent"
    outcome = record_outcome(
        intent, "refused", status=403, message="Forbidden", details={"error": "not allowed"}
    )
    assert outcome.pk != intent.pk
    assert outcome.intent == intent
    assert list(intent.outcomes.all()) == [outcome]
    assert (outcome.action, outcome.target, outcome.cluster_id) == (
        "repository.scope",
        "ns/app",
        prod.pk,
    )
    assert (outcome.actor_id, outcome.actor_username) == (user.pk, "val")
    assert (outcome.ip, outcome.request_id) == ("10.1.2.3", "req-123")
    assert (outcome.outcome, outcome.status) == ("refused", 403)
    # The intent itself is untouched: rows are never updated.
    assert AuditEvent.objects.get(pk=intent.pk).outcome == "intent"


@pytest.mark.parametrize("outcome", ["ok", "refused", "failed", "unknown"])
def test_it_records_every_kind_of_outcome(db, outcome):
    intent = record_intent(None, "repository.delete", target="ns/app")
    record_outcome(intent, outcome)
    assert list(AuditEvent.objects.order_by("id").values_list("outcome", flat=True)) == [
        "intent",
        outcome,
    ]


def test_it_refuses_an_outcome_without_an_intent(db):
    event = record_event(None, "repository.delete")
    with pytest.raises(TypeError):
        record_outcome(event, "ok")
    with pytest.raises(TypeError):
        record_outcome(None, "ok")
    intent = record_intent(None, "repository.delete")
    with pytest.raises(ValueError):
        record_outcome(intent, "intent")
    with pytest.raises(ValueError):
        record_outcome(intent, "bogus")


def test_it_refuses_an_intent_inside_a_transaction(db):
    # A rollback would erase the only trace of an upstream call that did go out.
    with pytest.raises(RuntimeError), transaction.atomic():
        record_intent(None, "repository.delete", target="ns/app")


def _count_from_another_connection():
    """Rows visible to a separate database connection (so: committed rows)."""
    seen = []

    def count():
        try:
            seen.append(AuditEvent.objects.count())
        finally:
            connections.close_all()

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()
    return seen[0]


@pytest.mark.django_db(transaction=True)
def test_it_commits_the_intent_before_the_upstream_call():
    observed = {}

    def upstream_call():
        observed["in_transaction"] = connection.in_atomic_block
        observed["visible_elsewhere"] = _count_from_another_connection()
        raise TimeoutError("read timed out after the request was sent")

    intent = record_intent(None, "repository.delete", target="ns/app")
    try:
        upstream_call()
    except TimeoutError as error:
        record_outcome(intent, "unknown", message=str(error))
    assert observed == {"in_transaction": False, "visible_elsewhere": 1}
    assert list(AuditEvent.objects.order_by("id").values_list("outcome", flat=True)) == [
        "intent",
        "unknown",
    ]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_intent_when_the_process_dies_before_the_outcome():
    def crashing_view():
        record_intent(None, "repository.delete", target="ns/app")
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        crashing_view()
    assert _count_from_another_connection() == 1
    intent = AuditEvent.objects.get()
    assert intent.outcome == "intent"
    assert not intent.outcomes.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    errors = []

    def write(worker):
        try:
            for n in range(25):
                record_event(None, "repository.bulk_delete", target=f"ns/w{worker}-{n}")
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = list(AuditEvent.objects.order_by("id").values("id", "hash", *CONTENT_FIELDS))
    assert len(rows) == 100
    assert len({row["prev_hash"] for row in rows}) == 100  # no two rows claim the same parent
    report = verify(rows)
    assert (report.checked, report.first_break) == (100, None)


WRITER = """
import sys, time
from pathlib import Path
import django
django.setup()
from imgdash.audit.log import record_event
worker, count, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
(folder / f"ready-{worker}").touch()
deadline = time.time() + 60
while not (folder / "go").exists() and time.time() < deadline:
    time.sleep(0.005)
for n in range(count):
    record_event(None, "repository.bulk_delete", target=f"ns/w{worker}-{n}")
    time.sleep(0.01)  # let the others in between, as a worker serving requests would
"""


def test_concurrent_processes_never_fork_the_chain(tmp_path):
    """Four processes (like gunicorn workers) on one SQLite file write at the same moment."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "IMGDASH_DATA_DIR": str(tmp_path),
        "IMGDASH_TESTING": "1",
        # One key for every process, as gunicorn workers share theirs.
        "IMGDASH_AUDIT_KEY": settings.AUDIT_KEYS[0],
        "DJANGO_SETTINGS_MODULE": "imgdash.settings",
    }
    run = {"env": env, "cwd": ROOT, "capture_output": True, "text": True, "timeout": 120}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    assert migrated.returncode == 0, migrated.stderr
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(n), "25", str(tmp_path)],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    deadline = time.time() + 60
    while len(list(tmp_path.glob("ready-*"))) < 4 and time.time() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()  # all four start writing at once
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    verified = subprocess.run([sys.executable, "manage.py", "verify_audit"], **run)
    assert verified.returncode == 0, verified.stderr
    assert "Checked 100 rows: the chain is intact." in verified.stdout
    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
        parents = db.execute("SELECT COUNT(DISTINCT prev_hash) FROM audit_auditevent").fetchone()
    assert parents == (100,)


def test_it_reads_the_client_ip_from_remote_addr_only(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert log.client_ip(request) == "10.0.0.5"
    assert log.client_ip(rf.get("/", REMOTE_ADDR="not an ip")) == ""


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_it_trusts_forwarded_for_only_as_far_as_the_proxies_go(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert log.client_ip(request) == "203.0.113.9"
    assert log.client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_clean_text_never_lets_control_characters_through(text, limit):
    cleaned = clean_text(text, limit)
    assert len(cleaned) <= limit
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in cleaned)
