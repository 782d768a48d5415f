from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "imgdash.accounts"
    label = "accounts"

    def ready(self):
        from imgdash.accounts import sessions  # noqa: F401 - signal receivers
