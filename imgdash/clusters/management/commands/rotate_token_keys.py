from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from imgdash.clusters.crypto import reencrypt
from imgdash.clusters.models import ClusterIdentity, Credential, SignInProvider


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored cluster token with the first key of IMGDASH_TOKEN_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old."
    )

    def handle(self, **options):
        rotated, unreadable = 0, []
        for pk in Credential.objects.values_list("pk", flat=True).iterator():
            # One row at a time, so readers keep working and a failure loses nothing.
            with transaction.atomic():
                credential = Credential.objects.select_for_update().filter(pk=pk).first()
                if credential is None:
                    continue
                try:
                    credential.token_encrypted = reencrypt(credential.token_encrypted)
                except InvalidToken:
                    unreadable.append(pk)
                    continue
                credential.save(update_fields=["token_encrypted"])
                rotated += 1
        for model, column in (
            (SignInProvider, "client_secret_encrypted"),
            (ClusterIdentity, "refresh_token_encrypted"),
        ):
            for row in model.objects.exclude(**{column: ""}):
                try:
                    setattr(row, column, reencrypt(getattr(row, column)))
                except InvalidToken:
                    unreadable.append(f"{model.__name__} {row.pk}")
                    continue
                row.save(update_fields=[column])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} token(s) and secret(s) with the first key.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} token(s) could not be read with any configured key "
                f"(credential ids {', '.join(map(str, unreadable[:20]))}): keep the old key in "
                "IMGDASH_TOKEN_KEYS, or ask those users to reconnect."
            )
