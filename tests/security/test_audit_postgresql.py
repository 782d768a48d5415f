"""On PostgreSQL, imgdash's own role cannot rewrite or empty the action log.

The attack that worked: the app role owned the table, so it could `ALTER TABLE ... DISABLE
TRIGGER`, then UPDATE, DELETE or TRUNCATE; after a TRUNCATE `verify_audit` said "empty" and
exited 0. Run by .ci/run's PostgreSQL pass; skipped on SQLite.
"""

import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase

from imgdash.audit.log import record_event
from imgdash.audit.privileges import check_action_log_role
from tests.conftest import fresh_process_env

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL roles and privileges"
)
ROOT = Path(__file__).resolve().parents[2]

ATTACKS = [
    "UPDATE audit_auditevent SET target = 'edited'",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "TRUNCATE audit_auditanchor",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
    "CREATE TRIGGER sneaky BEFORE INSERT ON audit_auditevent FOR EACH ROW "
    "EXECUTE FUNCTION audit_auditevent_append_only()",
    "DROP TABLE audit_auditevent CASCADE",
]


@pytest.fixture
def app_role(transactional_db):
    """A login role granted by `grant_app_role --apply`, dropped afterwards."""
    import psycopg

    name = f"imgdash_app_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} LOGIN PASSWORD %s", [password])
    call_command("grant_app_role", name, "--apply", stdout=StringIO())
    settings = connection.settings_dict
    conninfo = {
        "dbname": settings["NAME"],
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": name,
        "password": password,
    }

    def connect():
        return psycopg.connect(**conninfo, autocommit=True)

    connect.name, connect.conninfo = name, conninfo
    yield connect
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
        )
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")


@pytest.mark.parametrize("statement", ATTACKS)
def test_the_app_role_cannot_change_or_empty_the_log(app_role, statement):
    import psycopg

    record_event(None, "repository.delete", target="team-a/app")
    with app_role() as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(target) FROM audit_auditevent")
        assert cursor.fetchone() == (1, "team-a/app")


def test_the_app_role_still_runs_imgdash(app_role, tmp_path):
    """Writing rows (with their anchors), verifying, and the check: as the app role."""
    record_event(None, "auth.sign_in", target="alice")
    c = app_role.conninfo
    script = (
        "from django.core.management import call_command; "
        "from imgdash.audit.log import record_event; "
        "record_event(None, 'auth.sign_out', target='alice'); "
        "call_command('verify_audit'); call_command('check')"
    )
    env = fresh_process_env(
        DATABASE_URL=f"postgres://{c['user']}:{c['password']}@{c['host']}:{c['port']}/{c['dbname']}",
        IMGDASH_DATA_DIR=str(tmp_path),
        IMGDASH_TESTING="1",
        IMGDASH_AUDIT_KEY=_current_key(),
        IMGDASH_AUDIT_ANCHOR=f"file:{tmp_path / 'anchors'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Checked 2 rows: the chain is intact." in result.stdout
    assert "System check identified no issues" in result.stdout
    assert (tmp_path / "anchors").exists()


def _current_key():
    from django.conf import settings

    return settings.AUDIT_KEYS[0]


def test_a_truncated_log_with_anchors_fails_verification(db, settings, tmp_path):
    settings.AUDIT_ANCHOR = f"file:{tmp_path / 'anchors'}"
    for n in range(3):
        record_event(None, "repository.delete", target=f"team-a/app-{n}")
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("anchor_audit", stdout=StringIO())
    with connection.cursor() as cursor:  # as the owner, which this test runs as
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE audit_auditevent")
    with pytest.raises(CommandError, match="The action log is empty, but 1 anchors name rows"):
        call_command("verify_audit", stdout=StringIO())


def test_the_check_warns_about_a_superuser(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the test role is not a superuser")
    assert [warning.id for warning in check_action_log_role()] == ["audit.W002"]


def test_the_check_warns_about_a_role_that_owns_the_log(db):
    name = f"imgdash_owner_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:  # all of it rolled back with the test
        cursor.execute(f"CREATE ROLE {name}")
        cursor.execute(f"ALTER TABLE audit_auditevent OWNER TO {name}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"SET LOCAL ROLE {name}")
    warnings = check_action_log_role()
    assert [warning.id for warning in warnings] == ["audit.W001"]
    assert "TRUNCATE" in warnings[0].msg and "grant_app_role" in warnings[0].hint


def test_grant_app_role_prints_the_statements(db):
    out = StringIO()
    call_command("grant_app_role", "imgdash_app", stdout=out)
    text = out.getvalue()
    assert (
        'GRANT SELECT, INSERT ON "audit_auditanchor", "audit_auditevent" TO "imgdash_app";' in text
    )
    assert "REVOKE ALL ON " in text and "UPDATE, DELETE ON" in text


def test_grant_app_role_refuses_a_role_name_that_is_not_plain(db):
    with pytest.raises(CommandError, match="not a plain role name"):
        call_command("grant_app_role", 'app"; DROP TABLE x; --')
