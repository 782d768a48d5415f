from django.db import migrations, models

import imgdash.clusters.models
from imgdash.clusters.models import compute_endpoint_fingerprint

ENDPOINT_HELP = " Changing it deletes every user's stored token for this cluster: they reconnect."


def bind_existing_credentials(apps, schema_editor):
    """Bind every stored token to its cluster's endpoint as registered now."""
    Cluster = apps.get_model("clusters", "Cluster")
    Credential = apps.get_model("clusters", "Credential")
    for cluster in Cluster.objects.all():
        fingerprint = compute_endpoint_fingerprint(
            cluster.api_url, cluster.ca_pem, cluster.verify_tls
        )
        Credential.objects.filter(cluster=cluster).update(endpoint_fingerprint=fingerprint)


class Migration(migrations.Migration):
    dependencies = [
        ("clusters", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="credential",
            name="endpoint_fingerprint",
            # Filled below; a credential left empty matches no endpoint and is never used.
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="cluster",
            name="endpoint_changed_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the API URL, CA bundle or TLS verification last changed (and "
                "every stored token for the cluster was deleted).",
                null=True,
                verbose_name="endpoint changed at",
            ),
        ),
        migrations.AlterField(
            model_name="cluster",
            name="api_url",
            field=models.CharField(
                help_text="e.g. https://master.example.com:8443/image-manager/api/v1."
                + ENDPOINT_HELP,
                max_length=500,
                validators=[imgdash.clusters.models.validate_api_url],
                verbose_name="API URL",
            ),
        ),
        migrations.AlterField(
            model_name="cluster",
            name="ca_pem",
            field=models.TextField(
                blank=True,
                help_text="The cluster's CA, e.g. cluster/cfc-certs/router/icp-router.crt on "
                "the boot node. Empty: the system's trusted CAs." + ENDPOINT_HELP,
                validators=[imgdash.clusters.models.validate_ca_pem],
                verbose_name="CA bundle (PEM)",
            ),
        ),
        migrations.AlterField(
            model_name="cluster",
            name="verify_tls",
            field=models.BooleanField(
                default=True,
                help_text="Turn off only for a cluster without a CA domain: tokens can then be "
                "intercepted. Shown as a warning to every user." + ENDPOINT_HELP,
                verbose_name="verify TLS",
            ),
        ),
        migrations.RunPython(bind_existing_credentials, migrations.RunPython.noop),
    ]
