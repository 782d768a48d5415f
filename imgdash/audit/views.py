from django.db.models import Exists, OuterRef
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imgdash.audit.export import FORMATS, export_response
from imgdash.audit.forms import LogFilterForm
from imgdash.audit.models import READ_ALL_PERMISSION, AuditEvent

PAGE_SIZE = 50
MAX_PAGE = 100_000


def sees_everything(user):
    """Auditors and admins: the Auditor role carries this permission, superusers have all."""
    return user.has_perm(READ_ALL_PERMISSION)


def _events_for(user):
    """The rows this user may read: all of them for auditors and admins, else their own."""
    if sees_everything(user):
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(actor=user)


def _page_number(request):
    try:
        return min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def _page_of(events, page):
    """One page, newest first, without counting millions of rows: just "is there more"."""
    start = (page - 1) * PAGE_SIZE
    answered = AuditEvent.objects.filter(intent=OuterRef("pk"))
    found = list(
        events.annotate(has_outcome=Exists(answered))
        .select_related("intent")
        .order_by("-id")[start : start + PAGE_SIZE + 1]
    )
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def shown_rows(rows):
    """The page's rows as the page shows them: an outcome row carries its intent (both
    times, both details), and an intent whose outcome is on the same page is not shown again
    on its own. Only the page pairs them: the log and its exports keep both rows."""
    on_page = {row.pk for row in rows}
    answered_here = {row.intent_id for row in rows if row.intent_id in on_page}
    for row in rows:
        row.intent_on_page = row.intent_id in on_page
    return [row for row in rows if row.pk not in answered_here]


@never_cache
@require_GET
def audit_log(request):
    events = _events_for(request.user)
    form = LogFilterForm(request.GET)
    export_format = request.GET.get("format", "")
    if export_format:
        if export_format not in FORMATS:
            return HttpResponseBadRequest(
                "Unknown export format. Use ?format=csv or ?format=jsonl.",
                content_type="text/plain; charset=utf-8",
            )
        if not form.is_valid():
            return HttpResponseBadRequest(
                "The filter is not valid, nothing was exported: " + form.errors.as_text(),
                content_type="text/plain; charset=utf-8",
            )
        return export_response(form.filter(events), export_format)

    page = _page_number(request)
    rows, has_older = _page_of(form.filter(events), page) if form.is_valid() else ([], False)
    context = {
        "form": form,
        "rows": rows,
        "shown": shown_rows(rows),
        "page": page,
        "has_older": has_older,
        "sees_everything": sees_everything(request.user),
        "nav_section": "audit",
    }
    fragment = request.htmx and not request.htmx.history_restore_request
    response = render(request, "audit/log.html#results" if fragment else "audit/log.html", context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
