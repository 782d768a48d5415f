"""The signed-in user, loaded once per request with what every request asks of them.

Every page checks the user's roles (their groups) and whether their session was ended by
"sign out everywhere" (their SessionEpoch). Loading both as columns of the one query that
loads the user saves two queries on every request; a role granted or removed, or a sign-out
everywhere, still shows on the very next request, since the user is loaded afresh each time.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef, Subquery

from imgdash.accounts.models import SessionEpoch
from imgdash.accounts.roles import ROLE_COLUMNS, ROLES

EPOCH_COLUMN = "imgdash_session_epoch"


def users_with_session_facts():
    """Users, each with their roles' membership and their session epoch as columns."""
    user_model = get_user_model()
    membership = user_model.groups.through.objects.filter(user_id=OuterRef("pk"))
    roles = {ROLE_COLUMNS[role]: Exists(membership.filter(group__name=role)) for role in ROLES}
    epoch = SessionEpoch.objects.filter(user_id=OuterRef("pk")).values("epoch")[:1]
    return user_model._default_manager.annotate(**roles, **{EPOCH_COLUMN: Subquery(epoch)})


class UserBackend(ModelBackend):
    """Django's ModelBackend, loading the user with `users_with_session_facts`."""

    def get_user(self, user_id):
        try:
            user = users_with_session_facts().get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
