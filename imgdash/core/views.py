import logging
import secrets

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imgdash.accounts.lockout import client_address
from imgdash.accounts.roles import AUDITOR, VIEWER, has_role
from imgdash.core import metrics as metrics_

logger = logging.getLogger("imgdash.core")


@require_GET
def home(request):
    """Send each user to where their role lets them start."""
    if has_role(request.user, VIEWER):
        return redirect("clusters:home")
    if has_role(request.user, AUDITOR):
        return redirect("audit:log")
    return render(request, "core/no_role.html", status=403)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Load balancers ask this: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "not answering"}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request):
    """Whether this instance should get traffic: 200 when the database answers with every
    migration applied and the cache takes a write and reads it back, else 503 saying which.

    /healthz stays liveness (restart me if this fails); this is readiness (send no users yet).
    Reasons are short and fixed: the exception text stays in the server log.
    """
    checks = {"database": _database_ready(), "cache": _cache_ready()}
    checks["migrations"] = _migrations_applied() if checks["database"] == "ok" else "unknown"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", **checks}
    return JsonResponse(body, status=200 if ready else 503)


def _database_ready():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Readiness: the database is not answering", exc_info=True)
        return "not answering"
    return "ok"


def _migrations_applied():
    try:
        executor = MigrationExecutor(connections["default"])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.warning("Readiness: cannot read the applied migrations", exc_info=True)
        return "not answering"
    return "ok" if not pending else f"{len(pending)} not applied"


def _cache_ready():
    key, value = "imgdash:readyz", secrets.token_hex(8)
    try:
        cache.set(key, value, timeout=30)
        answered = cache.get(key)
    except Exception:  # each backend raises its own errors (redis, file system, database)
        logger.warning("Readiness: the cache is not answering", exc_info=True)
        return "not answering"
    return "ok" if answered == value else "not keeping values"


@login_not_required
@never_cache
@require_GET
def metrics(request):
    """Prometheus metrics, for clients in IMGDASH_METRICS_ALLOW only (404 to others, as if
    there were nothing here)."""
    # Forwarded by a proxy imgdash was not told about: the address seen is the proxy's own
    # (often loopback), not the client's, so it proves nothing.
    unknown_proxy = settings.TRUSTED_PROXY_COUNT == 0 and "X-Forwarded-For" in request.headers
    if unknown_proxy or not metrics_.allowed(client_address(request) or ""):
        raise Http404("No such page")
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return HttpResponse(
        generate_latest(metrics_.scrape_registry()), content_type=CONTENT_TYPE_LATEST
    )


@login_not_required
@require_GET
def favicon(request):
    """/favicon.ico, which browsers and tools ask for when a page names no icon: the SVG."""
    return redirect(static("img/favicon.svg"), permanent=True)


def server_error(request):
    """handler500: the plain error page, with the request id to quote to an admin.

    No context processors or database queries: the database may be why we are here.
    """
    template = loader.get_template("500.html")
    request_id = getattr(request, "request_id", "")
    return HttpResponseServerError(template.render({"request_id": request_id}))
