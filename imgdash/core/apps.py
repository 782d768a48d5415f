from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    """The top of the project: home, health, error pages, request ids, the demo.

    It may import every other app; no other app imports it (tests/test_layering.py).
    """

    name = "imgdash.core"
    label = "core"

    def ready(self):
        # SQLite makes its file but not the folder it lives in: the default database sits in
        # the data folder, which a fresh clone does not have yet.
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3" and database["NAME"]:
            name = str(database["NAME"])
            if name != ":memory:" and not name.startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)
