"""The data folder and the SQLite database are readable by imgdash's own user only.

They hold the action log, password hashes, sessions and encrypted cluster tokens; with the
usual umask SQLite made the database (and its -wal/-shm files) world-readable. Run in a fresh
process, as a deployment would start, with the usual umask 022.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import fresh_process_env

ROOT = Path(__file__).resolve().parents[2]

FIRST_START = """
import json, os, stat, sys
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from imgdash.audit.log import record_event

call_command("migrate", verbosity=0)
record_event(None, "auth.sign_in", target="alice")
data = Path(sys.argv[1])
database = data / "imgdash.sqlite3"
# The connection is still open, so the -wal and -shm files exist now.
paths = [data, database, Path(f"{database}-wal"), Path(f"{database}-shm")]
print(json.dumps({p.name: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in paths}))
"""


def test_a_first_start_makes_the_data_folder_and_database_private(tmp_path):
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-c", FIRST_START, str(data)],
        cwd=ROOT,
        env=fresh_process_env(
            IMGDASH_DATA_DIR=str(data),
            IMGDASH_DEBUG="true",
            DJANGO_SETTINGS_MODULE="imgdash.settings",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask, whatever ours is
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout.strip().splitlines()[-1])
    assert modes == {
        "data": "0o700",
        "imgdash.sqlite3": "0o600",
        "imgdash.sqlite3-wal": "0o600",
        "imgdash.sqlite3-shm": "0o600",
    }
