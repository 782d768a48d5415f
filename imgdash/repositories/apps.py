from django.apps import AppConfig


class RepositoriesConfig(AppConfig):
    name = "imgdash.repositories"
    label = "repositories"

    def ready(self):
        from imgdash.jobs import kinds
        from imgdash.repositories import crawl, signals, tasks  # noqa: F401

        kinds.register("bulk_delete", tasks.bulk_delete)
        kinds.register("registry_crawl", crawl.registry_crawl)
