from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imgdash.accounts.roles import AUDITOR, VIEWER, has_role


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
