import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from imgdash.audit.admin import AuditEventAdmin
from imgdash.audit.log import record_event
from imgdash.audit.models import AppendOnlyError, AuditAnchor, AuditEvent

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


def test_it_refuses_to_save_an_existing_row(events):
    event = events[0]
    event.target = "something else"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).target == "credential f0"


def test_it_refuses_to_delete_a_row(events):
    with pytest.raises(AppendOnlyError):
        events[0].delete()
    assert AuditEvent.objects.count() == 5


@pytest.mark.parametrize(
    "change",
    [
        lambda: AuditEvent.objects.update(target="x"),
        lambda: AuditEvent.objects.filter(action="credential.connect").update(target="x"),
        lambda: AuditEvent.objects.all().delete(),
        lambda: AuditEvent.objects.filter(pk__gt=0).delete(),
        lambda: AuditEvent.objects.bulk_update(list(AuditEvent.objects.all()), ["target"]),
        lambda: AuditEvent.objects.update_or_create(
            pk=AuditEvent.objects.first().pk, defaults={"target": "x"}
        ),
    ],
)
def test_its_queryset_refuses_bulk_changes(events, change):
    with pytest.raises(AppendOnlyError):
        change()
    assert AuditEvent.objects.count() == 5
    assert not AuditEvent.objects.filter(target="x").exists()


def test_deleting_a_user_leaves_their_rows_alone(make_user):
    user = make_user("gone")
    event = record_event(None, "auth.sign_in", actor=user)
    user_id = user.pk
    user.delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_username, stored.hash) == (user_id, "gone", event.hash)


def test_the_admin_is_read_only(admin_client, events):
    event = events[0]
    rows = AuditEvent.objects.count()
    assert admin_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code
        == 403
    )
    posted = admin_client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"target": "edited"}
    )
    assert posted.status_code == 403
    bulk = admin_client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk]},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.count() == rows
    assert AuditEvent.objects.get(pk=event.pk).target == "credential f0"


def test_the_admin_grants_no_write_permission(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    model_admin = AuditEventAdmin(AuditEvent, None)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET target = 'edited'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_the_database_rejects_updates_and_deletes(events, statement):
    """Whoever sends them: a trigger on PostgreSQL and, since the keyed chain, on SQLite."""
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 5
    assert not AuditEvent.objects.filter(target="edited").exists()


@postgresql_only
def test_postgresql_still_accepts_new_rows(events):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s", ["audit_auditevent_append_only"]
        )
        assert cursor.fetchone() == ("O",)
    record_event(None, "auth.sign_out")
    assert AuditEvent.objects.count() == 6


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditanchor SET hash = 'forged'", "DELETE FROM audit_auditanchor"],
)
def test_the_notes_of_anchors_are_append_only_too(db, statement):
    AuditAnchor.objects.create(event_id=1, hash="a" * 64, created_at=timezone.now())
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert list(AuditAnchor.objects.values_list("hash", flat=True)) == ["a" * 64]
