from django.urls import path

from imgdash.repositories import views

app_name = "repositories"
# Repository names contain slashes and any word; actions hang off a "-" segment, which no
# name segment can be. The action patterns come first: <path:name> is greedy.
urlpatterns = [
    path("repositories/", views.repository_list, name="list"),
    path("repositories/<path:name>/", views.repository_detail, name="detail"),
    path("status/", views.cluster_status, name="status"),
    path("storage/", views.storage, name="storage"),
]
