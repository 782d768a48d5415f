"""Claims that exactly one caller wins, across threads and worker processes, on every cache
backend imgdash runs with.

    if claim("repoindex:…:fetching", timeout=65):
        try: ...  # only one caller gets here until release() or the timeout
        finally: release("repoindex:…:fetching")

Redis (`SET NX`) and local memory (one process, under a lock) make `cache.add` atomic. Django's
file cache does not: its `add` checks for the file, then writes it, so two workers can both
win. There a claim is a small file in the cache folder, created and expired while holding an
exclusive `flock` on one guard file, which the kernel releases if its holder dies.
"""

import fcntl
import hashlib
import os
import random
import time
from contextlib import contextmanager, suppress

from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache

FOLDER = "claims"
# About one claim in this many also removes the expired claim files.
SWEEP_EVERY = 100


def claim(key, timeout):
    """True for the one caller that claims `key` until release() or `timeout` seconds."""
    folder = _claims_folder()
    if folder is None:
        return caches["default"].add(key, 1, timeout=timeout)
    path = _path(folder, key)
    with _guard(folder):
        if _expires_at(path) > time.time():
            return False
        # Written aside and renamed, so a reader outside the guard never sees it half-written.
        with open(path + ".new", "w") as claimed:
            claimed.write(repr(time.time() + timeout))
        os.replace(path + ".new", path)
        if random.randrange(SWEEP_EVERY) == 0:  # noqa: S311 - not a secret
            _sweep(folder)
    return True


def release(key):
    folder = _claims_folder()
    if folder is None:
        caches["default"].delete(key)
        return
    with _guard(folder), suppress(FileNotFoundError):
        os.unlink(_path(folder, key))


def is_claimed(key):
    folder = _claims_folder()
    if folder is None:
        return caches["default"].get(key) is not None
    return _expires_at(_path(folder, key)) > time.time()


def _claims_folder():
    """The folder for claim files when the cache is the file cache, else None."""
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        return None
    folder = os.path.join(backend._dir, FOLDER)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def _path(folder, key):
    return os.path.join(folder, hashlib.sha256(key.encode()).hexdigest() + ".claim")


def _expires_at(path):
    try:
        with open(path) as claimed:
            return float(claimed.read() or 0)
    except (FileNotFoundError, ValueError):
        return 0.0


def _sweep(folder):
    now = time.time()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.endswith(".claim") and _expires_at(path) <= now:
            os.unlink(path)


@contextmanager
def _guard(folder):
    # flock conflicts between separate open()s, so threads of one process exclude each other
    # as well as other processes.
    descriptor = os.open(os.path.join(folder, ".guard"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
