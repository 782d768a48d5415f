"""The cleanup page: candidates by rule, a dry run of what would go, then the bulk delete.

It only reads the user's cached index; deleting is the list's confirmed bulk delete
(write_views.bulk_delete), which this page's form posts to, so there is one delete path.
"""

import time

from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from imgdash.accounts.roles import VIEWER, role_required
from imgdash.clusters.decorators import cluster_client_view, upstream_error_response
from imgdash.imagemanager import ImageManagerError
from imgdash.repositories import cleanup, search
from imgdash.repositories.index import list_index
from imgdash.repositories.views import fragment_or_page
from imgdash.repositories.write_views import MAX_BULK

TEMPLATE = "repositories/cleanup.html"


@require_GET
@vary_on_headers("HX-Request")
@role_required(VIEWER)
@cluster_client_view
def cleanup_candidates(request, cluster, client):
    rules = cleanup.parse_rules(request.GET)
    sort_key, descending = search.parse_sort(request.GET.get("sort", "-size"))
    params = request.GET.copy()
    params.pop("fetch", None)
    template = fragment_or_page(request, TEMPLATE, "candidates")
    context = {
        "cluster": cluster,
        "nav_section": "cleanup",
        "rules": rules,
        "params": params,
        "sort_key": sort_key,
        "descending": descending,
        "descending_first": search.DESCENDING_FIRST,
        "page_sizes": search.PAGE_SIZES,
        "per_page": search.parse_page_size(request.GET.get("per_page")),
        "max_bulk": MAX_BULK,
        "needs_dates": cleanup.NEEDS_DATES,
    }
    try:
        # Like the list: a cold registry answers with the fetch's progress, not a long wait.
        snapshot, fetch = list_index(
            request.user,
            cluster,
            fetch_id=request.GET.get("fetch", "")[:32],
            wait=0 if request.htmx else None,
            credential=request.cluster_credential,
        )
    except ImageManagerError as error:
        return upstream_error_response(request, template, context, error)
    context["fetch"] = fetch
    if snapshot is not None:
        context.update(_dry_run(request, cluster, snapshot, rules, sort_key, descending))
    return render(request, template, context, status=400 if rules.problems else 200)


def _dry_run(request, cluster, snapshot, rules, sort_key, descending):
    stamp, dates = cleanup.built_dates(cluster, snapshot)
    # Kept beside the index copy, so paging and sorting thousands of candidates picks once
    # (per state of the build dates, and per hour, as "not built for N days" ages).
    found = snapshot.derived.get(
        ("cleanup", rules.key, stamp, int(time.time() // 3600)),
        lambda: cleanup.pick(snapshot.entries, rules, dates),
    )
    ordered = found.entries
    if (sort_key, descending) != ("size", True):
        ordered = search.sort_entries(found.entries, sort_key, descending)
    page = search.paginate(
        ordered,
        search.parse_page(request.GET.get("page")),
        search.parse_page_size(request.GET.get("per_page")),
    )
    size, size_state, unsized = search.size_total(found.entries)
    return {
        "snapshot": snapshot,
        "namespaces": search.namespaces(snapshot.entries, snapshot.derived),
        "dates": dates,
        "dates_known": bool(dates),
        "undated": found.undated,
        "count": len(found.entries),
        "all_names": [e.name for e in found.entries if e.linkable]
        if len(found.entries) <= MAX_BULK
        else [],
        "page": page,
        "rows": [(e, dates.get(e.name)) for e in page.object_list],
        "total_tags": sum(e.tag_count for e in found.entries),
        "total_size": size,
        "total_size_state": size_state,
        "unsized": unsized,
    }
