"""Who is registering, changing or deleting clusters, for the action log.

Clusters change through the admin, `add_cluster`, or any other code; the signals in
signals.py log every save and delete, and take the actor from here:

    with changed_by(request):                       # the admin: the signed-in admin
        cluster.save()
    with changed_by(via="manage.py add_cluster"):   # a command: no imgdash user
        cluster.save()

Anything else (a shell, a script) is logged with no actor and says so.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from imgdash.clusters.models import describe_ca_bundle

OTHER = "code outside the admin and add_cluster (a shell or script)"

_source: ContextVar[tuple] = ContextVar("cluster_change_source", default=(None, OTHER))


@contextmanager
def changed_by(request=None, via="the admin"):
    token = _source.set((request, via))
    try:
        yield
    finally:
        _source.reset(token)


def change_source():
    """(request or None, what made the change in words)."""
    return _source.get()


def cluster_facts(cluster):
    """What the action log keeps of a cluster's registration: never the CA bundle's text."""
    return {
        "name": cluster.name,
        "slug": cluster.slug,
        "api_url": cluster.api_url,
        "ca_bundle": describe_ca_bundle(cluster.ca_pem),
        "verify_tls": cluster.verify_tls,
        "registry": cluster.registry,
    }


def changed_facts(before, after):
    """{field: {"old": ..., "new": ...}} for each fact that differs; `before` None: all."""
    return {
        field: {"old": before.get(field) if before else None, "new": value}
        for field, value in after.items()
        if before is None or before.get(field) != value
    }
