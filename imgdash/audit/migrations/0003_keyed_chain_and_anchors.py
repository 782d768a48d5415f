"""The keyed chain's key id, the anchor notes, and append-only triggers on SQLite too.

Rows written before this migration keep an empty key_id: verify_audit checks them as plain
SHA-256 rows (chain.py). The anchor notes get the same protection as the log on PostgreSQL.

On SQLite, BEFORE UPDATE and BEFORE DELETE triggers refuse changes from any client of the file
(the sqlite3 shell, a script). Whoever can write the file can still drop them: there the keyed
chain and the anchors are what hold. SQLite rebuilds a table for some schema changes, which
drops its triggers: a later migration that alters these tables must create them again.
"""

from django.db import migrations, models

TABLES = ("audit_auditevent", "audit_auditanchor")


def sqlite_triggers(table):
    return [
        f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()}
    BEFORE {op} ON {table}
BEGIN
    SELECT RAISE(ABORT, 'the action log is append-only: {op} of a row in {table} is not allowed');
END
"""
        for op in ("UPDATE", "DELETE")
    ]


def sqlite_drop(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]


POSTGRESQL_CREATE = [
    "DROP TRIGGER IF EXISTS audit_auditanchor_append_only ON audit_auditanchor",
    """
CREATE TRIGGER audit_auditanchor_append_only
    BEFORE UPDATE OR DELETE ON audit_auditanchor
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only()
""",
]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS audit_auditanchor_append_only ON audit_auditanchor"]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [sql for table in TABLES for sql in sqlite_triggers(table)]
    elif vendor == "postgresql":
        statements = POSTGRESQL_CREATE
    else:
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [sql for table in TABLES for sql in sqlite_drop(table)]
    elif vendor == "postgresql":
        statements = POSTGRESQL_DROP
    else:
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_id", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField()),
            ],
            options={"verbose_name": "action-log anchor"},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
