"""Starting, cancelling, resuming jobs, and noticing the ones whose worker died.

Every change of a job's state is one conditional UPDATE (`WHERE state = …`), so a page, a
worker and the stale-heartbeat check can race without two of them winning.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from imgdash.audit.log import Origin, origin_of, record_event, record_outcome
from imgdash.audit.models import INTENT, AuditEvent
from imgdash.jobs import kinds, slots
from imgdash.jobs.models import (
    CANCELLED,
    FAILED,
    INTERRUPTED,
    JOB_STATES,
    NOT_ATTEMPTED,
    PENDING,
    QUEUED,
    REGISTRY_CRAWL,
    RUNNING,
    SENDING,
    UNKNOWN,
    Job,
    JobItem,
)

logger = logging.getLogger("imgdash.jobs")

IN_FLIGHT_LOST = "worker stopped while the request was in flight"
RESUMABLE = (INTERRUPTED, FAILED)


def job_origin(job):
    """Who the job acts for in the action log: its owner, from the request that asked."""
    return Origin(user=job.owner, ip=job.ip, user_agent=job.user_agent, request_id=job.request_id)


def slot_holder_prefix(job_id, run):
    return f"job{job_id}-run{run}-"


def start_job(request, *, kind, cluster, parameters, items):
    """Create the job and its items, queue its task and log it, all in one transaction.

    `items` is a list of (target, details). Returns the job.
    """
    origin = origin_of(request)
    with transaction.atomic():
        job = Job.objects.create(
            owner=request.user,
            owner_username=request.user.get_username(),
            kind=kind,
            cluster=cluster,
            cluster_name=cluster.name,
            parameters=parameters,
            ip=origin.ip,
            user_agent=origin.user_agent,
            request_id=origin.request_id,
        )
        JobItem.objects.bulk_create(
            JobItem(job=job, position=position, target=target, details=details)
            for position, (target, details) in enumerate(items)
        )
        kinds.task_for(kind).enqueue(job.pk, job.run)
        record_event(
            request,
            "job.enqueue",
            cluster=cluster,
            target=f"job {job.pk}",
            message=f"{job.kind_label} of {len(items)} queued",
            details={"job": job.pk, "kind": kind, "items": len(items)},
        )
    return job


def cancel_job(request, job):
    """Ask the job to stop before its next item. Returns a sentence for the person."""
    now = timezone.now()
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, state=QUEUED).update(
            state=CANCELLED, cancel_requested=True, finished_at=now
        ):
            job.items.filter(state=PENDING).update(
                state=NOT_ATTEMPTED, message="Not sent: the job was cancelled.", finished_at=now
            )
            log_job_event(request, job, "job.cancel", "Cancelled before it started")
            log_finish(request, job, CANCELLED)
            return "Cancelled before it started: nothing was sent."
        if Job.objects.filter(pk=job.pk, state=RUNNING, cancel_requested=False).update(
            cancel_requested=True
        ):
            log_job_event(
                request, job, "job.cancel", "Cancel requested: it stops before the next item"
            )
            return (
                "Cancelling: the job stops before the next repository "
                "(requests already sent finish)."
            )
        if Job.objects.filter(pk=job.pk, state__in=RESUMABLE).update(
            state=CANCELLED, cancel_requested=True
        ):
            log_job_event(request, job, "job.cancel", "Cancelled; it will not be resumed")
            return "Cancelled: it will not be resumed."
    return "This job has already finished or is already cancelling."


def resume_job(request, job):
    """Queue a new run for the items never sent. Returns (resumed?, sentence)."""
    with transaction.atomic():
        waiting = job.items.filter(state=NOT_ATTEMPTED).count()
        if not waiting:
            return False, "Nothing to resume: every repository of this job was already sent."
        origin = origin_of(request)
        resumed = Job.objects.filter(
            pk=job.pk, state__in=RESUMABLE, run=job.run, cancel_requested=False
        ).update(
            state=QUEUED,
            run=F("run") + 1,
            finished_at=None,
            heartbeat_at=None,
            message="",
            ip=origin.ip,
            user_agent=origin.user_agent,
            request_id=origin.request_id,
        )
        if not resumed:
            return False, "This job cannot be resumed now (it is running or was cancelled)."
        job.refresh_from_db()
        # Unknown items are never sent again: their request may have been applied.
        job.items.filter(state=NOT_ATTEMPTED).update(state=PENDING, message="", finished_at=None)
        kinds.task_for(job.kind).enqueue(job.pk, job.run)
        log_job_event(
            request,
            job,
            "job.resume",
            f"Resumed: {waiting} not attempted queued again (run {job.run})",
            {"items": waiting, "run": job.run},
        )
    plural = "y" if waiting == 1 else "ies"
    return True, f"Resumed: the {waiting} repositor{plural} never sent are queued again."


def notice_interrupted():
    """Mark every running job whose heartbeat is older than IMGDASH_JOB_STALE_AFTER as
    interrupted (its worker died): in-flight items unknown, the rest not attempted."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
    for job in Job.objects.filter(state=RUNNING, heartbeat_at__lt=cutoff):
        _interrupt(job, cutoff)


def _interrupt(job, cutoff):
    now = timezone.now()
    origin = job_origin(job)
    with transaction.atomic():
        if not Job.objects.filter(
            pk=job.pk, state=RUNNING, run=job.run, heartbeat_at__lt=cutoff
        ).update(
            state=INTERRUPTED,
            finished_at=now,
            message=(
                "Its worker stopped (no sign of life since "
                f"{job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC)."
            ),
        ):
            return
        in_flight = list(job.items.filter(state=SENDING).select_related("intent"))
        job.items.filter(state=SENDING).update(
            state=UNKNOWN,
            message="Outcome unknown: the worker stopped while this request was in flight. "
            "It is never sent again; check the repository.",
            finished_at=now,
        )
        job.items.filter(state=PENDING).update(
            state=NOT_ATTEMPTED, message="Not sent: the worker stopped before it."
        )
        for item in in_flight:
            intent = item.intent or _unlinked_intent(job, item)
            if intent is not None and not intent.outcomes.exists():
                record_outcome(intent, "unknown", message=IN_FLIGHT_LOST)
        slots.release_slots(slot_holder_prefix(job.pk, job.run))
        log_job_event(
            origin,
            job,
            "job.interrupted",
            f"Worker stopped: {len(in_flight)} in flight (outcome unknown)",
            {"unknown": len(in_flight)},
            outcome="failed",
        )
    logger.warning("Job %s interrupted: its worker stopped beating", job.pk)


def _unlinked_intent(job, item):
    """The intent a worker logged for `item` but died before linking to it, if any."""
    return (
        AuditEvent.objects.filter(
            outcome=INTENT, target=item.target, cluster_id=job.cluster_id, details__job=job.pk
        )
        .order_by("-id")
        .first()
    )


def finish_summary(job):
    counts = job.counts()
    if job.kind == REGISTRY_CRAWL:
        counts = counts | {"requests": job.requests, "missing_answers": job.missing}
        return crawl_summary(counts), counts
    return (
        f"{counts['deleted']} deleted, {counts['gone']} already gone, {counts['refused']} "
        f"refused, {counts['failed']} failed, {counts['unknown']} unknown, "
        f"{counts['not_attempted']} not attempted, of {counts['total']}"
    ), counts


def crawl_summary(counts):
    """ "1,204 of 10,000 repositories read, 3,511 requests, 12 missing" and what stopped."""
    done = counts["crawled"] + counts["known"] + counts["missing"]
    parts = [
        f"{done:,} of {counts['total']:,} repositories read",
        f"{counts['requests']:,} requests",
        f"{counts['missing_answers']:,} missing",
    ]
    parts += [
        f"{counts[key]:,} {label}"
        for key, label in (("failed", "failed"), ("gone", "gone"), ("not_attempted", "not read"))
        if counts[key]
    ]
    return ", ".join(parts)


def log_finish(request, job, state):
    summary, counts = finish_summary(job)
    counts = {key: value for key, value in counts.items() if key not in ("settled", "pending")}
    log_job_event(
        request,
        job,
        "job.finish",
        f"{JOB_STATES[state].capitalize()}: {summary}",
        {**counts, "state": state},
        outcome="ok" if state not in (FAILED, INTERRUPTED) else "failed",
    )


def log_job_event(request, job, action, message, details=None, outcome="ok"):
    record_event(
        request,
        action,
        outcome=outcome,
        cluster=job.cluster,
        target=f"job {job.pk}",
        message=message,
        details={"job": job.pk, **(details or {})},
    )
