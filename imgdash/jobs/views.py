"""The Jobs pages: your jobs (admins: everyone's), one job's live progress, cancel, resume."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from imgdash.accounts.roles import OPERATOR, is_admin, role_required
from imgdash.clusters.decorators import RECONNECT_TAG, connect_url
from imgdash.clusters.services import NeedsConnection, user_client
from imgdash.jobs.models import (
    FINISHED,
    ITEM_STATES,
    QUEUED,
    REGISTRY_CRAWL,
    RUNNING,
    SETTLED,
    Job,
)
from imgdash.jobs.services import (
    RESUMABLE,
    cancel_job,
    finish_summary,
    notice_interrupted,
    resume_job,
)

LIST_LIMIT = 200
CRAWL_PROBLEMS = ("failed", "missing", "gone", "unknown")
MAX_ID = 2**63 - 1


def _visible_jobs(user):
    return Job.objects.all() if is_admin(user) else Job.objects.filter(owner=user)


def _get_job_for_user(user, job_id):
    """The job, if `user` may see it (its owner, or an admin); else 404."""
    if job_id > MAX_ID:
        raise Http404("No such job.")
    return get_object_or_404(_visible_jobs(user).select_related("cluster", "owner"), pk=job_id)


def _job_url(job):
    return reverse("jobs:detail", args=[job.pk])


def _fragment_or_page(request, template, fragment):
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return f"{template}#{fragment}"
    return template


@require_GET
def job_list(request):
    notice_interrupted()
    per_state = {
        state: Count("items", filter=Q(items__state=state)) for state in ("deleted", "gone")
    }
    jobs = (
        _visible_jobs(request.user)
        .select_related("cluster")
        .annotate(
            total=Count("items"),
            settled=Count("items", filter=Q(items__state__in=SETTLED)),
            problems=Count("items", filter=Q(items__state__in=("refused", "failed", "unknown"))),
            **per_state,
        )
        .order_by("-id")[: LIST_LIMIT + 1]
    )
    jobs = list(jobs)
    context = {
        "jobs": jobs[:LIST_LIMIT],
        "more": len(jobs) > LIST_LIMIT,
        "sees_everyone": is_admin(request.user),
        "nav_section": "jobs",
    }
    return render(request, "jobs/list.html", context)


def result_summary(counts):
    """What a finished job did, in one line: "6 deleted, 1 refused, 0 unknown." Deleted,
    refused and unknown always; already gone, failed and not attempted when there are any."""
    shown = [
        ("deleted", "deleted", True),
        ("gone", "already gone", False),
        ("refused", "refused", True),
        ("failed", "failed", False),
        ("unknown", "unknown", True),
        ("not_attempted", "not attempted", False),
    ]
    parts = [f"{counts[key]:,} {label}" for key, label, always in shown if always or counts[key]]
    return ", ".join(parts) + "."


@require_GET
@vary_on_headers("HX-Request")
def job_detail(request, job_id):
    notice_interrupted()
    job = _get_job_for_user(request.user, job_id)
    counts = job.counts()
    context = {
        "job": job,
        "counts": counts,
        "items": job.items.select_related("intent").order_by("position"),
        "item_states": ITEM_STATES,
        "is_owner": job.owner_id == request.user.pk,
        "can_cancel": job.state in (QUEUED, RUNNING, *RESUMABLE) and not job.cancel_requested,
        "can_resume": job.state in RESUMABLE
        and not job.cancel_requested
        and counts["not_attempted"] > 0,
        "finished": job.state in FINISHED,
        "result_summary": result_summary(counts),
        "nav_section": "jobs",
    }
    if job.kind == REGISTRY_CRAWL:
        context["crawl_summary"] = finish_summary(job)[0]
        # Thousands of repositories: only those that need a look, a page's worth.
        context["items"] = context["items"].filter(state__in=CRAWL_PROBLEMS)[:LIST_LIMIT]
        context["result_summary"] = context["crawl_summary"] + "."
    # The last poll (the job finished) also swaps the buttons, outside the polled part, once.
    context["oob"] = bool(request.htmx) and context["finished"]
    return render(request, _fragment_or_page(request, "jobs/detail.html", "progress"), context)


@require_POST
def cancel(request, job_id):
    job = _get_job_for_user(request.user, job_id)
    messages.info(request, cancel_job(request, job))
    return redirect(_job_url(job))


@require_POST
@role_required(OPERATOR)
def resume(request, job_id):
    job = _get_job_for_user(request.user, job_id)
    if job.owner_id != request.user.pk:
        messages.warning(request, "Only the person who started a job can resume it.")
        return redirect(_job_url(job))
    if job.cluster is None:
        messages.error(request, "Its cluster was removed: this job cannot be resumed.")
        return redirect(_job_url(job))
    try:
        client, _ = user_client(request.user, job.cluster)
        client.close()
    except NeedsConnection as reason:
        messages.warning(request, f"{reason} Then resume the job.", extra_tags=RECONNECT_TAG)
        return redirect(connect_url(job.cluster, _job_url(job)))
    resumed, message = resume_job(request, job)
    (messages.success if resumed else messages.warning)(request, message)
    return redirect(_job_url(job))
