"""Registry facts kept in the database: what a config blob or a platform manifest says.

Both are keyed by content digest, so a row never changes once written and serves every user
(the registry client checks that each answer's sha256 is its digest, so a row cannot hold
another image's facts). Who may read a row is decided elsewhere (``facts.py``): only digests
that the user's own repository answer refers to are ever looked up.

A 404 is different: it says what one cluster's registry holds today (garbage collection
removes blobs; a push may not have finished), so it is kept per cluster and tried again
after ``REGISTRY_MISSING_RETRY`` seconds.
"""

from django.db import models


class ConfigFacts(models.Model):
    """The shown parts of one image config blob (never the blob, never env values)."""

    digest = models.CharField(max_length=200, primary_key=True)
    created = models.DateTimeField(null=True, blank=True, db_index=True)
    os = models.CharField(max_length=50, blank=True)
    architecture = models.CharField(max_length=50, blank=True)
    variant = models.CharField(max_length=50, blank=True)
    # labels, entrypoint, cmd, env_names, exposed_ports, history: shown, never queried.
    details = models.JSONField(default=dict)
    fetched_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"config {self.digest}"


class ManifestFacts(models.Model):
    """One single-arch manifest named by a manifest list or OCI index."""

    digest = models.CharField(max_length=200, primary_key=True)
    config_digest = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField()
    layer_sizes = models.JSONField(default=list)
    os = models.CharField(max_length=50, blank=True)
    architecture = models.CharField(max_length=50, blank=True)
    variant = models.CharField(max_length=50, blank=True)
    fetched_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"manifest {self.digest}"


class MissingFacts(models.Model):
    """A digest one cluster's registry answered 404 for, and when it last did."""

    cluster = models.ForeignKey("clusters.Cluster", on_delete=models.CASCADE)
    what = models.CharField(max_length=10)  # "manifest" or "config"
    digest = models.CharField(max_length=200)
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "what", "digest"], name="one_missing_row_per_digest"
            )
        ]

    def __str__(self):
        return f"{self.what} {self.digest} missing on cluster {self.cluster_id}"
