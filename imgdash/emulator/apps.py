from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    name = "imgdash.emulator"
    label = "emulator"
