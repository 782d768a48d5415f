"""Sign-ins, failed sign-ins and sign-outs, from Django's own authentication signals."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from imgdash.audit.log import MAX_USERNAME, clean_text, record_event


@receiver(user_logged_in, dispatch_uid="imgdash.audit.sign_in")
def record_sign_in(sender, request, user, **kwargs):
    record_event(request, "auth.sign_in", actor=user, target=user.get_username())


@receiver(user_login_failed, dispatch_uid="imgdash.audit.sign_in_failed")
def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    # An attempt refused unchecked during a lockout (marked by accounts.lockout) is not a
    # wrong password: the lockout has its one row, and a flood of refusals adds none.
    if getattr(request, "refused_while_locked_out", False):
        return
    # Django has already masked the password in `credentials`; only the name is kept.
    username = clean_text(credentials.get(get_user_model().USERNAME_FIELD, ""), MAX_USERNAME)
    record_event(
        request,
        "auth.sign_in_failed",
        outcome="failed",
        target=username,
        message="Wrong username or password, or the account is inactive",
    )


@receiver(user_logged_out, dispatch_uid="imgdash.audit.sign_out")
def record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(request, "auth.sign_out", actor=user, target=user.get_username())
