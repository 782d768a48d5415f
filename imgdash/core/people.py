"""The people page's work: who the users are, and what an admin may change about them.

Each change is one transaction with its line in the action log, so a change is never made
without its row, nor logged without being made. No views here (people_views.py).
"""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q

from imgdash.accounts.roles import ADMIN, ROLES, grant_role, remove_role, set_admin
from imgdash.accounts.sessions import sign_out_everywhere
from imgdash.audit.log import record_event
from imgdash.clusters.models import ClusterIdentity, Credential
from imgdash.clusters.services import delete_credential

PER_PAGE = 25
# What the page offers to grant or remove; Admin is a superuser, the others are groups.
GRANTABLE = (*ROLES, ADMIN)


class Refused(Exception):
    """A change the page will not make; the message says why, for the admin to read."""


def sign_in_method(user):
    """How `user` signs in, in words for the page: "password" (a local account), "sign in
    with <cluster>" (an account made by a cluster's sign-in, which has no usable password),
    or both when a local account has also signed in with a cluster."""
    clusters = [identity.cluster.name for identity in user.cluster_identities.all()]
    ways = ["password"] if user.has_usable_password() else []
    ways += [f"sign in with {name}" for name in clusters]
    return ", ".join(ways) or "cluster sign-in"


def search_people(q):
    """Users whose username, name or email contains `q`, each with their groups and tokens."""
    users = (
        get_user_model()
        .objects.order_by("username")
        .prefetch_related(
            "groups",
            Prefetch(
                "cluster_identities",
                queryset=ClusterIdentity.objects.select_related("cluster").order_by(
                    "cluster__name"
                ),
            ),
            Prefetch(
                "cluster_credentials",
                queryset=Credential.objects.select_related("cluster").order_by("cluster__name"),
            ),
        )
    )
    for word in q.split():
        users = users.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    return users


def page_of_people(q, page):
    """One page of `search_people(q)`; any `page` text (garbage, out of range) gives a page."""
    return Paginator(search_people(q), PER_PAGE).get_page(page)


def roles_of(user):
    """The roles the page shows for `user`: granted groups as held, Admin for a superuser."""
    held = [group.name for group in user.groups.all() if group.name in ROLES]
    shown = [role for role in ROLES if role in held]
    return [ADMIN, *shown] if user.is_superuser else shown


def token_state(credential):
    if not credential.is_bound_to(credential.cluster):
        return "unusable (the cluster's address changed)"
    if credential.is_stale:
        return "stale (the cluster refused it)"
    if credential.is_expired:
        return "expired"
    return "connected"


def change_role(request, user, role, *, grant):
    """Grant or remove `role` (one of GRANTABLE); logged as role.grant or role.remove."""
    if role not in GRANTABLE:
        raise Refused(f"There is no role {role!r}: choose one of {', '.join(GRANTABLE)}.")
    if role == ADMIN and not grant and user.pk == request.user.pk:
        raise Refused(
            "You cannot remove your own admin rights here: ask another admin, so that "
            "imgdash is never left without one by accident."
        )
    with transaction.atomic():
        if role == ADMIN:
            set_admin(user, grant)
        elif grant:
            grant_role(user, role)
        else:
            remove_role(user, role)
        record_event(
            request,
            "role.grant" if grant else "role.remove",
            target=user.get_username(),
            message=f"{role} {'granted to' if grant else 'removed from'} {user.get_username()}",
            details={"user": user.get_username(), "role": role},
        )


def deactivate(request, user):
    """No more sign-ins for `user`: every session ended and every stored cluster token deleted
    (each deletion logged as a disconnect). Returns how many tokens were deleted."""
    if user.pk == request.user.pk:
        raise Refused("You cannot deactivate your own account: ask another admin.")
    name = user.get_username()
    with transaction.atomic():
        credentials = list(user.cluster_credentials.select_related("cluster"))
        record_event(
            request,
            "user.deactivate",
            target=name,
            message=f"{name} deactivated; {len(credentials)} stored cluster token(s) deleted",
            details={"user": name, "tokens_deleted": len(credentials)},
        )
        for credential in credentials:
            delete_credential(
                request,
                credential,
                credential.cluster,
                f"{name}'s token deleted: the account was deactivated",
                reason="account deactivated",
            )
        # After the tokens: saving an inactive user deletes any left (clusters.signals), but
        # logged without the admin who did it.
        user.is_active = False
        user.save(update_fields=["is_active"])
        sign_out_everywhere(user, request)
    return len(credentials)


def reactivate(request, user):
    """`user` may sign in again (their deleted tokens stay deleted: they connect again)."""
    name = user.get_username()
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        record_event(
            request,
            "user.activate",
            target=name,
            message=f"{name} reactivated",
            details={"user": name},
        )
