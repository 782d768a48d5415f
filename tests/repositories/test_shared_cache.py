"""The repository index lives in a cache every worker process shares: a delete seen by one
gunicorn worker must not leave the repository showing in another. Here the other worker is a
real second Python process reading the same cache."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches

from imgdash.repositories import index

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

READ_IN_ANOTHER_PROCESS = """
import json, django
django.setup()
from django.core.cache import cache
stored = cache.get({key!r})
print(json.dumps(None if stored is None else [row[0] for row in stored[1]]))
"""


def names_seen_by_another_worker(key, env):
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IMGDASH_", "DJANGO_ALLOW", "PYTEST"))
    }
    environ.update(env, DJANGO_SETTINGS_MODULE="imgdash.settings", IMGDASH_DEMO="1")
    result = subprocess.run(
        [sys.executable, "-c", READ_IN_ANOTHER_PROCESS.format(key=key)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["file", "redis"])
def shared_cache(request, settings, tmp_path):
    """The production cache backends: the file-based default, and Redis when REDIS_URL is set."""
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("set REDIS_URL to test the Redis cache (.ci/run does)")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
        env = {"REDIS_URL": url}
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
        env = {"IMGDASH_DATA_DIR": str(tmp_path), "REDIS_URL": ""}
    yield env
    caches["default"].clear()


def test_a_delete_in_one_worker_is_seen_by_another(
    client, make_user, connect, cluster, emulator, shared_cache
):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client.force_login(user)
    client.get(f"/clusters/{cluster.slug}/repositories/")
    key = index._key(user, cluster)
    before = names_seen_by_another_worker(key, shared_cache)
    assert before == sorted(emulator.repositories.names())
    victim = next(name for name in before if name.startswith("team-a/"))

    html = client.get(f"/clusters/{cluster.slug}/repositories/{victim}/-/delete/").content
    confirmation = html.decode().split('name="confirmation" value="', 1)[1].split('"', 1)[0]
    client.post(
        f"/clusters/{cluster.slug}/repositories/{victim}/-/delete/",
        {"confirm": victim, "confirmation": confirmation},
    )

    after = names_seen_by_another_worker(key, shared_cache)
    assert victim not in after
    assert len(after) == len(before) - 1
