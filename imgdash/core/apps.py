import os
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings

# The data folder holds the local database (password hashes, sessions, encrypted tokens, the
# action log), the local keys and the anchor file: imgdash's own user only.
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


class CoreConfig(AppConfig):
    """The top of the project: home, health, error pages, request ids, the demo.

    It may import every other app; no other app imports it (tests/test_layering.py).
    """

    name = "imgdash.core"
    label = "core"

    def ready(self):
        from imgdash.core import metrics
        from imgdash.imagemanager.transport import add_call_observer
        from imgdash.repositories.index import index_fetched, index_read

        add_call_observer(metrics.observe_call)
        index_read.connect(metrics.observe_index_read, dispatch_uid="metrics")
        index_fetched.connect(metrics.observe_index_fetch, dispatch_uid="metrics")
        make_private_folder(Path(settings.DATA_DIR))
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3" and database["NAME"]:
            name = str(database["NAME"])
            if name != ":memory:" and not name.startswith("file:"):
                make_private_database(Path(name))


def make_private_folder(folder):
    """Make `folder` (and missing parents) readable by its owner only; an existing one is left
    as the operator set it."""
    if not folder.exists():
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        folder.chmod(PRIVATE_FOLDER)  # mkdir's mode is filtered through the umask


def make_private_database(path):
    """Create an empty SQLite file 0600 before SQLite would create it 0644 (umask 022); SQLite
    gives its -wal and -shm files the database file's mode."""
    make_private_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(descriptor)
