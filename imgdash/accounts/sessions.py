"""How long a sign-in lasts: an absolute lifetime, an idle timeout, and "sign out everywhere".

- A sign-in lasts `SESSION_COOKIE_AGE` (IMGDASH_SESSION_AGE) from the moment it happened: the
  session's expiry is set once, at sign-in, and saving the session later does not move it.
- A session unused for `SESSION_IDLE_TIMEOUT` (IMGDASH_SESSION_IDLE) ends sooner. Activity is
  noted in the session at most once a minute, so browsing does not mean a write per request.
- `sign_out_everywhere(user)` ends every session of a user, on every device, without looking
  for them: each session remembers the user's session generation (SessionEpoch) it began in,
  and the middleware ends any session whose generation is no longer the user's.
"""

import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from imgdash.accounts.backends import EPOCH_COLUMN
from imgdash.accounts.lockout import in_words
from imgdash.accounts.models import SessionEpoch
from imgdash.audit.log import record_event

SIGNED_IN_AT = "imgdash_signed_in_at"
LAST_SEEN = "imgdash_last_seen"
EPOCH = "imgdash_epoch"
# Activity is written to the session at most this often (seconds).
ACTIVITY_STEP = 60


def now():
    """Seconds since the epoch (one place, so the tests can move the clock)."""
    return time.time()


_NOT_LOADED = object()


def current_epoch(user):
    # accounts.backends loads it with the signed-in user; other users are read here.
    loaded = getattr(user, EPOCH_COLUMN, _NOT_LOADED)
    if loaded is not _NOT_LOADED:
        return loaded or 0
    epoch = SessionEpoch.objects.filter(user_id=user.pk).values_list("epoch", flat=True).first()
    return epoch or 0


def start(session, user):
    """Start the clocks of a new sign-in and fix when it ends."""
    started = now()
    session[SIGNED_IN_AT] = started
    session[LAST_SEEN] = started
    session[EPOCH] = current_epoch(user)
    session.set_expiry(datetime.fromtimestamp(started + settings.SESSION_COOKIE_AGE, UTC))


@receiver(user_logged_in, dispatch_uid="imgdash.accounts.sessions.start")
def start_on_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        start(request.session, user)


def ended_because(session, user):
    """Why this signed-in session is over, or "" (noting the activity if a minute passed)."""
    if SIGNED_IN_AT not in session:
        # Made before these clocks existed: they start now.
        start(session, user)
        return ""
    moment = now()
    if session.get(EPOCH, 0) != current_epoch(user):
        return "You were signed out everywhere. Sign in again to continue."
    if moment - session[SIGNED_IN_AT] >= settings.SESSION_COOKIE_AGE:
        return (
            f"Your sign-in ended: it lasts {in_words(settings.SESSION_COOKIE_AGE)}. "
            "Sign in again to continue."
        )
    last_seen = session.get(LAST_SEEN, session[SIGNED_IN_AT])
    if moment - last_seen >= settings.SESSION_IDLE_TIMEOUT:
        return (
            f"You were signed out after {in_words(settings.SESSION_IDLE_TIMEOUT)} without "
            "activity. Sign in again to continue."
        )
    if moment - last_seen >= ACTIVITY_STEP:
        session[LAST_SEEN] = moment
    return ""


def end_session(request):
    """Forget this session and go on as signed out (no sign-out row: nobody signed out)."""
    request.session.flush()
    request.user = AnonymousUser()


class SessionLifetimeMiddleware:
    """Ends a session that outlived its sign-in, sat idle, or was signed out everywhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = ended_because(request.session, user)
            if reason:
                end_session(request)
                messages.info(request, reason)
        return self.get_response(request)


def sign_out_everywhere(user, request=None, *, actor=None):
    """End every session `user` has, on every device. Logged; `actor` (or the request's user)
    is who did it: the user themselves or an admin."""
    with transaction.atomic():
        SessionEpoch.objects.get_or_create(user=user)
        SessionEpoch.objects.filter(user=user).update(
            epoch=F("epoch") + 1, changed_at=timezone.now()
        )
        record_event(
            request,
            "auth.sign_out_everywhere",
            actor=actor,
            target=user.get_username(),
            message=f"Every session of {user.get_username()} ended",
        )
