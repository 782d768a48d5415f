import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("IMGDASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct-horse-battery-staple"


def make_ca_pem(common_name="test CA"):
    """A new self-signed CA certificate (PEM): a CA bundle that is not the cluster's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def fresh_process_env(**overrides):
    """The environment for a new imgdash process started as a user would start it: none of
    this run's imgdash, database, cache, pytest or Django variables, then `overrides`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IMGDASH_", "DATABASE_URL", "REDIS_URL", "PYTEST", "DJANGO_"))
    }
    env.update(overrides)
    return env


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no repository index leaks between tests. The
    registry calls a test's pages left running end first: they may still write to it."""
    from django.core.cache import cache

    from imgdash.repositories.fetching import finish_background_calls

    cache.clear()
    yield
    finish_background_calls()
    cache.clear()


# --- The Image Manager emulator -----------------------------------------------------------


# The end of the two years the seeded images' created dates are spread over: fixed, so a
# test sees the same dates every day.
SEED_ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def emulator_server():
    """One Image Manager emulator over a real socket for the whole run, seeded small, with
    its registry v2 API on a port of its own (`registry_url`)."""
    from imgdash.emulator.server import EmulatorServer

    server = EmulatorServer(repos=60, seed=7, control=True, registry_port=0, anchor=SEED_ANCHOR)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):
    """The shared emulator, back to its seeded state with no faults and an empty request log."""
    emulator_server.reset()
    return emulator_server


# --- imgdash users, clusters and credentials ------------------------------------------------


@pytest.fixture
def make_user(django_user_model):
    """make_user("alice", "Operator") -> a user in that role group with password PASSWORD.

    The one way tests make users, so how a role is granted is decided here (by
    accounts.roles.grant_role, as the demo does); superuser=True gives an imgdash admin.
    """
    from imgdash.accounts.roles import grant_role

    def make(username, *roles, superuser=False):
        user = django_user_model.objects.create_user(
            username,
            f"{username}@example.com",
            PASSWORD,
            is_superuser=superuser,
            is_staff=superuser,
        )
        for role in roles:
            grant_role(user, role)
        return user

    return make


@pytest.fixture
def cluster(emulator):
    """The emulator registered as a cluster."""
    from imgdash.clusters.models import Cluster

    return Cluster.objects.create(name="Emulator", slug="emu", api_url=emulator.api_url)


@pytest.fixture
def registry_cluster(cluster, emulator):
    """The `cluster`, its registry pointed at the emulator's registry v2 API (plain
    host:port, read as http:// because the emulator's API is plain HTTP on this machine)."""
    cluster.registry = emulator.registry_host
    cluster.save(update_fields=["registry"])
    return cluster


@pytest.fixture
def connect(emulator, cluster):
    """connect(user, "operator") stores an ID token of that emulator user for `user`."""
    from imgdash.clusters.services import save_credential

    def connect_user(user, cluster_username="admin", ttl=None):
        return save_credential(user, cluster, emulator.issue_id_token(cluster_username, ttl=ttl))

    return connect_user


@pytest.fixture
def viewer(client, make_user, connect):
    """Vera, an imgdash Viewer signed in on `client`, holding the emulator admin's token (she
    sees every repository)."""
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    client.force_login(user)
    return user


@pytest.fixture
def operator(client, make_user, connect):
    """Olga, an imgdash Operator signed in on `client`, holding the emulator admin's token (so
    only imgdash's own checks can stop her)."""
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client.force_login(user)
    return user


# --- Headless Chromium through Playwright -----------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: run scripts/test, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    args = CHROMIUM_ARGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in_through_form(page, user, password=PASSWORD):
    """Sign `user` in through the sign-in form on any Playwright page."""
    page.goto("/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.fixture
def signed_in(browser, live_server, operator):
    """signed_in(**context_options) -> a page of a new browser context, signed in through the
    form as Olga, the Operator of the `operator` fixture. Contexts close after the test."""
    contexts = []

    def open_page(user=operator, **options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return sign_in_through_form(context.new_page(), user)

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(page):
    """sign_in(user) signs that user in through the sign-in form."""

    def sign_in_as(user, password=PASSWORD):
        return sign_in_through_form(page, user, password)

    return sign_in_as


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_action_logs_sqlite_triggers():
    """Between transactional tests the runner empties every table: on PostgreSQL with TRUNCATE
    (left to the tables' owner), on SQLite with DELETE, which the action log's triggers refuse.
    Let the runner's own flush past them, as the owner of the file could."""
    import importlib

    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    operations = type(connection.ops)
    triggers = importlib.import_module("imgdash.audit.migrations.0003_keyed_chain_and_anchors")
    original = operations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        guarded = [table for table in triggers.TABLES if table in tables]
        drop = [sql for table in guarded for sql in triggers.sqlite_drop(table)]
        create = [sql for table in guarded for sql in triggers.sqlite_triggers(table)]
        return [*drop, *statements, *create]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = original


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite the test database is a file, not memory: the jobs' worker process
    (`manage.py db_worker`, started by tests/jobs and tests/browser) must see the database the
    test writes, as a deployment's workers see the web's."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = tmp_path_factory.mktemp("database")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


# --- The jobs' worker -------------------------------------------------------------------------


def worker_database_url():
    """DATABASE_URL of the database this test runs on, for a process of its own."""
    from urllib.parse import quote

    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user, password = quote(params["USER"] or "", safe=""), quote(params["PASSWORD"] or "", safe="")
    host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
    return f"postgres://{user}:{password}@{host}:{port}/{params['NAME']}"


class Worker:
    """`python manage.py db_worker` in its own process, on this test's database."""

    def __init__(self, tmp_path, **settings_env):
        import subprocess
        import sys
        from pathlib import Path

        from django.conf import settings

        self.log_path = tmp_path / f"worker-{id(self)}.log"
        env = fresh_process_env(
            DATABASE_URL=worker_database_url(),
            IMGDASH_DATA_DIR=str(tmp_path),
            IMGDASH_TESTING="1",
            DJANGO_SETTINGS_MODULE="imgdash.settings",
            # The keys of this run: the worker decrypts the tokens the test stored.
            IMGDASH_TOKEN_KEYS=",".join(settings.TOKEN_KEYS),
            IMGDASH_AUDIT_KEY=",".join(settings.AUDIT_KEYS),
            **{f"IMGDASH_{key.upper()}": str(value) for key, value in settings_env.items()},
        )
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay"],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self):
        """SIGKILL: the worker dies on the spot, as with a power cut or the OOM killer."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self):
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self):
        return self.log_path.read_text()


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(delete_concurrency=4, job_stale_after=5) -> a running Worker; each
    keyword becomes IMGDASH_<KEYWORD> in its environment. Stopped after the test."""
    workers = []

    def start(**settings_env):
        worker = Worker(tmp_path, **settings_env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(condition, timeout=60, interval=0.1, message="condition"):
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s waiting for {message}")
        time.sleep(interval)
