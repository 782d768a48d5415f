"""/people/: the admins' page of every user, their roles, tokens and sessions.

Admins only, checked in each view. Every change is a POST that comes back to the list it
was made from (its search and page), with a message saying what happened.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from imgdash.accounts.roles import admin_required
from imgdash.accounts.sessions import sign_out_everywhere
from imgdash.core import people
from imgdash.repositories.views import fragment_or_page

MAX_QUERY = 200
# The largest id a database integer holds: a longer one would fail in the database, not 404.
MAX_ID = 2**63 - 1


def _person_or_404(user_id):
    if user_id > MAX_ID:
        raise Http404("No such person")
    return get_object_or_404(get_user_model(), pk=user_id)


def _back_to_list(request):
    """The people list the change came from (its search and page), else the first page."""
    list_url = reverse("people:list")
    value = request.POST.get("next") or request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure())
    if safe and value.startswith(list_url) and not value.startswith("//"):
        return value
    return list_url


def _done(request):
    target = _back_to_list(request)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_GET
@vary_on_headers("HX-Request")
@admin_required
def people_list(request):
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    page = people.page_of_people(q, request.GET.get("page"))
    rows = []
    for user in page:
        roles = people.roles_of(user)
        rows.append(
            {
                "user": user,
                "sign_in": people.sign_in_method(user),
                "roles": roles,
                "grantable": [role for role in people.GRANTABLE if role not in roles],
                "tokens": [(c, people.token_state(c)) for c in user.cluster_credentials.all()],
            }
        )
    context = {
        "rows": rows,
        "page": page,
        "q": q,
        "here": request.get_full_path(),
        "nav_section": "people",
    }
    return render(request, fragment_or_page(request, "core/people.html", "results"), context)


def _change_role(request, user_id, *, grant):
    user = _person_or_404(user_id)
    role = request.POST.get("role", "")
    try:
        people.change_role(request, user, role, grant=grant)
    except people.Refused as refusal:
        messages.error(request, str(refusal))
    else:
        name = user.get_username()
        if grant:
            messages.success(request, f"{name} now has the {role} role, from their next page.")
        else:
            messages.success(request, f"{name} no longer has the {role} role.")
    return _done(request)


@require_POST
@admin_required
def grant(request, user_id):
    return _change_role(request, user_id, grant=True)


@require_POST
@admin_required
def remove(request, user_id):
    return _change_role(request, user_id, grant=False)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@admin_required
def deactivate(request, user_id):
    """GET: the confirmation (a page, or a dialog with htmx). POST: deactivate."""
    user = _person_or_404(user_id)
    if request.method == "GET":
        context = {
            "person": user,
            "tokens": user.cluster_credentials.count(),
            "next": _back_to_list(request),
            "nav_section": "people",
        }
        return render(request, fragment_or_page(request, "core/deactivate.html", "dialog"), context)
    try:
        deleted = people.deactivate(request, user)
    except people.Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            f"{user.get_username()} is deactivated: signed out everywhere, "
            f"{deleted} stored cluster token{'s' if deleted != 1 else ''} deleted.",
        )
    return _done(request)


@require_POST
@admin_required
def reactivate(request, user_id):
    user = _person_or_404(user_id)
    people.reactivate(request, user)
    messages.success(
        request,
        f"{user.get_username()} can sign in again. Their deleted cluster tokens stay deleted: "
        "they connect again.",
    )
    return _done(request)


@require_POST
@admin_required
def sign_out(request, user_id):
    user = _person_or_404(user_id)
    sign_out_everywhere(user, request)
    messages.success(request, f"Every session of {user.get_username()} has ended.")
    return _done(request)
