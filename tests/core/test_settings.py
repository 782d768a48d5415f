"""Production settings: secure by default and loud about nonsense. Each case runs a fresh
Python process, as a deployment would, so the module-level checks really run."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import fresh_process_env

ROOT = Path(__file__).resolve().parents[2]


def run_manage(tmp_path, *args, **env):
    environ = fresh_process_env(**{"IMGDASH_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def production_env(**overrides):
    env = {
        "IMGDASH_SECRET_KEY": "s" * 20 + "-a-long-random-production-secret-key-0123456789",
        "IMGDASH_ALLOWED_HOSTS": "imgdash.example.com",
        "IMGDASH_TOKEN_KEYS": Fernet.generate_key().decode(),
        "IMGDASH_AUDIT_KEY": "a" * 20 + "-a-long-random-audit-key-0123456789",
    }
    env.update(overrides)
    return env


def test_it_passes_check_deploy_with_production_settings(tmp_path):
    result = run_manage(tmp_path, "check", "--deploy", **production_env())
    assert result.returncode == 0, result.stderr
    # Only HSTS preloading is silenced (a domain-wide commitment, opt-in); nothing else.
    assert "System check identified no issues (1 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("missing", "complaint"),
    [
        ("IMGDASH_SECRET_KEY", "IMGDASH_SECRET_KEY is required"),
        ("IMGDASH_ALLOWED_HOSTS", "IMGDASH_ALLOWED_HOSTS is required"),
        ("IMGDASH_TOKEN_KEYS", "IMGDASH_TOKEN_KEYS is required"),
        ("IMGDASH_AUDIT_KEY", "IMGDASH_AUDIT_KEY is required"),
    ],
)
def test_it_refuses_to_start_without_production_secrets(tmp_path, missing, complaint):
    env = production_env()
    del env[missing]
    result = run_manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert complaint in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("IMGDASH_DEBUG", "maybe", "IMGDASH_DEBUG must be true or false"),
        ("IMGDASH_INDEX_TTL", "soon", "IMGDASH_INDEX_TTL must be a whole number"),
        ("IMGDASH_CALL_DEADLINE", "0", "IMGDASH_CALL_DEADLINE must be at least 1"),
        ("IMGDASH_MAX_REPOSITORIES", "lots", "IMGDASH_MAX_REPOSITORIES must be a whole number"),
        ("IMGDASH_TOKEN_KEYS", "not-a-key", "not a Fernet key"),
        ("IMGDASH_AUDIT_KEY", "short", "shorter than 32 characters"),
        ("IMGDASH_AUDIT_ANCHOR", "s3://bucket", "must be file:PATH, syslog, stdout or none"),
        ("IMGDASH_AUDIT_ANCHOR", "file:", "needs a path"),
        ("IMGDASH_AUDIT_ANCHOR_ROWS", "0", "IMGDASH_AUDIT_ANCHOR_ROWS must be at least 1"),
        ("DATABASE_URL", "mysql://db/imgdash", "DATABASE_URL must start with"),
        ("REDIS_URL", "memcached://x", "REDIS_URL must start with"),
        ("IMGDASH_CSRF_TRUSTED_ORIGINS", "imgdash.example.com", "need a scheme"),
        ("IMGDASH_LOCKOUT_FAILURES", "0", "IMGDASH_LOCKOUT_FAILURES must be at least 1"),
        ("IMGDASH_LOCKOUT_COOLOFF", "15m", "IMGDASH_LOCKOUT_COOLOFF must be a whole number"),
        ("IMGDASH_SESSION_IDLE", "30", "IMGDASH_SESSION_IDLE must be at least 120"),
        ("IMGDASH_DELETE_CONCURRENCY", "0", "IMGDASH_DELETE_CONCURRENCY must be at least 1"),
        ("IMGDASH_DELETE_CONCURRENCY", "5", "IMGDASH_DELETE_CONCURRENCY must be 1 to 4"),
        ("IMGDASH_DELETE_CONCURRENCY", "two", "IMGDASH_DELETE_CONCURRENCY must be a whole"),
        ("IMGDASH_JOB_STALE_AFTER", "2", "IMGDASH_JOB_STALE_AFTER must be at least 5"),
        ("IMGDASH_LOG_FORMAT", "xml", "IMGDASH_LOG_FORMAT must be text or json"),
        ("IMGDASH_METRICS_ALLOW", "everyone", "IMGDASH_METRICS_ALLOW holds 'everyone'"),
    ],
)
def test_it_fails_loudly_on_nonsense(tmp_path, name, value, complaint):
    result = run_manage(tmp_path, "check", **production_env(**{name: value}))
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_cookies_and_headers_are_secure(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.SECURE_CONTENT_TYPE_NOSNIFF, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY, s.DEBUG, "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = run_manage(tmp_path, "shell", "--no-imports", "-c", code, **production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "DENY",
        "same-origin",
        "False",
        "FileBasedCache",
    ]


def test_redis_url_selects_the_shared_redis_cache(tmp_path):
    code = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])"
    env = production_env(REDIS_URL="redis://127.0.0.1:6379/1")
    result = run_manage(tmp_path, "shell", "--no-imports", "-c", code, **env)
    assert result.stdout.strip() == "django.core.cache.backends.redis.RedisCache"


def test_loading_the_settings_writes_nothing(tmp_path):
    data_dir = tmp_path / "not-yet"
    code = "import imgdash.settings as s; print(s.LOCAL, s.TESTING)"
    env = fresh_process_env(IMGDASH_DEBUG="true", IMGDASH_DATA_DIR=str(data_dir))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # Local, but not the tests: test mode is asked for explicitly, never guessed.
    assert result.stdout.split() == ["True", "False"]
    assert not data_dir.exists()


def test_a_local_installation_makes_its_folder_and_token_key_when_first_needed(tmp_path):
    data_dir = tmp_path / "fresh"
    code = (
        "from imgdash.clusters.crypto import decrypt_token, encrypt_token; "
        "print(decrypt_token(encrypt_token('a-token')))"
    )
    local = {"IMGDASH_DEBUG": "true", "IMGDASH_DATA_DIR": str(data_dir)}
    result = run_manage(tmp_path, "shell", "--no-imports", "-c", code, **local)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a-token"
    key_file = data_dir / "token-keys"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    again = run_manage(tmp_path, "shell", "--no-imports", "-c", code, **local)
    assert again.stdout.strip() == "a-token"
    assert key_file.read_text() == key  # kept, not replaced


# Switched on by `manage.py demo` and by the test configuration, never by an operator.
INTERNAL_VARIABLES = {"IMGDASH_DEMO", "IMGDASH_TESTING"}


def test_every_environment_variable_is_in_the_readme_configuration_reference():
    root = Path(__file__).resolve().parents[2]
    source = (root / "imgdash" / "settings.py").read_text()
    readme = (root / "README.md").read_text()
    read = set(re.findall(r'"((?:IMGDASH_[A-Z_]+)|DATABASE_URL|REDIS_URL)"', source))
    assert {"IMGDASH_AUDIT_KEY", "IMGDASH_SESSION_IDLE", "REDIS_URL"} <= read
    undocumented = sorted(
        name for name in read - INTERNAL_VARIABLES if f"| `{name}` |" not in readme
    )
    assert undocumented == [], "add these to README.md's configuration reference"
