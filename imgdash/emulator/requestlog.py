"""Every request the emulator received, in order, so tests can count retries (or prove that
no request was made at all). Requests answered by a fault are counted too; requests to the
control endpoint are not, so driving the emulator never disturbs the count."""

import threading
import time
from collections import deque
from dataclasses import dataclass, field

# A demo left running for days must not grow without bound.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict  # name -> list of values
    headers: dict  # every header except Authorization
    body: bytes = b""
    # Who the request claimed to be (the Bearer token's unverified `sub`, or the Basic user):
    # lets a test check which credential a client sent without keeping the credential.
    username: str | None = None
    time: float = field(default_factory=time.time)


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=MAX_ENTRIES)

    def append(self, entry):
        with self._lock:
            self._entries.append(entry)

    def clear(self):
        with self._lock:
            self._entries.clear()

    def snapshot(self):
        with self._lock:
            return list(self._entries)

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self.snapshot())

    def __getitem__(self, index):
        return self.snapshot()[index]

    def matching(self, method=None, path=None):
        """The logged requests with this method and/or exactly this path."""
        return [
            entry
            for entry in self.snapshot()
            if (method is None or entry.method == method) and (path is None or entry.path == path)
        ]
