from django.apps import AppConfig


class RepositoriesConfig(AppConfig):
    name = "imgdash.repositories"
    label = "repositories"

    def ready(self):
        from imgdash.repositories import signals  # noqa: F401
