"""A production-like imgdash deployment on this machine, started and stopped from Python.

`Deployment` starts the Image Manager emulator with N repositories, prepares one database (migrate,
a cluster for the emulator, users with connected cluster tokens) and starts K gunicorn
instances on their own ports, each with its own workers, all on the same database and cache:
what a load balancer sees in front of K machines. Settings are those of production (no debug,
no demo, generated keys), except that plain HTTP on loopback is served without a redirect.

It lives in benchmarks/ because the load benchmarks are what it is for; the two-instance test
in tests/scaleout/ imports it too (tools belong here, tests hold only tests).

    with Deployment(repos=2000, instances=2, database_url=..., redis_url=...) as deployment:
        deployment.urls  # ["http://127.0.0.1:PORT", ...]

`python benchmarks/harness.py --repos 2000 --instances 2` serves one until Ctrl-C.
"""

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parents[1]
CLUSTER_SLUG = "scale"
PASSWORD = "scale-out-password-1"  # noqa: S105 - test users on loopback
# imgdash user -> (imgdash role, emulator user whose token they connect). The emulator's
# cluster administrator sees and may change every repository.
USERS = {
    "operator": ("Operator", "admin"),
    "viewer": ("Viewer", "admin"),  # the load scenario's user
    "reader": ("Viewer", "admin"),
}


class LoopbackCookieJar(requests.cookies.RequestsCookieJar):
    """Production marks its cookies Secure, and a client sends those over HTTPS only; the
    instances here speak plain HTTP on loopback (no network to leak them on), so this jar keeps
    them as plain cookies. Works for locust's client too (a `requests.Session`)."""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def client_session():
    """A `requests.Session` that sends imgdash's Secure cookies back over plain HTTP."""
    session = requests.Session()
    session.cookies = LoopbackCookieJar()
    return session


def sign_in(session, base_url, username, password=PASSWORD):
    """Sign in through the form, as a browser does; raises if the form does not let us in."""
    form = session.get(f"{base_url}/accounts/login/", timeout=30)
    form.raise_for_status()
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": csrf_token(form.text),
        },
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in {username} on {base_url} gave {response.status_code}")
    return session


def csrf_token(html):
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("the page has no form with a CSRF token")
    return match.group(1)


def fresh_database(url, name):
    """An empty PostgreSQL database `name` (dropped first if there) on the server `url` names,
    which must allow its user to create databases; its URL."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def empty_redis(url):
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(data_dir, database_url=None, redis_url=None):
    """The environment of a production instance: none of the caller's imgdash, Django or pytest
    variables, generated keys, and the given database and cache."""
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IMGDASH_", "DATABASE_URL", "REDIS_URL", "PYTEST", "DJANGO_"))
    }
    env.update(
        {
            "PYTHONPATH": str(BASE_DIR),
            "IMGDASH_DATA_DIR": str(data_dir),
            "IMGDASH_SECRET_KEY": secrets.token_urlsafe(50),
            "IMGDASH_TOKEN_KEYS": Fernet.generate_key().decode(),
            "IMGDASH_AUDIT_KEY": secrets.token_urlsafe(32),
            "IMGDASH_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "IMGDASH_SSL_REDIRECT": "false",
            "IMGDASH_LOG_LEVEL": "WARNING",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


class Deployment:
    def __init__(
        self,
        repos=1000,
        instances=2,
        workers=2,
        database_url=None,
        redis_url=None,
        data_dir=None,
    ):
        self.repos = repos
        self.instances = instances
        self.workers = workers
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="imgdash-scale-"))
        self.env = production_env(self.data_dir, database_url, redis_url)
        self.emulator = None
        self.urls = []
        self._processes = []

    # -- lifecycle -----------------------------------------------------------------------

    def start(self):
        from imgdash.emulator.server import EmulatorServer

        try:
            # With its registry, as a real cluster has: detail pages read build dates there.
            self.emulator = EmulatorServer(repos=self.repos, seed=1, registry_port=0).start()
            self.manage("migrate", "--noinput", "-v", "0")
            self.manage("collectstatic", "--noinput", "-v", "0")
            self._prepare()
            for _ in range(self.instances):
                self._start_instance(free_port())
            for url in self.urls:
                self._wait_ready(url)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for process, _log in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # gunicorn: graceful, workers finish
        for process, log in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        self._processes = []
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- what callers use ----------------------------------------------------------------

    @property
    def list_path(self):
        return f"/clusters/{CLUSTER_SLUG}/repositories/"

    def manage(self, *args, check=True):
        """`manage.py ARGS` with the instances' settings; the finished process."""
        finished = subprocess.run(  # noqa: S603 - our interpreter, our manage.py
            [sys.executable, str(BASE_DIR / "manage.py"), *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and finished.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{finished.stdout}{finished.stderr}"
            )
        return finished

    def logs(self):
        """What the instances wrote (gunicorn and imgdash), for a failure message."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.data_dir.glob("gunicorn-*.log"))
        )

    # -- steps ---------------------------------------------------------------------------

    def _prepare(self):
        spec = {
            "api_url": self.emulator.api_url,
            "registry": self.emulator.registry_host,
            "tokens": {
                username: self.emulator.issue_id_token(cluster_user)
                for username, (_role, cluster_user) in USERS.items()
            },
        }
        finished = subprocess.run(  # noqa: S603 - this file, run as a script
            [sys.executable, __file__, "--prepare"],
            input=json.dumps(spec),
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if finished.returncode:
            raise RuntimeError(f"preparing the database failed:\n{finished.stderr}")

    def _start_instance(self, port):
        import gunicorn.config

        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(BASE_DIR / "deploy" / "gunicorn.conf.py"),
            "imgdash.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.workers),
            "--timeout",
            "120",
        ]
        if "control_socket_disable" in gunicorn.config.Config().settings:
            # gunicorn 27+ opens a control socket at one default path per user: two instances
            # would fight over it. Nothing here uses it.
            command.append("--no-control-socket")
        log = open(self.data_dir / f"gunicorn-{port}.log", "w")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed words
            command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self._processes.append((process, log))
        self.urls.append(f"http://127.0.0.1:{port}")

    def _wait_ready(self, url, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process, _log in self._processes):
                raise RuntimeError(f"a gunicorn instance exited:\n{self.logs()}")
            try:
                if requests.get(f"{url}/readyz", timeout=10).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url}/readyz did not answer 200 within {timeout} s:\n{self.logs()}")


LOCUSTFILE = BASE_DIR / "benchmarks" / "load" / "locustfile.py"


def run_locust(urls, users=50, spawn_rate=10, seconds=60, username="viewer"):
    """A headless locust run of benchmarks/load/ spread over `urls`; its figures, from locust's
    own summary: requests, failures, req/s, median and p95 in ms, and locust's exit code."""
    with tempfile.TemporaryDirectory(prefix="imgdash-locust-") as folder:
        prefix = Path(folder) / "run"
        ramp_file = Path(folder) / "ramp.json"
        finished = subprocess.run(  # noqa: S603 - our interpreter, fixed words
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--only-summary",
                "--users",
                str(users),
                "--spawn-rate",
                str(spawn_rate),
                "--run-time",
                f"{seconds}s",
                "--host",
                urls[0],
                "--csv",
                str(prefix),
            ],
            cwd=BASE_DIR,
            env={
                **os.environ,
                "PYTHONPATH": str(BASE_DIR),
                "IMGDASH_LOAD_HOSTS": ",".join(urls),
                "IMGDASH_LOAD_USER": username,
                "IMGDASH_LOAD_RAMP_FILE": str(ramp_file),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust wrote no figures:\n{finished.stdout}{finished.stderr}")
        with stats.open(newline="") as rows:
            total = next(row for row in csv.DictReader(rows) if row["Name"] == "Aggregated")
        exceptions = Path(f"{prefix}_exceptions.csv").read_text().strip().splitlines()[1:]
        ramp = json.loads(ramp_file.read_text()) if ramp_file.exists() else None
    return {
        "ramp": ramp,
        "users": users,
        "seconds": seconds,
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "exceptions": len(exceptions),
        "rps": float(total["Requests/s"]),
        "median_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "exit_code": finished.returncode,
        "output": finished.stdout + finished.stderr,
    }


def prepare_database(spec):
    """In a process of its own with the instances' settings: the cluster and the users."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgdash.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    from imgdash.accounts.roles import grant_role
    from imgdash.clusters.changes import changed_by
    from imgdash.clusters.models import Cluster
    from imgdash.clusters.services import save_credential

    with changed_by(via="benchmarks/harness.py"):
        cluster, _ = Cluster.objects.update_or_create(
            slug=CLUSTER_SLUG,
            defaults={
                "name": "Scale-out cluster",
                "api_url": spec["api_url"],
                "verify_tls": True,
                "ca_pem": "",
                "registry": spec["registry"],
            },
        )
    User = get_user_model()
    for username, (role, _cluster_user) in USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, f"{username}@scale.invalid", PASSWORD)
        user.groups.clear()
        grant_role(user, role)
        save_credential(user, cluster, spec["tokens"][username])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.prepare:
        prepare_database(json.load(sys.stdin))
        return
    with Deployment(
        repos=args.repos,
        instances=args.instances,
        workers=args.workers,
        database_url=os.environ.get("DATABASE_URL"),
        redis_url=os.environ.get("REDIS_URL"),
    ) as deployment:
        print(
            f"Instances: {' '.join(deployment.urls)} — sign in as {', '.join(USERS)} / {PASSWORD}"
        )
        print(f"Repository list: {deployment.list_path}  (Ctrl-C stops them)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    main()
