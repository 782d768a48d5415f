from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "imgdash.audit"
    label = "audit"
    verbose_name = "Action log"

    def ready(self):
        from imgdash.audit import privileges, signals  # noqa: F401 - registers them
