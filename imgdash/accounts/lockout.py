"""Throttled password guessing: django-axes for imgdash's sign-in, the same policy for others.

After `LOCKOUT_FAILURES` wrong passwords for one name from one client address, that pair is
refused for `LOCKOUT_COOLOFF` seconds counted from the last failure (settings.py). A refused
attempt checks no password, so it tells nothing, counts nothing and logs nothing; the action
log gets one row for each lockout, with the count and the cool-off.

Other password checks (connecting to a cluster with its password) throttle a `key` of their
own through `is_locked_out`, `note_failure` and `note_success`, and log their own lockouts.
"""

import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from imgdash.audit.log import client_ip, record_event

# Set on a request whose sign-in was refused unchecked because of a lockout.
REFUSED_WHILE_LOCKED = "refused_while_locked_out"


# axes keeps the attempted name in a 255-character column; PostgreSQL refuses a longer one.
MAX_ATTEMPTED_NAME = 255


def client_address(request):
    """The client's address as the action log records it, or None when there is none."""
    return client_ip(request) or None


def attempted_name(request, credentials=None):
    """The name a sign-in attempt is counted under: what was typed, cut to what axes stores.

    No real name is that long (Django's usernames stop at 150), so cutting merges nothing
    that matters, and a 10,000-character name is refused like any other wrong one.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        name = credentials.get(field)
    else:
        name = getattr(request, "data", request.POST).get(field)
    return name[:MAX_ATTEMPTED_NAME] if isinstance(name, str) else name


class LockoutBackend(AxesStandaloneBackend):
    """axes' gatekeeper, marking the request it refuses so the refusal is not logged as a
    failed sign-in (the lockout already was)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username, password, **kwargs)
        except AxesBackendPermissionDenied:
            setattr(request, REFUSED_WHILE_LOCKED, True)
            raise


def _credentials(key):
    return {settings.AXES_USERNAME_FORM_FIELD: key}


def is_locked_out(request, key):
    """True when `key` is locked out for this request's client address."""
    return not AxesProxyHandler.is_allowed(request, _credentials(key))


def note_failure(request, key):
    """Count a wrong password for `key` from this address; True when it starts a lockout."""
    AxesProxyHandler.user_login_failed(__name__, _credentials(key), request)
    locked = bool(request.axes_locked_out)
    # axes' middleware would answer a locked-out request with the sign-in lockout page; the
    # caller answers for itself.
    request.axes_locked_out = False
    return locked


def note_success(request, key):
    """Forget the failures for `key` from this address."""
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, _credentials(key))


def cooloff_seconds(request=None):
    return int(get_cool_off(request).total_seconds())


def locked_until(request, key):
    """When the lockout of `key` for this address ends (UTC)."""
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    latest = None
    for attempts in handler.get_user_attempts(request, _credentials(key)):
        for attempt_time in attempts.values_list("attempt_time", flat=True):
            latest = attempt_time if latest is None else max(latest, attempt_time)
    return (latest or timezone.now()) + get_cool_off(request)


def in_words(seconds):
    """15 minutes, 1 hour, 90 seconds."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def lockout_context(request, key):
    """What the lockout message says: when to try again, and how long a lockout lasts."""
    until = locked_until(request, key)
    remaining = max(0, (until - timezone.now()).total_seconds())
    return {
        "locked_until": until,
        "locked_minutes": max(1, math.ceil(remaining / 60)),
        "lockout_cooloff": in_words(cooloff_seconds(request)),
    }


def locked_out_response(request, original_response=None, credentials=None):
    """axes' answer for a locked-out sign-in: the sign-in layout, 429, when to try again.

    It is the same for every name, existing or not, and does not repeat the name. The
    failure that started the lockout logs it (after its own failed sign-in row); refused
    attempts while locked out log nothing.
    """
    key = get_client_username(request, credentials)
    if not getattr(request, REFUSED_WHILE_LOCKED, False):
        record_lockout_event(request, "auth.lockout", target=key or "")
    context = lockout_context(request, key)
    return render(request, "registration/locked_out.html", context, status=429)


def record_lockout_event(request, action, *, target, cluster=None):
    failures = getattr(request, "axes_failures_since_start", None) or settings.AXES_FAILURE_LIMIT
    cooloff = cooloff_seconds(request)
    until = getattr(request, "axes_attempt_time", None) or timezone.now()
    until = until + timedelta(seconds=cooloff)
    record_event(
        request,
        action,
        outcome="denied",
        cluster=cluster,
        target=target,
        message=f"Locked out for {in_words(cooloff)} after {failures} wrong passwords",
        details={
            "failures": failures,
            "cooloff_seconds": cooloff,
            "locked_until": until.isoformat(),
        },
    )
