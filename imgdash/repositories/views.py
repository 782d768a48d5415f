from urllib.parse import quote, urlsplit

from django.conf import settings
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from imgdash.accounts.roles import VIEWER, role_required
from imgdash.clusters.decorators import cluster_client_view, upstream_error_response
from imgdash.imagemanager import (
    SIZE_AT_LEAST,
    SIZE_EXACT,
    SIZE_UNKNOWN,
    ImageManagerError,
    is_valid_repository_name,
)
from imgdash.repositories import built as built_dates
from imgdash.repositories import facts, fetching, search
from imgdash.repositories.index import list_index
from imgdash.repositories.versions import is_version, newest_first

SCOPE_HELP = {
    "global": "Every namespace in the cluster can pull it.",
    "namespace": "Only workloads in its own namespace can pull it.",
}
# Query parameters that only steer one request (a refresh, a fetch's progress), never kept.
INTERNAL_PARAMS = ("refresh", "fetch", "stage")
MAX_RETURN_URL = 2000


def fragment_or_page(request, template, fragment):
    """The whole page, or only the named partial when htmx asks for it.

    htmx restoring history after a cache miss wants the whole page, though it says HX-Request.
    Views using this also vary on HX-Request, so no cache hands one answer out for the other.
    """
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return f"{template}#{fragment}"
    return template


def list_return_url(request, cluster, value):
    """`value` when it is this cluster's repository list on this site (a filtered, sorted,
    paged view to come back to after a change), rebuilt from its query; else None."""
    if not value or len(value) > MAX_RETURN_URL:
        return None
    if not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(value)
    list_url = reverse("repositories:list", args=[cluster.slug])
    if parts.path != list_url:
        return None
    params = QueryDict(parts.query, mutable=True)
    for internal in INTERNAL_PARAMS:
        params.pop(internal, None)
    return f"{list_url}?{params.urlencode()}" if params else list_url


def valid_name_or_404(name):
    """Refuse an invalid repository name before anything is sent to the cluster."""
    if not is_valid_repository_name(name):
        raise Http404(f"{name[:100]!r} is not a valid repository name.")
    return name


@require_GET
@vary_on_headers("HX-Request")
@role_required(VIEWER)
@cluster_client_view
def repository_list(request, cluster, client):
    refresh = request.GET.get("refresh") == "1"
    fetch_id = request.GET.get("fetch", "")[:32]
    # A page following a fetch asks every second for its progress, and waits for nothing.
    polling = bool(request.htmx) and request.htmx.target == "fetch-progress"
    full_q = request.GET.get("q", "")
    q = full_q[: search.MAX_QUERY_LENGTH]
    namespace = request.GET.get("namespace", "")[:100]
    scope = request.GET.get("scope", "")
    sort_key, descending = search.parse_sort(request.GET.get("sort", "name"))
    params = request.GET.copy()
    for internal in INTERNAL_PARAMS:
        params.pop(internal, None)
    template = fragment_or_page(request, "repositories/list.html", "results")
    list_return = f"{request.path}?{params.urlencode()}" if params else request.path
    context = {
        "params": params,
        "cluster": cluster,
        "nav_section": "repositories",
        "q": q,
        "namespace": namespace,
        "scope": scope if scope in search.SCOPES else "",
        "sort_key": sort_key,
        "descending": descending,
        "sort": ("-" if descending else "") + sort_key,
        "page_sizes": search.PAGE_SIZES,
        "per_page": search.parse_page_size(request.GET.get("per_page")),
        "scope_help": SCOPE_HELP,
        "descending_first": search.DESCENDING_FIRST,
        # Where a delete or scope change started here comes back to, with ?next=.
        "list_return": list_return,
        "list_return_quoted": quote(list_return, safe=""),
        "fragment": "#" in template,
    }
    try:
        snapshot, fetch = list_index(
            request.user,
            cluster,
            refresh=refresh,
            fetch_id=fetch_id,
            wait=0 if polling else None,
            credential=request.cluster_credential,
        )
    except ImageManagerError as error:
        response = upstream_error_response(request, template, context, error)
        return _replacing_results(response) if polling else response
    context["fetch"] = fetch
    if polling and fetch is not None:
        context["announce"] = request.GET.get("stage") != fetch.stage
        return render(request, "repositories/list.html#fetch_progress", context)
    if refresh and not request.htmx and (snapshot is None or snapshot.error is None):
        # Refreshed, or refreshing: the same list without the refresh flag in the URL.
        follow = params.copy()
        if fetch is not None:
            follow["fetch"] = fetch.id
        return redirect(f"{request.path}?{follow.urlencode()}" if follow else request.path)
    if snapshot is not None:
        context.update(
            _results(request, cluster, snapshot, full_q, namespace, scope, sort_key, descending)
        )
    if "#" not in template or polling:  # the namespace filter sits outside the results fragment
        context["namespaces"] = (
            search.namespaces(snapshot.entries, snapshot.derived) if snapshot else []
        )
        context["namespaces_oob"] = polling
    response = render(request, template, context)
    if refresh:
        response["HX-Replace-Url"] = f"{request.path}?{params.urlencode()}"
    return _replacing_results(response) if polling else response


def _results(request, cluster, snapshot, full_q, namespace, scope, sort_key, descending):
    query = search.parse_query(full_q, namespace, scope)
    built = built_dates.built_dates(cluster, snapshot.entries, snapshot.derived)
    found = search.sorted_matches(
        snapshot.entries, query, sort_key, descending, snapshot.derived, built
    )
    page = search.paginate(
        found,
        search.parse_page(request.GET.get("page")),
        search.parse_page_size(request.GET.get("per_page")),
    )
    # reverse() for each row was a third of a page's cost. A valid name needs no quoting, so
    # the list's own URL, the name and "/" is exactly what reverse() gives for its detail page.
    list_url = request.path
    rows = [
        (entry, *search.matching_tags(entry, query), f"{list_url}{entry.name}/")
        for entry in page.object_list
    ]
    return {
        "snapshot": snapshot,
        "query": query,
        "page": page,
        "rows": rows,
        "total": len(snapshot.entries),
        "built": built,
    }


def _replacing_results(response):
    """A polling page's answer once its fetch ended: the results (or the error) replace the
    progress view."""
    return reswap(retarget(response, "#results"), "outerHTML")


@require_GET
@role_required(VIEWER)
@cluster_client_view
def repository_detail(request, cluster, client, name):
    return _detail(request, cluster, client, name, settings.REGISTRY_DEADLINE_MS / 1000)


@require_GET
@vary_on_headers("HX-Request")
@role_required(VIEWER)
@cluster_client_view
def repository_facts(request, cluster, client, name):
    """The tags section once the registry's facts are in (the page's placeholders ask for it).

    Asks the cluster for the repository again with the user's token, so facts are only ever
    read for digests a repository the user may see refers to; without htmx, the whole page.
    """
    return _detail(
        request, cluster, client, name, settings.IMAGEMANAGER_CALL_DEADLINE, follow_up=True
    )


def _detail(request, cluster, client, name, deadline, follow_up=False):
    valid_name_or_404(name)
    tag_order = request.GET.get("tags", "")
    if tag_order not in TAG_ORDERS:
        tag_order = "newest"
    template = "repositories/detail.html"
    if follow_up:
        template = fragment_or_page(request, template, "tag_section")
    context = {
        "cluster": cluster,
        "name": name,
        "nav_section": "repositories",
        "scope_help": SCOPE_HELP,
        "tag_order": tag_order,
        "tag_orders": TAG_ORDERS,
        # The fragment also replaces the Overview's size, which the registry may have made exact.
        "oob": "#" in template,
    }
    try:
        # Always from the cluster, never the index: new tags and revoked tokens show at once.
        repository = client.get_repository(name)
    except ImageManagerError as error:
        return upstream_error_response(request, template, context, error)
    known = facts.gather(cluster, repository)
    outcome = fetching.fill_store(cluster, client, repository, known, deadline)
    if outcome.fetched:
        known = facts.gather(cluster, repository)
    # Placeholders fill in by htmx only when waiting longer may help: the registry was slow.
    fill_in = outcome.timed_out and not follow_up and not known.complete
    version_order = newest_first(repository.tags)
    # `latest`, else the highest version: what someone opening the page wants to pull.
    pull_tag = next((tag for tag in version_order if tag.valid), None)
    rows = [(tag, known.by_tag[tag.name]) for tag in version_order]
    context.update(
        {
            "repository": repository,
            "tags": version_order,
            "rows": sorted_rows(rows, tag_order),
            "dates_known": known.any_date,
            "fill_in": fill_in,
            "registry_note": ""
            if fill_in
            else fetching.registry_note(cluster, outcome, known.complete),
            "pull_tag": pull_tag,
            "pull_tag_is_highest": len(version_order) > 1
            and pull_tag
            and is_version(pull_tag.name),
            "size": repository_size(repository, known),
        }
    )
    return render(request, template, context)


TAG_ORDERS = {"newest": "newest first", "version": "by version", "name": "by name"}


def sorted_rows(rows, tag_order):
    """(tag, facts) pairs, `rows` being in version order, in the order asked for.

    Newest first needs dates: tags without one follow in version order; with no date at all
    (no registry), it is the version order."""
    if tag_order == "name":
        return sorted(rows, key=lambda row: (row[0].name.lower(), row[0].name))
    if tag_order == "newest":
        # Stable: tags without a date keep their version order after the dated ones.
        return sorted(rows, key=lambda row: _newest_key(row[1].created))
    return rows


def _newest_key(created):
    return (1, 0.0) if created is None else (0, -created.timestamp())


def repository_size(repository, known):
    """(bytes, state, tags of unknown size) for the Overview: the API's sizes, plus the true
    sizes of manifest lists where the registry told them (each platform manifest once)."""
    size = repository.size_summary().size
    counted = set()
    unsized = 0
    for tag in repository.tags:
        if tag.manifest.size_known:
            continue
        tag_facts = known.by_tag[tag.name]
        if not tag_facts.platforms or tag_facts.list_size_state != "exact":
            unsized += 1
        for platform in tag_facts.sized_platforms:
            if platform.manifest.digest not in counted:
                counted.add(platform.manifest.digest)
                size += platform.manifest.size
    tags = repository.tag_count
    if not unsized:
        state = SIZE_EXACT
    elif unsized < tags or size:
        state = SIZE_AT_LEAST
    else:
        state = SIZE_UNKNOWN
    return {"bytes": size, "state": state, "unsized": unsized}


@require_GET
@role_required(VIEWER)
@cluster_client_view
def cluster_status(request, cluster, client):
    context = {
        "cluster": cluster,
        "credential": request.cluster_credential,
        "nav_section": "status",
    }
    try:
        context["banner"] = client.endpoints()
    except ImageManagerError as error:
        return upstream_error_response(request, "repositories/status.html", context, error)
    return render(request, "repositories/status.html", context)


STORAGE_COLUMNS = [
    ("namespace", "Namespace", ""),
    ("repositories", "Repositories", "num"),
    ("tags", "Tags", "num"),
    ("size", "Size", "num"),
]
STORAGE_SORTS = {key for key, _, _ in STORAGE_COLUMNS}


@require_GET
@role_required(VIEWER)
@cluster_client_view
def storage(request, cluster, client):
    context = {"cluster": cluster, "nav_section": "storage"}
    fetch_id = request.GET.get("fetch", "")[:32]
    try:
        # Like the list: a cold registry answers with the fetch's progress, not a long wait.
        snapshot, fetch = list_index(
            request.user,
            cluster,
            fetch_id=fetch_id,
            wait=0 if request.htmx else None,
            credential=request.cluster_credential,
        )
    except ImageManagerError as error:
        return upstream_error_response(request, "repositories/storage.html", context, error)
    if snapshot is None:
        context.update({"fetch": fetch, "sort": request.GET.get("sort", "-size")[:20]})
        return render(request, "repositories/storage.html", context)
    # Computed once per copy of the index; a copy of the list, since sorting it is per request.
    entries, derived = snapshot.entries, snapshot.derived
    rows = list(derived.get("namespace_totals", lambda: search.namespace_totals(entries)))
    sort = request.GET.get("sort", "-size")
    key = sort.lstrip("-")
    if key in STORAGE_SORTS:
        rows.sort(key=lambda row: (row[key], row["namespace"]), reverse=sort.startswith("-"))
        if key == "size":
            # An unknown size is not 0 B: last whichever way the sizes go (sort is stable).
            rows.sort(key=lambda row: row["size_state"] == SIZE_UNKNOWN)
    else:
        sort = "-size"
    size, size_state, unsized = derived.get("size_total", lambda: search.size_total(entries))
    context.update(
        {
            "snapshot": snapshot,
            "rows": rows,
            "sort": sort,
            "storage_columns": STORAGE_COLUMNS,
            "chart": chart_rows(rows),
            "total": {
                "repositories": len(snapshot.entries),
                "tags": sum(row["tags"] for row in rows),
                "size": size,
                "size_state": size_state,
                "unsized": unsized,
            },
        }
    )
    return render(request, "repositories/storage.html", context)


def chart_rows(rows, limit=15):
    """Bars for the SVG chart: the largest namespaces by size, positioned server-side.

    The longest bar leaves room after it for its label, "at least 703.6 MB" included."""
    top = sorted(rows, key=lambda row: -row["size"])[:limit]
    largest = top[0]["size"] if top and top[0]["size"] else 1
    return [
        {
            "namespace": row["namespace"] or "(none)",
            "size": row["size"],
            "size_state": row["size_state"],
            "unsized": row["unsized"],
            "y": index * 26,
            "width": round(500 * row["size"] / largest, 1),
        }
        for index, row in enumerate(top)
    ]
