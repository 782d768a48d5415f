"""gunicorn settings imgdash needs beyond its flags: `gunicorn -c deploy/gunicorn.conf.py
imgdash.wsgi`. Flags on the command line still set binding, workers and timeouts, and win
over what is set here.

Each worker serves requests on GUNICORN_THREADS threads (4 by default; gunicorn's gthread
worker). imgdash's requests mostly wait on a cluster: with the default one-request-per-process
worker, one slow cluster call (up to the 60 s list deadline) holds a whole process, and every
connection is closed after one request, the worker then lingering up to 2 s on the close until
the client lets go. Threads keep connections alive and serve others while one request waits.

With several workers, /metrics sums the figures each worker writes into
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode). The folder must start empty,
or a restart adds the figures of workers that are gone; and a worker that exits must be marked
dead, or its gauges stay.
"""

import os
from pathlib import Path

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))


def _metrics_folder():
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    return Path(folder) if folder else None


def on_starting(server):
    folder = _metrics_folder()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    if _metrics_folder() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
