"""Least privilege on PostgreSQL: a migration role owns the tables, the app role may only
INSERT and SELECT the action log.

The owner of a table can disable its triggers, TRUNCATE it or drop it, and a superuser can do
anything: run `migrate` as the owning role, and imgdash itself (gunicorn) as an app role that
`manage.py grant_app_role` grants exactly what it needs. The system check below warns when
imgdash runs as a role that could rewrite or empty the log.
"""

import re

from django.core import checks
from django.db import DatabaseError, connection

# The action log and the notes of its anchors: append-only, whoever asks.
APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditanchor")
# Read by imgdash, changed only by `migrate`.
READ_ONLY_TABLES = ("django_migrations",)
_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# What the app role must not hold on the log's tables.
_DANGEROUS = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


def valid_role(name):
    return _ROLE.match(name or "") is not None


def grant_statements(app_role, database, schema, tables):
    """The statements that give `app_role` what imgdash needs and no more, run as the owner."""
    quote = connection.ops.quote_name
    role = quote(app_role)
    appendable = [t for t in tables if t in APPEND_ONLY_TABLES]
    readable = [t for t in tables if t in READ_ONLY_TABLES]
    writable = [t for t in tables if t not in APPEND_ONLY_TABLES + READ_ONLY_TABLES]

    def names(group):
        return ", ".join(quote(table) for table in group)

    statements = [
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {quote(schema)} TO {role}",
        f"REVOKE ALL ON {names(tables)} FROM {role}",
    ]
    if writable:
        statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {names(writable)} TO {role}")
    if appendable:
        statements.append(f"GRANT SELECT, INSERT ON {names(appendable)} TO {role}")
    if readable:
        statements.append(f"GRANT SELECT ON {names(readable)} TO {role}")
    statements.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {role}")
    return statements


def _connected_role_facts():
    """(role, superuser, member of the log's owner, [dangerous privileges]) or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, r.rolsuper, pg_has_role(current_user, t.tableowner, 'MEMBER') "
            "FROM pg_tables t JOIN pg_roles r ON r.rolname = current_user "
            "WHERE t.tablename = %s AND t.schemaname = current_schema()",
            [APPEND_ONLY_TABLES[0]],
        )
        row = cursor.fetchone()
        if row is None:
            return None  # not migrated yet
        held = []
        for privilege in _DANGEROUS:
            cursor.execute(
                "SELECT has_table_privilege(current_user, %s, %s)",
                [APPEND_ONLY_TABLES[0], privilege],
            )
            if cursor.fetchone()[0]:
                held.append(privilege)
    return (*row, held)


@checks.register(checks.Tags.security)
def check_action_log_role(app_configs=None, **kwargs):
    """Warn when imgdash connects to PostgreSQL as a role that could rewrite the action log."""
    if connection.vendor != "postgresql":
        return []
    try:
        facts = _connected_role_facts()
    except DatabaseError:
        return []  # the database is not reachable: other checks and the start will say so
    if facts is None:
        return []
    role, superuser, owner, held = facts
    hint = (
        "Run `migrate` as the role that owns the tables and imgdash as an app role with only "
        "INSERT and SELECT on the action log: `python manage.py grant_app_role APP_ROLE "
        "--apply` (README, Deployment)."
    )
    if superuser:
        return [
            checks.Warning(
                f"imgdash connects to PostgreSQL as {role}, a superuser: it can disable the action "
                "log's triggers, rewrite, TRUNCATE or drop it.",
                hint=hint,
                id="audit.W002",
            )
        ]
    if owner:
        return [
            checks.Warning(
                f"imgdash connects to PostgreSQL as {role}, which owns the action-log table "
                f"{APPEND_ONLY_TABLES[0]}: it can disable its triggers, TRUNCATE or drop it.",
                hint=hint,
                id="audit.W001",
            )
        ]
    if held:
        return [
            checks.Warning(
                f"imgdash's PostgreSQL role {role} holds {', '.join(held)} on the action-log "
                f"table {APPEND_ONLY_TABLES[0]}; it needs only INSERT and SELECT.",
                hint=hint,
                id="audit.W003",
            )
        ]
    return []
