from django.conf import settings

from imgdash.accounts.roles import AUDITOR, OPERATOR, VIEWER, is_admin, user_roles
from imgdash.clusters.selection import current_cluster, registered_clusters


def navigation(request):
    """What the navigation bar needs on every page: roles, clusters, the current cluster."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"demo": settings.DEMO}
    roles = user_roles(user)
    clusters = registered_clusters(request) if roles else []
    return {
        "demo": settings.DEMO,
        "can_browse": VIEWER in roles,
        "can_change": OPERATOR in roles,
        "can_audit": AUDITOR in roles,
        "is_admin": is_admin(user),
        "nav_clusters": clusters,
        "current_cluster": current_cluster(request, clusters),
    }
