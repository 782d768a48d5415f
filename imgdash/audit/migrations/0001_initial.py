import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

OUTCOMES = [
    ("ok", "ok"),
    ("refused", "refused by the cluster"),
    ("failed", "failed"),
    ("unknown", "unknown (timed out after sending)"),
    ("denied", "denied by imgdash"),
    ("intent", "intent"),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("clusters", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("created_at", models.DateTimeField(db_index=True)),
                ("actor_username", models.CharField(blank=True, max_length=150)),
                ("cluster_name", models.CharField(blank=True, max_length=100)),
                ("action", models.CharField(db_index=True, max_length=64)),
                ("target", models.CharField(blank=True, max_length=500)),
                ("outcome", models.CharField(choices=OUTCOMES, db_index=True, max_length=16)),
                ("status", models.PositiveSmallIntegerField(blank=True, null=True,
                                                            verbose_name="upstream status")),
                ("message", models.CharField(blank=True, max_length=1000)),
                ("details", models.JSONField(blank=True, default=dict)),
                ("ip", models.CharField(blank=True, max_length=45, verbose_name="client IP")),
                ("user_agent", models.CharField(blank=True, max_length=300)),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64, unique=True)),
                ("actor", models.ForeignKey(
                    blank=True, db_constraint=False, null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                    to=settings.AUTH_USER_MODEL)),
                ("cluster", models.ForeignKey(
                    blank=True, db_constraint=False, null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                    to="clusters.cluster")),
                ("intent", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                    related_name="outcomes", to="audit.auditevent")),
            ],
            options={
                "verbose_name": "action-log event",
                "verbose_name_plural": "action log",
                "ordering": ["-id"],
            },
        ),
    ]
