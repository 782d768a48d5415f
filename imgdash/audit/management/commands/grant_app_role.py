"""Print (or apply) the PostgreSQL grants for imgdash's app role: least privilege on the log."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from imgdash.audit.privileges import grant_statements, valid_role


class Command(BaseCommand):
    help = (
        "PostgreSQL only. Print the GRANT statements that let APP_ROLE run imgdash with only "
        "INSERT and SELECT on the action log (and read-only django_migrations), or apply them "
        "with --apply. Run as the migration role that owns imgdash's tables, after every "
        "`migrate` (new tables need their grants)."
    )

    def add_arguments(self, parser):
        parser.add_argument("app_role", help="the PostgreSQL role gunicorn connects as")
        parser.add_argument(
            "--apply", action="store_true", help="run the statements instead of printing them"
        )

    def handle(self, *args, app_role, apply=False, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "grant_app_role is for PostgreSQL; on SQLite whoever can write the file can "
                "change anything, and the keyed chain and the anchors are what hold."
            )
        if not valid_role(app_role):
            raise CommandError(
                f"{app_role!r} is not a plain role name (letters, digits and _, at most 63)."
            )
        tables = sorted(connection.introspection.django_table_names(only_existing=True))
        if not tables:
            raise CommandError("No imgdash tables yet: run `python manage.py migrate` first.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), current_schema(), current_user")
            database, schema, owner = cursor.fetchone()
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
            exists = cursor.fetchone() is not None
        if app_role == owner:
            raise CommandError(
                f"{app_role} is the role this command connects as: the app role must be another "
                "role than the one that owns the tables."
            )
        statements = grant_statements(app_role, database, schema, tables)
        if not apply:
            self.stdout.write(f"-- Run as {owner}, the role that owns imgdash's tables.")
            if not exists:
                self.stdout.write(f"-- First: CREATE ROLE {app_role} LOGIN PASSWORD '…';")
            for statement in statements:
                self.stdout.write(statement + ";")
            return
        if not exists:
            raise CommandError(
                f"There is no role {app_role}: CREATE ROLE {app_role} LOGIN PASSWORD '…'; first."
            )
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"Granted {app_role} what imgdash needs on {len(tables)} tables of {database}: "
            "INSERT and SELECT only on the action log."
        )
