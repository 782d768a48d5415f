"""imgdash's own roles, checked in views (never only in templates).

Roles are Django groups created by a data migration; superusers are admins and may do
everything. The cluster still has the last word with its own RBAC on every call.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied

VIEWER = "Viewer"
OPERATOR = "Operator"
AUDITOR = "Auditor"
ROLES = (VIEWER, OPERATOR, AUDITOR)

# An Operator browses too; an Auditor only reads the action log unless also a Viewer.
_IMPLIED = {OPERATOR: {VIEWER}}


def user_roles(user):
    """The set of roles a user holds, implied ones included (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_imgdash_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
            for name in list(names):
                names |= _IMPLIED.get(name, set())
            cached = frozenset(names)
        user._imgdash_roles = cached
    return cached


def has_role(user, role):
    return role in user_roles(user)


def is_admin(user):
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def role_required(role):
    """View decorator: the signed-in user must hold `role`, else 403 (and a logged refusal)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, role):
                deny(request, role)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def deny(request, role):
    """Log imgdash's own refusal in the action log, then answer 403."""
    from imgdash.audit.log import record_event

    record_event(
        request,
        "access.denied",
        outcome="denied",
        target=request.path,
        message=f"{role} role required",
    )
    raise PermissionDenied(f"This needs the {role} role. Ask an imgdash admin to grant it.")
