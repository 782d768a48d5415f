"""Delete one tag (and every tag sharing its manifest): confirmation page, then the delete.

Operator-only, CSRF-protected, the one-time confirmation field and the tag's name typed; the
DELETE goes to the registry only after its intent is in the action log, and never twice.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from imgdash.accounts.roles import OPERATOR, role_required
from imgdash.clusters.decorators import cluster_client_view, upstream_error_response
from imgdash.imagemanager import ImageManagerError, NotFound, is_valid_tag
from imgdash.repositories import index
from imgdash.repositories.confirmation import claim_confirmation, confirmation_token
from imgdash.repositories.logged_writes import perform
from imgdash.repositories.tag_delete import (
    confirmation_purpose,
    plan_tag_delete,
    same_as_confirmed,
)
from imgdash.repositories.views import fragment_or_page, valid_name_or_404

TEMPLATE = "repositories/tag_delete.html"
OUTCOME_STATUS = {"refused": 409, "failed": 502, "unknown": 504}


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(OPERATOR)
@cluster_client_view
def delete_tag(request, cluster, client, name, tag):
    valid_name_or_404(name)
    if not is_valid_tag(tag):
        raise Http404(f"{tag[:100]!r} is not a valid tag.")
    fragment = fragment_or_page(request, TEMPLATE, "dialog")
    context = {"cluster": cluster, "name": name, "tag": tag, "nav_section": "repositories"}
    try:
        repository = client.get_repository(name)
    except ImageManagerError as error:
        return upstream_error_response(request, fragment, context, error)
    chosen = next((t for t in repository.tags if t.name == tag), None)
    if chosen is None:
        messages.info(request, f"{name}:{tag} is already gone: nothing was deleted.")
        return _to_detail(request, cluster, name)
    plan = plan_tag_delete(cluster, client, repository, chosen)
    try:
        return _confirm_or_delete(request, cluster, client, repository, plan, fragment, context)
    finally:
        plan.close()


def _confirm_or_delete(request, cluster, client, repository, plan, fragment, context):
    name, tag = repository.name, plan.tag
    context.update(
        {
            "repository": repository,
            "plan": plan,
            "confirmation": confirmation_token(request.user, confirmation_purpose(name, plan)),
        }
    )
    if request.method == "GET":
        return render(request, fragment, context)
    if not plan.can_delete:
        return render(request, fragment, context, status=409)
    if request.POST.get("confirm", "").strip() != tag:
        context["form_error"] = f"Type the tag, {tag}, to delete it. Nothing was deleted."
        return render(request, fragment, context, status=400)
    if not same_as_confirmed(plan, request.POST.get("digest", ""), request.POST.get("going", "")):
        context["changed"] = True
        return render(request, fragment, context, status=409)
    purpose = confirmation_purpose(name, plan)
    if not claim_confirmation(request.user, purpose, request.POST.get("confirmation")):
        messages.warning(
            request,
            f"This delete of {name}:{tag} was already submitted (or its form expired); "
            "it was not sent again.",
        )
        return _to_detail(request, cluster, name)
    details = {"tag": tag, "digest": plan.digest, "tags": plan.going}
    result = perform(
        request,
        cluster,
        "repository.tag_delete",
        name,
        details,
        lambda: plan.registry.delete_manifest(name, plan.digest),
    )
    if result.ok or result.gone:
        _refresh_list_row(request, cluster, client, name)
        going = ", ".join(plan.going)
        (messages.success if result.ok else messages.info)(
            request,
            f"Deleted {len(plan.going)} tag{'s' if len(plan.going) != 1 else ''} of {name} "
            f"({going}). Disk space returns only after the registry's garbage collection."
            if result.ok
            else f"{name}:{tag} is already gone: someone else deleted it first.",
        )
        return _to_detail(request, cluster, name)
    if result.outcome == "unknown":
        index.drop_index(request.user, cluster)
    context.update({"result": result, "confirmation": confirmation_token(request.user, purpose)})
    return render(request, fragment, context, status=OUTCOME_STATUS[result.outcome])


def _refresh_list_row(request, cluster, client, name):
    """The list shows the repository's new tag count and size (or no row, if none is left
    and the cluster dropped it); if the cluster cannot say, the list is fetched again."""
    try:
        repository = client.get_repository(name)
    except NotFound:
        index.forget_repository(request.user, cluster, name)
    except ImageManagerError:
        index.drop_index(request.user, cluster)
    else:
        index.change_tags(request.user, cluster, repository)


def _to_detail(request, cluster, name):
    """Back to the repository, whose page shows the message and its tags as they are now."""
    url = reverse("repositories:detail", args=[cluster.slug, name])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
