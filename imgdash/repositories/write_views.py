"""The write views: change scope, delete, bulk delete, docker-login token.

Each is Operator-only (checked here, before any upstream call), CSRF-protected, logged as
intent then outcome, and honest about what happened.
"""

import json
import secrets
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from imgdash.accounts.roles import OPERATOR, role_required
from imgdash.audit.log import record_event
from imgdash.clusters.decorators import (
    cluster_client_view,
    reconnect_response,
    upstream_error_response,
)
from imgdash.clusters.services import credential_for, mark_stale
from imgdash.imagemanager import (
    CATALOG_SCOPE,
    SCOPES,
    SIZE_UNKNOWN,
    ImageManagerError,
    NotFound,
    Unauthorized,
    is_valid_repository_name,
    repository_scope,
)
from imgdash.jobs.services import start_job
from imgdash.repositories import index, search
from imgdash.repositories.confirmation import claim_confirmation, confirmation_token
from imgdash.repositories.logged_writes import classify, perform
from imgdash.repositories.versions import newest_first
from imgdash.repositories.views import (
    SCOPE_HELP,
    fragment_or_page,
    list_return_url,
    valid_name_or_404,
)

MAX_BULK = 500
OUTCOME_STATUS = {"ok": 200, "refused": 409, "failed": 502, "unknown": 504}


def _detail_url(cluster, name):
    return reverse("repositories:detail", args=[cluster.slug, name])


def _list_url(cluster):
    return reverse("repositories:list", args=[cluster.slug])


def _return_to(request, cluster):
    """The list view a change started from (its `next`), if it is this cluster's list."""
    value = request.POST.get("next") or request.GET.get("next", "")
    return list_return_url(request, cluster, value)


def _after_unauthorized(request, cluster, result):
    """A 401 on a write: logged already; mark the token stale and send the user to reconnect."""
    mark_stale(request, credential_for(request.user, cluster), result.error)
    return reconnect_response(
        request,
        cluster,
        f"{cluster.name} did not accept your token. "
        "Reconnect, then try again: nothing was changed.",
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(OPERATOR)
@cluster_client_view
def change_scope(request, cluster, client, name):
    valid_name_or_404(name)
    template = "repositories/scope.html"
    context = {
        "cluster": cluster,
        "name": name,
        "scope_help": SCOPE_HELP,
        "nav_section": "repositories",
        "next": _return_to(request, cluster),
    }
    try:
        repository = client.get_repository(name)
    except ImageManagerError as error:
        return upstream_error_response(
            request, fragment_or_page(request, template, "form"), context, error
        )
    context["repository"] = repository
    if request.method == "GET" and request.GET.get("show") == "badge":
        # Cancel in the inline editor: the badge again, its "change" link focused.
        badge = {**context, "scope": repository.scope, "focus": bool(request.htmx)}
        return render(request, f"{template}#badge", badge)
    if request.method == "GET":
        return render(request, fragment_or_page(request, template, "form"), context)

    scope = request.POST.get("scope", "")
    if scope not in SCOPES:
        context["form_error"] = "Choose global or namespace."
        return render(request, fragment_or_page(request, template, "form"), context, status=400)
    if scope == repository.scope:
        message = f"{name} already has scope {scope}; nothing was changed."
        return _scope_done(
            request, cluster, name, scope, message, changed=False, next_url=context["next"]
        )
    result = perform(
        request,
        cluster,
        "repository.scope",
        name,
        {"from": repository.scope, "to": scope},
        lambda: client.set_scope(name, scope),
    )
    if isinstance(result.error, Unauthorized):
        return _after_unauthorized(request, cluster, result)
    if result.ok:
        index.change_scope(request.user, cluster, name, scope)
        message = f"{name} now has scope {scope}: {SCOPE_HELP[scope]}"
        return _scope_done(request, cluster, name, scope, message, next_url=context["next"])
    if result.outcome == "unknown":
        index.drop_index(request.user, cluster)
    context.update({"result": result, "chosen": scope})
    return render(
        request,
        fragment_or_page(request, template, "form"),
        context,
        status=OUTCOME_STATUS[result.outcome],
    )


def _scope_done(request, cluster, name, scope, message, changed=True, next_url=None):
    if request.htmx:
        # Inline edit (detail page or list row): the new badge where the form was, saying what
        # happened there. A queued message would show up on whatever page is opened next.
        context = {
            "cluster": cluster,
            "name": name,
            "scope": scope,
            "scope_help": SCOPE_HELP,
            "focus": True,
            "confirmation": message,
            "confirmation_id": f"scope-done-{secrets.token_hex(4)}",
            "changed": changed,
        }
        return render(request, "repositories/scope.html#badge", context)
    (messages.success if changed else messages.info)(request, message)
    # Back where the change started: the list it was made from, or the repository.
    return redirect(next_url or _detail_url(cluster, name))


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(OPERATOR)
@cluster_client_view
def delete_repository(request, cluster, client, name):
    valid_name_or_404(name)
    template = "repositories/delete.html"
    fragment = fragment_or_page(request, template, "dialog")
    next_url = _return_to(request, cluster)
    context = {
        "cluster": cluster,
        "name": name,
        "nav_section": "repositories",
        "next": next_url,
    }
    try:
        repository = client.get_repository(name)
    except NotFound:
        index.forget_repository(request.user, cluster, name)
        messages.info(request, f"{name} is already gone: someone else deleted it.")
        return _to_list(request, cluster, next_url)
    except ImageManagerError as error:
        return upstream_error_response(request, fragment, context, error)
    context.update(
        {
            "repository": repository,
            "tags": newest_first(repository.tags),
            "confirmation": confirmation_token(request.user, f"delete:{name}"),
        }
    )
    if request.method == "GET":
        return render(request, fragment, context)

    if request.POST.get("confirm", "").strip() != name:
        context["form_error"] = (
            "The name you typed does not match. Type the full repository "
            f"name, {name}, to delete it. Nothing was deleted."
        )
        return render(request, fragment, context, status=400)
    if not claim_confirmation(request.user, f"delete:{name}", request.POST.get("confirmation")):
        messages.warning(
            request,
            f"This delete of {name} was already submitted (or its form "
            "expired); it was not sent again.",
        )
        return _to_list(request, cluster, next_url)
    details = {
        "tags": repository.tag_count,
        "size": repository.size,
        "size_state": repository.size_state,
        "scope": repository.scope,
    }
    result = perform(
        request, cluster, "repository.delete", name, details, lambda: client.delete_repository(name)
    )
    if isinstance(result.error, Unauthorized):
        return _after_unauthorized(request, cluster, result)
    if result.ok or result.gone:
        index.forget_repository(request.user, cluster, name)
        if result.ok:
            messages.success(
                request,
                f"Deleted {name} and its {repository.tag_count} "
                f"tag{'s' if repository.tag_count != 1 else ''}. Disk space returns "
                "after the registry's garbage collection.",
            )
        else:
            index.drop_index(request.user, cluster)
            messages.info(request, f"{name} is already gone: someone else deleted it first.")
        return _to_list(request, cluster, next_url)
    if result.outcome == "unknown":
        index.drop_index(request.user, cluster)
    context.update(
        {"result": result, "confirmation": confirmation_token(request.user, f"delete:{name}")}
    )
    return render(request, fragment, context, status=OUTCOME_STATUS[result.outcome])


def _to_list(request, cluster, next_url=None):
    """To the list, with the result in a message. From a list page with htmx, that list's
    results are fetched again in place (same filter, sort and page): the message shows
    there and is announced, and the dialog closes."""
    if request.htmx and next_url and _on_list_page(request, cluster):
        response = HttpResponse()
        response["HX-Location"] = json.dumps(
            {"path": next_url, "target": "#results", "swap": "outerHTML", "push": "false"}
        )
        response["HX-Trigger"] = "imgdash:list-changed"
        return response
    if request.htmx:
        return HttpResponseClientRedirect(next_url or _list_url(cluster))
    return redirect(next_url or _list_url(cluster))


def _on_list_page(request, cluster):
    """Whether the htmx request comes from this cluster's list page (it has the results to
    swap), not from a delete page opened on its own."""
    return urlsplit(request.htmx.current_url or "").path == _list_url(cluster)


@require_POST
@role_required(OPERATOR)
@cluster_client_view
def bulk_delete(request, cluster, client):
    """Step 1 (no confirm_count): list what goes. Step 2: queue one job that deletes each.

    The job runs in the worker (repositories/tasks.py), so no request waits on the cluster and
    closing the browser stops nothing; its page shows each repository's result as it comes.
    """
    names = list(dict.fromkeys(request.POST.getlist("repository")))
    context = {"cluster": cluster, "nav_section": "repositories"}
    # With htmx the confirmation opens as a dialog over the list; without, it is a page.
    template = fragment_or_page(request, "repositories/bulk_delete.html", "dialog")
    if not names:
        messages.warning(request, "Select at least one repository to delete.")
        return _to_list(request, cluster)
    if len(names) > MAX_BULK:
        messages.error(request, f"Select at most {MAX_BULK} repositories at a time.")
        return _to_list(request, cluster)
    invalid = [name for name in names if not is_valid_repository_name(name)]
    names = [name for name in names if name not in invalid]
    known = _known_entries(request.user, cluster)
    # A name the list does not hold (gone meanwhile) has no size known, not 0 B.
    selected = [
        known.get(name) or index.Entry(name, "", 0, 0, "", True, SIZE_UNKNOWN) for name in names
    ]
    total_size, total_size_state, unsized = search.size_total(selected)
    context.update(
        {
            "selected": selected,
            "invalid": invalid,
            "sizes_known": bool(known),
            "total_tags": sum(e.tag_count for e in selected),
            "total_size": total_size,
            "total_size_state": total_size_state,
            "unsized": unsized,
        }
    )
    if "confirm_count" not in request.POST or not selected:
        context["confirmation"] = confirmation_token(request.user, "bulk-delete")
        return render(request, template, context)
    if request.POST.get("confirm_count", "").strip() != str(len(names)):
        context.update(
            {
                "confirmation": request.POST.get("confirmation", ""),
                "form_error": f"Type {len(names)}, the number of repositories, to "
                "confirm. Nothing was deleted.",
            }
        )
        return render(request, template, context, status=400)
    if not claim_confirmation(request.user, "bulk-delete", request.POST.get("confirmation")):
        messages.warning(
            request,
            "This bulk delete was already submitted (or its form expired); nothing was sent again.",
        )
        return _to_list(request, cluster)
    job = start_job(
        request,
        kind="bulk_delete",
        cluster=cluster,
        parameters={"repositories": len(selected), "skipped_invalid": len(invalid)},
        items=[
            (e.name, {"tags": e.tag_count, "size": e.size, "size_state": e.size_state})
            for e in selected
        ],
    )
    messages.success(
        request,
        f"Deleting {len(selected)} repositor{'y' if len(selected) == 1 else 'ies'} as job "
        f"{job.pk}. It goes on if you close this page; reopen it from Jobs.",
    )
    url = reverse("jobs:detail", args=[job.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _known_entries(user, cluster):
    """The list's entries by name, to show what a bulk delete takes away; {} while the list is
    still being fetched or cannot be: the names alone are enough to confirm, and no page waits
    on a cold registry for figures it only shows. A 401 still leads to reconnect."""
    try:
        snapshot, _ = index.list_index(user, cluster)
    except Unauthorized:
        raise
    except ImageManagerError:
        return {}
    return {entry.name: entry for entry in snapshot.entries} if snapshot else {}


def _docker_username(request, cluster):
    """The name `docker login` takes: the token's subject, else the imgdash username."""
    credential = credential_for(request.user, cluster)
    return (credential and credential.subject) or request.user.get_username()


@never_cache
@require_POST
@role_required(OPERATOR)
@cluster_client_view
def docker_token(request, cluster, client):
    name = request.POST.get("repository", "").strip()
    if name and not is_valid_repository_name(name):
        messages.error(
            request, f"{name[:100]!r} is not a valid repository name; no token was requested."
        )
        return redirect(_list_url(cluster))
    scope = repository_scope(name, "pull,push") if name else CATALOG_SCOPE
    context = {
        "cluster": cluster,
        "name": name,
        "scope": scope,
        "username": _docker_username(request, cluster),
    }
    target = name or "registry catalog"
    try:
        token = client.docker_token(scopes=[scope])
    except ImageManagerError as error:
        record_event(
            request,
            "docker_token.issue",
            outcome=classify(error),
            cluster=cluster,
            target=target,
            status=error.status,
            message=error.message,
            details={"scope": scope},
        )
        return upstream_error_response(
            request,
            fragment_or_page(request, "repositories/docker_token.html", "token"),
            context,
            error,
        )
    record_event(
        request,
        "docker_token.issue",
        cluster=cluster,
        target=target,
        status=200,
        message=f"Token for {scope}, expires in {token.expires_in} s",
        details={"scope": scope, "expires_at": token.expires_at.isoformat()},
    )
    context["token"] = token
    return render(
        request, fragment_or_page(request, "repositories/docker_token.html", "token"), context
    )
