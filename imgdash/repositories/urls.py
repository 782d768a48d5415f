from django.urls import path

from imgdash.repositories import (
    cleanup_views,
    crawl_views,
    tag_delete_views,
    views,
    write_views,
)

app_name = "repositories"
# Repository names contain slashes and any word; actions hang off a "-" segment, which no
# name segment can be. The action patterns come first: <path:name> is greedy.
urlpatterns = [
    path("repositories/", views.repository_list, name="list"),
    path("repositories/-/bulk-delete/", write_views.bulk_delete, name="bulk_delete"),
    path("repositories/-/crawl/", crawl_views.start_crawl, name="crawl"),
    path("repositories/<path:name>/-/scope/", write_views.change_scope, name="scope"),
    path("repositories/<path:name>/-/delete/", write_views.delete_repository, name="delete"),
    path(
        "repositories/<path:name>/-/tags/<str:tag>/delete/",
        tag_delete_views.delete_tag,
        name="tag_delete",
    ),
    path("repositories/<path:name>/-/facts/", views.repository_facts, name="facts"),
    path("repositories/<path:name>/", views.repository_detail, name="detail"),
    path("docker-token/", write_views.docker_token, name="docker_token"),
    path("status/", views.cluster_status, name="status"),
    path("storage/", views.storage, name="storage"),
    path("cleanup/", cleanup_views.cleanup_candidates, name="cleanup"),
]
