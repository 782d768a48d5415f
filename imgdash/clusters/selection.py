"""Which cluster the navigation shows as current: the last one the user opened."""

from django.http import Http404

from imgdash.clusters.models import Cluster

SESSION_KEY = "current_cluster"


def registered_clusters(request=None):
    """Every cluster an admin registered. All are listed to everyone: what a user may do on
    one is decided by the cluster's own RBAC on their token. Read once per `request` (the
    navigation and the view both need them)."""
    if request is None:
        return list(Cluster.objects.all())
    clusters = getattr(request, "_imgdash_clusters", None)
    if clusters is None:
        clusters = request._imgdash_clusters = list(Cluster.objects.all())
    return clusters


def cluster_by_slug(request, slug):
    """The registered cluster `slug` names, or Http404."""
    for cluster in registered_clusters(request):
        if cluster.slug == slug:
            return cluster
    raise Http404("No such cluster")


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
