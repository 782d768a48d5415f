import importlib

import pytest
from django.db import connection

from imgdash.audit.log import record_event

TABLE = "audit_auditevent"
TRIGGER = "audit_auditevent_append_only"
_triggers = importlib.import_module("imgdash.audit.migrations.0003_keyed_chain_and_anchors")


@pytest.fixture
def user(make_user):
    """A user in no role group."""
    return make_user("val")


@pytest.fixture
def auditor(make_user):
    return make_user("audra", "Auditor")


@pytest.fixture
def superuser(make_user):
    return make_user("root", superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def prod(db):
    from imgdash.clusters.models import Cluster

    # Inserted without save(): registering a cluster logs a row of its own, and these tests
    # count the rows they make.
    (cluster,) = Cluster.objects.bulk_create(
        [
            Cluster(
                name="Prod",
                slug="prod",
                api_url="https://prod.example.com:8443/image-manager/api/v1",
            )
        ]
    )
    return cluster


def tamper_with_log(sql, params=()):
    """Raw SQL on the log, past the model guard and the triggers, as the owner of the database
    (or of the SQLite file) can. The triggers are disabled only inside the current transaction:
    in a test, rolled back after it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks must fire before the table can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
        else:
            for statement in _triggers.sqlite_drop(TABLE):
                cursor.execute(statement)
        cursor.execute(sql.replace("{table}", TABLE), params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for statement in _triggers.sqlite_triggers(TABLE):
                cursor.execute(statement)


@pytest.fixture
def tamper(db):
    """tamper(sql, params): see tamper_with_log; "{table}" in sql names the log's table."""
    return tamper_with_log


@pytest.fixture
def events(db):
    """Five ordinary rows, oldest first."""
    return [
        record_event(None, "credential.connect", target=f"credential f{n}", message=f"row {n}")
        for n in range(5)
    ]
