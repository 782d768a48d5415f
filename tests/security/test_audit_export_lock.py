"""A stalled action-log export must not block writes on SQLite.

An auditor's client that stopped reading a CSV export kept a read cursor open on the SQLite
file; every write (a sign-in, an action-log row) then failed with "database is locked" until
the worker died. Run in a fresh process on a real database file, as a deployment would be.
"""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import fresh_process_env

ROOT = Path(__file__).resolve().parents[2]

STALLED_EXPORT = """
import json, sqlite3, sys
from datetime import UTC, datetime
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from imgdash.accounts.roles import grant_role
from imgdash.audit.chain import link
from imgdash.audit.models import AuditEvent

path = sys.argv[1]
call_command("migrate", verbosity=0)
now = datetime.now(UTC)
rows = [
    AuditEvent(created_at=now, action="repository.delete", outcome="ok", target=f"ns/r{n}")
    for n in range(6000)
]
link(rows)
AuditEvent.objects.bulk_create(rows, batch_size=500)
auditor = get_user_model().objects.create_user("audra", password="x")
grant_role(auditor, "Auditor")
client = Client()
client.force_login(auditor)
response = client.get("/audit/", {"format": "csv"})
stream = iter(response.streaming_content)
first = next(stream)  # the client reads the first lines, then stops reading

writer = sqlite3.connect(path, timeout=2)
try:
    writer.execute("UPDATE auth_user SET last_login = CURRENT_TIMESTAMP")
    writer.commit()
    write = "ok"
except sqlite3.OperationalError as error:
    write = str(error)
writer.close()
lines = first.count(b"\\n") + sum(chunk.count(b"\\n") for chunk in stream)
response.close()
print(json.dumps({"write": write, "lines": lines}))
"""


def test_a_stalled_export_does_not_block_writers(tmp_path):
    database = tmp_path / "imgdash.sqlite3"
    result = subprocess.run(
        [sys.executable, "-c", STALLED_EXPORT, str(database)],
        cwd=ROOT,
        env=fresh_process_env(
            DATABASE_URL=f"sqlite:///{database}",
            IMGDASH_DATA_DIR=str(tmp_path),
            IMGDASH_TESTING="1",
            DJANGO_SETTINGS_MODULE="imgdash.settings",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["write"] == "ok"
    # The header, the 6,000 rows and the auditor's sign-in, once the client reads on.
    assert outcome["lines"] == 6002
