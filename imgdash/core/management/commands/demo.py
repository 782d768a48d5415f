"""`python manage.py demo`: everything for a first look, in one command.

Migrates the local SQLite database, starts the embedded Image Manager emulator seeded with
realistic repositories, registers it as a cluster, creates the demo users, connects their
cluster tokens, starts one jobs worker (`manage.py db_worker`, which runs bulk deletes) and
serves the dashboard; Ctrl-C stops them all. Running it again reuses the data (the emulator's
state is kept in the data folder, so deletions and scope changes persist).
"""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from imgdash.accounts.roles import AUDITOR, OPERATOR, VIEWER, grant_role
from imgdash.audit.log import record_event
from imgdash.clusters.changes import changed_by
from imgdash.clusters.models import Cluster, SignInProvider
from imgdash.clusters.services import save_credential
from imgdash.emulator.oidc_clients import DEMO_CLIENT
from imgdash.imagemanager.oidc import DISCOVERY_PATH

# imgdash user -> (imgdash role, emulator user whose cluster token they get)
DEMO_USERS = {
    "admin": (None, "admin"),  # superuser: every imgdash role; ClusterAdministrator upstream
    "operator": (OPERATOR, "nsadmin"),  # Administrator of team-a and team-b upstream
    "viewer": (VIEWER, "viewer"),
    "auditor": (AUDITOR, None),
}


def demo_oidc_client(addrport):
    """The emulator's client registration for the dashboard at `addrport`: DEMO_CLIENT, with
    its redirect URIs moved to that port when it is not 8000."""
    port = addrport.rpartition(":")[2] or "8000"
    if port == "8000":
        return DEMO_CLIENT
    hosts = ("127.0.0.1", "localhost")
    return {
        **DEMO_CLIENT,
        "redirect_uris": [f"http://{host}:{port}/oidc/callback/" for host in hosts],
        "post_logout_redirect_uris": [f"http://{host}:{port}/" for host in hosts],
    }


class Command(BaseCommand):
    help = "Run imgdash against the embedded Image Manager emulator, with demo users."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="where to serve the dashboard (default 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--repos",
            type=int,
            default=300,
            help="repositories to seed on the first run (default 300)",
        )
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="prepare everything, print the users, do not serve",
        )

    def handle(self, addrport, repos, setup_only, **options):
        if not settings.DEMO:
            raise CommandError("Run the demo as `python manage.py demo` (it sets IMGDASH_DEMO).")
        from imgdash.emulator.server import EmulatorServer

        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        state_file = settings.DATA_DIR / "demo-emulator.json"
        emulator = EmulatorServer(
            repos=repos,
            seed=1,
            state_file=str(state_file),
            oidc_clients=[demo_oidc_client(addrport)],
            registry_port=0,
        ).start()
        worker = None
        try:
            cluster = self._register(emulator)
            self._offer_sign_in(emulator, cluster, addrport)
            users = self._users(emulator, cluster)
            if not setup_only:
                # Stopped with SIGTERM (not only Ctrl-C): still stop the worker on the way out.
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
                worker = self._start_worker()
            self._print_banner(addrport, emulator, users, worker)
            if not setup_only:
                call_command("runserver", addrport, use_reloader=False, use_threading=True)
        finally:
            if worker is not None:
                self._stop_worker(worker)
            emulator.stop()

    def _start_worker(self):
        """One `manage.py db_worker` beside the dashboard, as production runs its workers."""
        return subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py, fixed words
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "db_worker"],
            cwd=settings.BASE_DIR,
            env={**os.environ, "IMGDASH_DEMO": "1"},
        )

    def _stop_worker(self, worker):
        if worker.poll() is None:
            worker.terminate()  # lets a job in progress finish its current repository
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()  # its job is then "interrupted"; resume it on the next run
                worker.wait()

    def _register(self, emulator):
        # The emulator listens on a new port each run: the change of URL is logged and drops
        # the last run's tokens, and _users connects fresh ones.
        with changed_by(via="manage.py demo"):
            cluster, _ = Cluster.objects.update_or_create(
                slug="demo",
                defaults={
                    "name": "Demo cluster",
                    "api_url": emulator.api_url,
                    "verify_tls": True,
                    "ca_pem": "",
                    # Plain host:port, as docker commands show it; on this machine, with a
                    # plain-HTTP API, the registry client reads it as http://.
                    "registry": emulator.registry_host,
                },
            )
        return cluster

    def _offer_sign_in(self, emulator, cluster, addrport):
        """ "Sign in with Demo cluster": the emulator's OpenID provider, imgdash its client."""
        client = demo_oidc_client(addrport)
        provider = SignInProvider.objects.filter(cluster=cluster).first() or SignInProvider(
            cluster=cluster
        )
        provider.enabled = True
        provider.discovery_url = emulator.oidc_url + DISCOVERY_PATH
        provider.client_id = client["client_id"]
        provider.set_client_secret(client["client_secret"])
        provider.save()

    def _users(self, emulator, cluster):
        User = get_user_model()
        printed = []
        for username, (role, cluster_user) in DEMO_USERS.items():
            password = f"demo-{username}"
            user = User.objects.filter(username=username).first()
            if user is None:  # the password is set on the first run only; a changed one stays
                user = User.objects.create_user(username, f"{username}@demo.invalid", password)
            user.is_active = True
            user.is_superuser = user.is_staff = role is None
            user.save()
            if role:
                user.groups.clear()
                grant_role(user, role)
            if cluster_user:
                # A fresh token each run: the last run's may have expired (they last 12 h).
                credential = save_credential(user, cluster, emulator.issue_id_token(cluster_user))
                record_event(
                    None,
                    "credential.connect",
                    actor=user,
                    cluster=cluster,
                    target=f"credential {credential.fingerprint}",
                    message=f"Demo setup: connected as {credential.subject}",
                    details={"method": "demo"},
                )
            printed.append((username, password, role or "Admin (superuser)", cluster_user))
        return printed

    def _print_banner(self, addrport, emulator, users, worker):
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS("imgdash demo — against the embedded Image Manager emulator"))
        write(f"  Dashboard: http://{addrport}/")
        write(f"  Emulator:  {emulator.api_url}")
        write(f"  Registry:  {emulator.registry_url}")
        if worker is not None:
            write(f"  Worker:    manage.py db_worker, process {worker.pid} (runs bulk deletes)")
        write("  Sign in as:")
        for username, password, role, cluster_user in users:
            upstream = f"cluster user {cluster_user}" if cluster_user else "no cluster token"
            write(f"    {username:<9} password {password:<14} {role:<18} ({upstream})")
        write(
            "  Or press “Sign in with Demo cluster” and sign in on the emulator's page as one "
            "of its users (admin, nsadmin, operator, editor, viewer; password = username)."
        )
        write(
            "  Ctrl-C stops the dashboard, the worker and the emulator. Data stays in "
            f"{settings.DATA_DIR} for the next run."
        )
        write("")
