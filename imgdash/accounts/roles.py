"""imgdash's own roles, checked in views (never only in templates).

Roles are Django groups created by a data migration; superusers are admins and may do
everything. The cluster still has the last word with its own RBAC on every call.
"""

from contextlib import suppress
from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

from imgdash.audit.log import record_event
from imgdash.audit.models import READ_ALL_PERMISSION

VIEWER = "Viewer"
OPERATOR = "Operator"
AUDITOR = "Auditor"
ROLES = (VIEWER, OPERATOR, AUDITOR)
# Not a group: imgdash admins are Django superusers (they may also use the Django admin).
ADMIN = "Admin"
# The columns accounts.backends loads with the signed-in user: whether they hold each role.
ROLE_COLUMNS = {role: f"imgdash_has_{role.lower()}" for role in ROLES}

# An Operator browses too; an Auditor only reads the action log unless also a Viewer.
_IMPLIED = {OPERATOR: {VIEWER}}
# Django permissions a role's group carries, for apps below this one that check a
# permission rather than a role name (the action log cannot import this module).
ROLE_PERMISSIONS = {AUDITOR: (READ_ALL_PERMISSION,)}


def _loaded_roles(user):
    """The roles loaded with the user (accounts.backends), or None when not loaded so."""
    # getattr, not __dict__: request.user is a lazy proxy of the user.
    if getattr(user, ROLE_COLUMNS[VIEWER], None) is None:
        return None
    return {role for role, column in ROLE_COLUMNS.items() if getattr(user, column)}


def role_group(role):
    """The group that is `role`, with its permissions (made if missing, e.g. after a flush)."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}")
    group, _ = Group.objects.get_or_create(name=role)
    for name in ROLE_PERMISSIONS.get(role, ()):
        app_label, codename = name.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def grant_role(user, role):
    """Give `user` the role: the one way roles are granted (demo, admin tooling, tests)."""
    user.groups.add(role_group(role))
    forget_roles(user)


def remove_role(user, role):
    """Take the role away from `user` (the roles it implies go with it unless held too)."""
    user.groups.remove(role_group(role))
    forget_roles(user)


def set_admin(user, admin):
    """Make `user` an imgdash admin, or no longer one: a superuser with the Django admin."""
    user.is_superuser = user.is_staff = bool(admin)
    user.save(update_fields=["is_superuser", "is_staff"])
    forget_roles(user)


def forget_roles(user):
    """Make `user` read their roles again (after a change to their groups)."""
    for cache in ("_imgdash_roles", "_perm_cache", "_group_perm_cache", *ROLE_COLUMNS.values()):
        with suppress(AttributeError):
            delattr(user, cache)


def user_roles(user):
    """The set of roles a user holds, implied ones included (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_imgdash_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            names = _loaded_roles(user)
            if names is None:
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


def admin_required(view):
    """View decorator: the signed-in user must be an imgdash admin, else 403 (logged)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_admin(request.user):
            deny(request, ADMIN)
        return view(request, *args, **kwargs)

    return wrapped


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
    record_event(
        request,
        "access.denied",
        outcome="denied",
        target=request.path,
        message=f"{role} role required",
    )
    raise PermissionDenied(f"This needs the {role} role. Ask an imgdash admin to grant it.")
