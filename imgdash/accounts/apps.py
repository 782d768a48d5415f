from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "imgdash.accounts"
    label = "accounts"
