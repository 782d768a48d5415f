"""The first-load lock and the single-use delete confirmations hold on every cache backend a
deployment can use: the file cache (the default without REDIS_URL), Redis, and local memory.
Threads race inside one worker; processes race as several gunicorn workers would."""

import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection

from imgdash.repositories import index
from imgdash.repositories.confirmation import claim_confirmation, confirmation_token
from tests.conftest import fresh_process_env

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
THREADS = 20
PROCESSES = 4
ROUNDS = 5


@pytest.fixture(params=["file", "redis", "locmem"])
def backend(request, settings, tmp_path):
    """Each supported cache backend; the environment another process needs to share it."""
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("set REDIS_URL to test the Redis cache (.ci/run does)")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
        env = {"REDIS_URL": url}
    elif request.param == "file":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
        env = {}
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        env = None  # one process only
    caches["default"].clear()
    yield types.SimpleNamespace(name=request.param, env=env)
    caches["default"].clear()


def list_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith("/repositories")]


def race(count, action):
    """Run `action` in `count` threads released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(action())
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            # Each thread has its own database connection: close it, or 100 racing threads
            # exhaust PostgreSQL's connection slots.
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)  # the threads' connections see the token
def test_threads_racing_to_load_the_index_fetch_it_once(
    make_user, cluster, connect, emulator, backend
):
    user = make_user("olga", "Operator")
    connect(user)
    emulator.faults.add(method="GET", path=r"/repositories$", latency=0.3)

    def load():
        return len(index.list_index(user, cluster, wait=60).snapshot.entries)

    for round_ in range(1, ROUNDS + 1):
        index.drop_index(user, cluster)
        sizes = race(THREADS, load)
        assert sizes == [len(emulator.repositories)] * THREADS
        assert len(list_calls(emulator)) == round_  # one fetch per round


def test_a_confirmation_used_twice_at_once_is_accepted_once(make_user, backend):
    user = make_user("olga", "Operator")
    for _ in range(ROUNDS):
        token = confirmation_token(user, "delete:team-a/orders-api")
        accepted = race(
            THREADS, lambda t=token: claim_confirmation(user, "delete:team-a/orders-api", t)
        )
        assert accepted.count(True) == 1


IN_ANOTHER_WORKER = """
import json, sys, time, types
from pathlib import Path
import django
django.setup()
from django.core.cache import cache
from imgdash.clusters.services import make_client
from imgdash.repositories import confirmation, index

what, folder, api_url, token = sys.argv[1:5]
user = types.SimpleNamespace(pk=1)
cluster = types.SimpleNamespace(pk=1, api_url=api_url, verify_tls=True, ca_pem="")
# No database in this process: the token is the argument's, the copy bound to no credential.
index._owner = lambda user, cluster, credential=None: index.credential_tag(None)
index.user_client = lambda user, cluster: (make_client(cluster, token), None)
Path(folder, f"ready-{sys.argv[5]}").touch()
while not Path(folder, "go").exists():
    time.sleep(0.005)
if what == "index":
    print(json.dumps(len(index.list_index(user, cluster, wait=60).snapshot.entries)))
else:
    print(json.dumps(confirmation.claim_confirmation(user, "delete:team-a/orders-api", token)))
"""


def race_processes(what, backend, tmp_path, settings, argument, api_url=""):
    if backend.env is None:
        pytest.skip("local memory is one process's own cache")
    folder = tmp_path / f"race-{what}"
    folder.mkdir()
    env = fresh_process_env(
        DJANGO_SETTINGS_MODULE="imgdash.settings",
        IMGDASH_DEMO="1",
        IMGDASH_DATA_DIR=str(tmp_path),  # the file cache in tmp_path/cache, as the fixture's
        IMGDASH_SECRET_KEY=settings.SECRET_KEY,
        **backend.env,
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", IN_ANOTHER_WORKER, what, str(folder), api_url, argument, str(n)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(folder.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
        time.sleep(0.02)
    (folder / "go").touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_processes_racing_to_load_the_index_fetch_it_once(
    cluster, emulator, backend, tmp_path, settings
):
    emulator.faults.add(method="GET", path=r"/repositories$", latency=0.3)
    token = emulator.issue_id_token("admin")
    sizes = race_processes("index", backend, tmp_path, settings, token, emulator.api_url)
    assert sizes == [len(emulator.repositories)] * PROCESSES
    assert len(list_calls(emulator)) == 1


def test_a_confirmation_used_in_several_processes_at_once_is_accepted_once(
    backend, tmp_path, settings
):
    token = confirmation_token(types.SimpleNamespace(pk=1), "delete:team-a/orders-api")
    accepted = race_processes("confirm", backend, tmp_path, settings, token)
    assert accepted.count(True) == 1
