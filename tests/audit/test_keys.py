"""A local installation without IMGDASH_AUDIT_KEY keeps its own key, made on first use."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import fresh_process_env

ROOT = Path(__file__).resolve().parents[2]
WRITE_A_ROW = (
    "from imgdash.audit.log import record_event; "
    "print(record_event(None, 'auth.sign_in', target='alice').key_id)"
)


def test_a_local_installation_keys_its_log_across_restarts(tmp_path):
    data = tmp_path / "data"
    env = fresh_process_env(IMGDASH_DEBUG="true", IMGDASH_DATA_DIR=str(data))

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert manage("migrate", "-v0").returncode == 0
    first = manage("shell", "--no-imports", "-c", WRITE_A_ROW)
    second = manage("shell", "--no-imports", "-c", WRITE_A_ROW)  # a restart
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip() != ""
    key_file = data / "audit-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    verified = manage("verify_audit")
    assert verified.returncode == 0, verified.stderr
    assert "Checked 2 rows: the chain is intact." in verified.stdout
    # The local anchor file, beside the database, pins the first row.
    assert "1 anchors read from" in verified.stdout
    assert (data / "audit-anchors").stat().st_mode & 0o777 == 0o600
