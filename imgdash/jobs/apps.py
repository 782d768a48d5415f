from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "imgdash.jobs"
    label = "jobs"
