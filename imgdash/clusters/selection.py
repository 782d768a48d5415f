"""Which cluster the navigation shows as current: the last one the user opened."""

from imgdash.clusters.models import Cluster

SESSION_KEY = "current_cluster"


def registered_clusters():
    """Every cluster an admin registered. All are listed to everyone: what a user may do on
    one is decided by the cluster's own RBAC on their token."""
    return list(Cluster.objects.all())


def current_cluster(request, clusters):
    slug = getattr(request, "resolver_match", None) and request.resolver_match.kwargs.get("slug")
    slug = slug or request.session.get(SESSION_KEY)
    for cluster in clusters:
        if cluster.slug == slug:
            return cluster
    return clusters[0] if clusters else None


def remember_cluster(request, cluster):
    # Only on change: assigning marks the session modified, and a save per page is wasted.
    if request.session.get(SESSION_KEY) != cluster.slug:
        request.session[SESSION_KEY] = cluster.slug
