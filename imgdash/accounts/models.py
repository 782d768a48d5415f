from django.conf import settings
from django.db import models


class SessionEpoch(models.Model):
    """A user's session generation: every session remembers the one it started in, and
    raising it ends them all at once ("sign out everywhere") without visiting any of them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    epoch = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"sessions of user {self.user_id}: generation {self.epoch}"
