"""The emulator's repositories: in memory, optionally persisted to a JSON file.

Each repository is kept as the exact JSON bytes the API answers with, so neither
`GET /repositories/{name}` nor `GET /repositories` serialises anything per request: the list
joins the cached bytes of the repositories the caller may see, and the joined body is itself
kept until the next change. At 10,000 repositories the list is tens of megabytes; building
it from dicts on every request would cost far more than sending it.
"""

import os
import tempfile
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import orjson

SCOPES = ("global", "namespace")
# How many differently filtered list bodies to keep (one per set of namespaces asking).
LIST_CACHE_SIZE = 8


class StateFileError(Exception):
    """The state file exists but cannot be used; it is left untouched."""


class Record(NamedTuple):
    """One repository: what RBAC needs, and its JSON as the API sends it."""

    name: str
    owner: str
    scope: str
    json: bytes
    tags_at: int  # where `"tags":...}` starts in `json`, so a scope change keeps the rest

    @classmethod
    def from_dict(cls, repository):
        name = repository["name"]
        owner = repository.get("owner") or name.split("/", 1)[0]
        scope = repository.get("scope") or "namespace"
        if scope not in SCOPES:
            raise ValueError(f"{name}: scope must be global or namespace, not {scope!r}")
        tail = b',"tags":' + orjson.dumps(repository.get("tags")) + b"}"
        return cls._assemble(name, owner, scope, tail)

    @classmethod
    def _assemble(cls, name, owner, scope, tail):
        head = (
            b'{"name":'
            + orjson.dumps(name)
            + b',"owner":'
            + orjson.dumps(owner)
            + b',"scope":'
            + orjson.dumps(scope)
        )
        return cls(name, owner, scope, head + tail, len(head))

    def with_scope(self, scope):
        return self._assemble(self.name, self.owner, scope, self.json[self.tags_at :])


class RepositoryStore:
    """Thread-safe repositories by name, in insertion order (the API's order is unspecified)."""

    def __init__(self, repositories=(), state_file=None, anchor=None):
        self._lock = threading.RLock()
        # The seed's anchor date (see images.py), kept with the state: the registry's
        # blobs are rebuilt from it.
        self.anchor = anchor
        self._records = {}
        for repository in repositories:
            record = Record.from_dict(repository)
            self._records[record.name] = record
        self.state_file = Path(state_file) if state_file else None
        self.version = 0
        self._list_cache = OrderedDict()

    # -- reading ---------------------------------------------------------------------

    def __len__(self):
        return len(self._records)

    def __contains__(self, name):
        return name in self._records

    def __iter__(self):
        return iter(self.names())

    def names(self):
        with self._lock:
            return list(self._records)

    def record(self, name):
        return self._records.get(name)

    def get(self, name):
        """The repository as the API returns it (a fresh dict), or None."""
        record = self._records.get(name)
        return orjson.loads(record.json) if record else None

    def all(self):
        """Every repository as a fresh dict, in order."""
        with self._lock:
            records = list(self._records.values())
        return [orjson.loads(record.json) for record in records]

    def list_body(self, namespaces=None):
        """`{"repositories": [...]}` as bytes: every repository (namespaces None), or the
        global ones plus those owned by one of `namespaces`."""
        key = None if namespaces is None else frozenset(namespaces)
        with self._lock:
            body = self._list_cache.get(key)
            if body is not None:
                self._list_cache.move_to_end(key)
                return body
            if key is None:
                parts = [record.json for record in self._records.values()]
            else:
                parts = [
                    record.json
                    for record in self._records.values()
                    if record.scope == "global" or record.owner in key
                ]
            body = b'{"repositories":[' + b",".join(parts) + b"]}"
            self._list_cache[key] = body
            if len(self._list_cache) > LIST_CACHE_SIZE:
                self._list_cache.popitem(last=False)
            return body

    # -- changing --------------------------------------------------------------------

    def _commit(self, records):
        """Make `records` the repositories; with a state file, only once they are saved."""
        previous = self._records
        self._records = records
        self.version += 1
        self._list_cache.clear()
        if self.state_file:
            try:
                self.save()
            except BaseException:
                # Memory and disk must not disagree: the change did not happen.
                self._records = previous
                self._list_cache.clear()
                raise

    def set_scope(self, name, scope):
        if scope not in SCOPES:
            raise ValueError(f"scope must be global or namespace, not {scope!r}")
        with self._lock:
            record = self._records.get(name)
            if record is None:
                return False
            records = dict(self._records)
            records[name] = record.with_scope(scope)
            self._commit(records)
            return True

    def delete(self, name):
        with self._lock:
            if name not in self._records:
                return False
            records = dict(self._records)
            del records[name]
            self._commit(records)
            return True

    def put(self, repository):
        """Add or replace a repository (a dict shaped as the API returns it)."""
        record = Record.from_dict(repository)
        with self._lock:
            records = dict(self._records)
            records[record.name] = record
            self._commit(records)

    def snapshot(self):
        """A cheap copy to restore later: records are immutable, so a dict copy will do."""
        with self._lock:
            return dict(self._records)

    def restore(self, snapshot):
        with self._lock:
            self._commit(dict(snapshot))

    # -- the state file --------------------------------------------------------------

    @classmethod
    def load(cls, state_file):
        """The repositories saved in `state_file`; StateFileError if it is not usable."""
        path = Path(state_file)
        try:
            data = orjson.loads(path.read_bytes())
            repositories = data["repositories"]
            anchor = data.get("anchor")
            anchor = datetime.fromisoformat(anchor) if isinstance(anchor, str) else None
            store = cls(repositories, state_file=path, anchor=anchor)
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"cannot use state file {path}: {exc}") from exc
        return store

    def save(self):
        """Write every repository to the state file atomically: a temporary file in the same
        directory, flushed to disk, then renamed over the old one. A crash at any point
        leaves either the old file or the new one, never half of one."""
        path = self.state_file
        with self._lock:
            body = self.list_body()
        if self.anchor is not None:
            body = b'{"anchor":' + orjson.dumps(self.anchor.isoformat()) + b"," + body[1:]
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # Make the rename itself durable.
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
