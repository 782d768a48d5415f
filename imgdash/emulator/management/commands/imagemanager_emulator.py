"""Run the embedded Image Manager emulator in the foreground.

    python manage.py imagemanager_emulator --port 8443 --repos 2000 --tls --state emu.json

Prints the API URL, the CA file (with --tls) and the users, then serves until Ctrl-C.
"""

from django.core.management.base import BaseCommand, CommandError

from imgdash.emulator.cli import add_arguments, build_server, serve
from imgdash.emulator.state import StateFileError


class Command(BaseCommand):
    help = "Run the embedded IBM Cloud Private Image Manager emulator (Ctrl-C to stop)."
    # Needs neither the database nor the rest of the project to be in order.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        try:
            server = build_server(options)
            serve(server, self.stdout, quiet=options["quiet"])
        except (ValueError, StateFileError, OSError) as exc:
            raise CommandError(str(exc)) from exc
