"""The long work of repositories, run as jobs by the Tasks worker (`manage.py db_worker`).

bulk_delete: each repository of a confirmed bulk delete, a few at a time per cluster, as the
job's owner with the owner's stored credential; each logged as intent then outcome (the rows
name the job), never retried. A 401 stops the job: reconnect, then resume it.
"""

import threading

from django.conf import settings
from django_tasks import task

from imgdash.clusters.services import (
    NeedsConnection,
    UnreadableToken,
    credential_for,
    mark_stale,
    user_client,
)
from imgdash.imagemanager import Unauthorized
from imgdash.jobs.models import DELETED, GONE
from imgdash.jobs.runner import JobStopped, Outcome, run_job
from imgdash.repositories import index
from imgdash.repositories.logged_writes import perform

# The cached index is read, changed and written back whole: one thread of this process at a time.
_INDEX_LOCK = threading.Lock()


@task()
def bulk_delete(job_id, run):
    return run_job(
        job_id,
        run,
        Deleter,
        slot_purpose="delete",
        concurrency=settings.DELETE_CONCURRENCY,
    )


class Deleter:
    """One worker thread's deletes, on its own client with the owner's token."""

    def __init__(self, job, origin):
        self.job = job
        self.origin = origin
        try:
            self.client, self.credential = user_client(job.owner, job.cluster)
        except UnreadableToken as reason:
            mark_stale(
                origin,
                reason.credential,
                None,
                "The stored token could not be decrypted with any key of IMGDASH_TOKEN_KEYS: "
                "marked stale",
            )
            raise JobStopped(f"{reason} Then resume this job.") from None
        except NeedsConnection as reason:
            raise JobStopped(f"{reason} Then resume this job.") from None

    def __call__(self, item, link_intent):
        job, name = self.job, item.target
        result = perform(
            self.origin,
            job.cluster,
            "repository.bulk_delete",
            name,
            {"job": job.pk, **item.details},
            lambda: self.client.delete_repository(name),
            before_send=link_intent,
        )
        with _INDEX_LOCK:
            if result.ok or result.gone:
                index.forget_repository(job.owner, job.cluster, name)
            elif result.outcome == "unknown":
                index.drop_index(job.owner, job.cluster)
        if isinstance(result.error, Unauthorized):
            mark_stale(self.origin, credential_for(job.owner, job.cluster), result.error)
            return Outcome(
                "refused",
                "The cluster did not accept your token: nothing was deleted.",
                stop=f"{job.cluster.name} stopped accepting your token (it expired or was "
                "revoked). Reconnect, then resume this job: the repositories not attempted "
                "are sent then, none twice.",
            )
        state = GONE if result.gone else DELETED if result.ok else result.outcome
        return Outcome(state, result.message)

    def close(self):
        self.client.close()
