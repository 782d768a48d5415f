from django.apps import AppConfig


class RepositoriesConfig(AppConfig):
    name = "imgdash.repositories"
    label = "repositories"
