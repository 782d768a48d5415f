"""Running a job's items in a worker: a few at a time, honest about each, stoppable.

    @task()
    def bulk_delete(job_id, run):
        return run_job(job_id, run, Deleter, slot_purpose="delete",
                       concurrency=settings.DELETE_CONCURRENCY)

`open_handler(job, origin)` is called once per thread and returns a callable
`handler(item, link_intent) -> Outcome` with a `close()`; it raises JobStopped when the work
cannot start (no usable credential). For each item, in order:

1. stop if the job was cancelled, stopped or is no longer this run's (never mid-call);
2. claim one of the cluster's slots (at most `concurrency` requests in flight per cluster,
   across every job and worker: slots.py);
3. mark the item `sending` and commit, in one conditional UPDATE that also checks 1;
4. call the handler (which logs intent, sends once, logs the outcome) and record its state.

The thread that called run_job beats the job's heartbeat meanwhile (and extends its slots'
leases), so a worker busy with one slow call is never taken for dead; a worker that died is
noticed by services.notice_interrupted.
"""

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from imgdash.jobs import slots
from imgdash.jobs.models import (
    CANCELLED,
    DONE,
    FAILED,
    NOT_ATTEMPTED,
    PENDING,
    QUEUED,
    RUNNING,
    SENDING,
    UNKNOWN,
    Job,
    JobItem,
)
from imgdash.jobs.services import (
    job_origin,
    log_finish,
    notice_interrupted,
    slot_holder_prefix,
)

logger = logging.getLogger("imgdash.jobs")

SLOT_WAIT = 0.1
STOPPED_WORKER = (
    "Its worker was stopped (a restart or shutdown) before it finished. Resume it to send "
    "the repositories not attempted."
)


class JobStopped(Exception):
    """The job cannot go on; the message tells its owner what to do."""


@dataclass
class Outcome:
    state: str
    message: str = ""
    stop: str = ""  # not empty: stop the job after this item, with this message


def beat_every():
    """Seconds between heartbeats: several within the time after which a job counts as dead."""
    return min(5.0, settings.JOB_STALE_AFTER / 4)


def run_job(job_id, run, open_handler, *, slot_purpose, concurrency):
    """Run the pending items of run `run` of job `job_id`; returns the job's final state."""
    notice_interrupted()  # a worker starting work also notices the jobs of dead ones
    now = timezone.now()
    if not Job.objects.filter(pk=job_id, run=run, state=QUEUED).update(
        state=RUNNING, heartbeat_at=now
    ):
        logger.info("Job %s run %s is not queued any more (cancelled or superseded)", job_id, run)
        return None
    Job.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    job = Job.objects.select_related("owner", "cluster").get(pk=job_id)
    state = _Run(job, run, open_handler, slot_purpose, concurrency).go()
    logger.info("Job %s run %s finished: %s", job_id, run, state)
    return state


class _Run:
    def __init__(self, job, run, open_handler, slot_purpose, concurrency):
        self.job = job
        self.run = run
        self.open_handler = open_handler
        self.slot_purpose = slot_purpose
        self.concurrency = concurrency
        self.origin = job_origin(job)
        self.holder_prefix = slot_holder_prefix(job.pk, run)
        self.stop = threading.Event()
        self.reasons = []
        self.lock = threading.Lock()
        self.pending = iter(list(job.items.filter(state=PENDING).order_by("position")))

    def go(self):
        if self.job.owner is None or self.job.cluster is None:
            self._stop_because("Its owner's account or its cluster was removed.")
            return self._finish()
        interrupted = None
        with (
            _stop_on_shutdown(self),
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="job") as pool,
        ):
            futures = [pool.submit(self._work, n) for n in range(self.concurrency)]
            try:
                while wait(futures, timeout=beat_every()).not_done:
                    self._beat()
            except BaseException as error:  # a forced stop (SystemExit): nothing new starts
                self._stop_because(STOPPED_WORKER)
                interrupted = error
        state = self._finish()
        if interrupted is not None:
            raise interrupted
        return state

    def _stop_because(self, reason):
        with self.lock:
            if reason and reason not in self.reasons:
                self.reasons.append(reason)
        self.stop.set()

    def _beat(self):
        alive = Job.objects.filter(pk=self.job.pk, run=self.run, state=RUNNING).update(
            heartbeat_at=timezone.now()
        )
        slots.extend_slots(self.holder_prefix, settings.JOB_STALE_AFTER)
        if not alive:
            # Taken for dead (the database was out of reach too long): send nothing more.
            self._stop_because("")
        elif Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            self.stop.set()

    def _work(self, number):
        holder = f"{self.holder_prefix}{number}"
        try:
            try:
                handler = self.open_handler(self.job, self.origin)
            except JobStopped as reason:
                self._stop_because(str(reason))
                return
            try:
                while not self.stop.is_set():
                    with self.lock:
                        item = next(self.pending, None)
                    if item is None:
                        return
                    self._one(item, handler, holder)
            finally:
                handler.close()
        except Exception:
            logger.exception("Job %s: a worker thread failed", self.job.pk)
            self._stop_because("imgdash hit an error while running it (see the server log).")
        finally:
            connection.close()

    def _one(self, item, handler, holder):
        slot = self._wait_for_slot(holder)
        if slot is None:
            return
        try:
            if not self._mark_sending(item):
                self.stop.set()
                return
            outcome = handler(item, lambda intent: _link_intent(item, intent))
            JobItem.objects.filter(pk=item.pk).update(
                state=outcome.state, message=outcome.message[:1000], finished_at=timezone.now()
            )
            if outcome.stop:
                self._stop_because(outcome.stop)
        finally:
            slots.release_slot(self.job.cluster_id, self.slot_purpose, slot, holder)

    def _wait_for_slot(self, holder):
        while not self.stop.is_set():
            slot = slots.claim_slot(
                self.job.cluster_id,
                self.slot_purpose,
                limit=self.concurrency,
                holder=holder,
                lease=settings.JOB_STALE_AFTER,
            )
            if slot is not None:
                return slot
            self.stop.wait(SLOT_WAIT)
        return None

    def _mark_sending(self, item):
        """Commit `sending`, only while the job is this run's, running and not cancelled."""
        return JobItem.objects.filter(
            pk=item.pk,
            state=PENDING,
            job__run=self.run,
            job__state=RUNNING,
            job__cancel_requested=False,
        ).update(state=SENDING)

    def _finish(self):
        job = self.job
        cancelled = Job.objects.filter(pk=job.pk, cancel_requested=True).exists()
        if cancelled:
            state, message, why = CANCELLED, "", "Not sent: the job was cancelled."
        elif self.reasons:
            message = " ".join(self.reasons)
            state, why = FAILED, "Not sent: the job stopped before it."
        else:
            state, message, why = DONE, "", "Not sent."
        now = timezone.now()
        with transaction.atomic():
            if not Job.objects.filter(pk=job.pk, run=self.run, state=RUNNING).update(
                state=state, finished_at=now, heartbeat_at=now, message=message[:500]
            ):
                return None  # interrupted meanwhile: that check already settled the items
            job.items.filter(state=PENDING).update(state=NOT_ATTEMPTED, message=why)
            # A call that raised out of its handler: its intent has outcome unknown already.
            job.items.filter(state=SENDING).update(
                state=UNKNOWN, message="Outcome unknown: imgdash failed during the call."
            )
        slots.release_slots(self.holder_prefix)
        job.refresh_from_db()
        log_finish(self.origin, job, state)
        return state


@contextmanager
def _stop_on_shutdown(run):
    """While the job runs in a worker's main thread, SIGTERM or SIGINT (a restart, a deploy,
    Ctrl-C) stops it before its next item, resumable, instead of waiting for its end; the
    worker's own handler still runs (it exits once the task returns)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}

    def stop(number, frame):
        run._stop_because(STOPPED_WORKER)
        handler = previous[number]
        if callable(handler):
            handler(number, frame)
        elif handler == signal.SIG_DFL:
            raise KeyboardInterrupt if number == signal.SIGINT else SystemExit(128 + number)

    for number in previous:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _link_intent(item, intent):
    JobItem.objects.filter(pk=item.pk).update(intent=intent)
