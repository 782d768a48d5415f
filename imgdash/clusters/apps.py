from django.apps import AppConfig


class ClustersConfig(AppConfig):
    name = "imgdash.clusters"
    label = "clusters"

    def ready(self):
        from imgdash.clusters import signals  # noqa: F401
