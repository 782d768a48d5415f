"""Jobs are data: what someone asked for, how far it got, and what happened to each item.

A Job is the record a person reads (its page, the Jobs list); the queue itself is Django's
Tasks API (django-tasks-db's table), which only knows "run this function with these ids".
"""

from django.conf import settings
from django.db import models
from django.db.models import Count

from imgdash.imagemanager import SIZE_EXACT

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"
INTERRUPTED = "interrupted"
JOB_STATES = {
    QUEUED: "queued",
    RUNNING: "running",
    DONE: "done",
    CANCELLED: "cancelled",
    FAILED: "stopped",
    INTERRUPTED: "interrupted",
}
FINISHED = (DONE, CANCELLED, FAILED, INTERRUPTED)

PENDING = "pending"
SENDING = "sending"
DELETED = "deleted"
REFUSED = "refused"
ITEM_FAILED = "failed"
UNKNOWN = "unknown"
GONE = "gone"
NOT_ATTEMPTED = "not_attempted"
# A registry crawl's repositories: facts read, all known already, some missing (404).
CRAWLED = "crawled"
KNOWN = "known"
MISSING = "missing"
ITEM_STATES = {
    PENDING: "waiting",
    SENDING: "sending…",
    DELETED: "deleted",
    GONE: "already gone",
    REFUSED: "refused by the cluster",
    ITEM_FAILED: "failed",
    UNKNOWN: "outcome unknown",
    NOT_ATTEMPTED: "not attempted",
    CRAWLED: "read",
    KNOWN: "already known",
    MISSING: "partly missing in the registry",
}
# Items whose request has been answered (or is known never to be sent).
SETTLED = (DELETED, GONE, REFUSED, ITEM_FAILED, UNKNOWN, NOT_ATTEMPTED, CRAWLED, KNOWN, MISSING)

BULK_DELETE = "bulk_delete"
REGISTRY_CRAWL = "registry_crawl"
KINDS = {BULK_DELETE: "Bulk delete", REGISTRY_CRAWL: "Registry crawl"}


class Job(models.Model):
    # The owner and cluster are also kept as text: the record stays readable after either goes.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    owner_username = models.CharField(max_length=150)
    kind = models.CharField(max_length=32, choices=list(KINDS.items()))
    cluster = models.ForeignKey(
        "clusters.Cluster", null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    cluster_name = models.CharField(max_length=100)
    # What was asked for, for people to read: never secrets (the worker uses the owner's
    # stored credential, looked up when it runs).
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=list(JOB_STATES.items()), default=QUEUED)
    # Why it stopped early, or what to do next ("reconnect, then resume").
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Each enqueue (the first and every resume) is a new run; a worker acts only for its run.
    run = models.PositiveIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Requests sent upstream, and of their answers how many were 404 (a registry crawl's
    # progress: items alone do not say how much it asked).
    requests = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    # The asking request's facts, so rows the worker logs name the same client and request.
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self):
        return f"Job {self.pk} ({self.kind}, {self.state})"

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)

    @property
    def state_label(self):
        return JOB_STATES.get(self.state, self.state)

    @property
    def is_finished(self):
        return self.state in FINISHED

    def counts(self):
        """{item state: how many}, every state present; from the rows, so never out of step."""
        counts = dict.fromkeys(ITEM_STATES, 0)
        for row in self.items.values("state").annotate(n=Count("id")).order_by():
            counts[row["state"]] = row["n"]
        counts["total"] = sum(counts[state] for state in ITEM_STATES)
        counts["settled"] = sum(counts[state] for state in SETTLED)
        counts["remaining"] = counts["total"] - counts["settled"]
        return counts


class JobItem(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    target = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=list(ITEM_STATES.items()), default=PENDING)
    message = models.CharField(max_length=1000, blank=True)
    # Details shown beside the name (tags and size when it was confirmed).
    details = models.JSONField(default=dict, blank=True)
    # The action log's intent row for this item's request (its outcome rows link to it).
    # No database constraint and nothing on delete: the log's rows are never changed.
    intent = models.ForeignKey(
        "audit.AuditEvent",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="job_item_position"),
        ]

    def __str__(self):
        return f"{self.target} ({self.state})"

    @property
    def state_label(self):
        return ITEM_STATES.get(self.state, self.state)

    @property
    def size_state(self):
        """Whether details["size"] is exact, a lower bound or unknown. Items queued before
        sizes had a state recorded only a number, shown as it was then."""
        details = self.details if isinstance(self.details, dict) else {}
        return details.get("size_state", SIZE_EXACT)


class ClusterSlot(models.Model):
    """One of a cluster's few slots for requests in flight (IMGDASH_DELETE_CONCURRENCY),
    shared by every job and worker through the database they all reach. A row is a held slot;
    its lease ends at `expires_at` unless its holder's heartbeat extends it, so a slot held by
    a worker that died frees itself."""

    cluster = models.ForeignKey("clusters.Cluster", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=16)
    number = models.PositiveSmallIntegerField()
    holder = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "purpose", "number"], name="cluster_slot_unique"
            ),
        ]

    def __str__(self):
        return f"{self.purpose} slot {self.number} of cluster {self.cluster_id}"
