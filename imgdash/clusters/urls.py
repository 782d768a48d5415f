from django.urls import path

from imgdash.clusters import views

app_name = "clusters"
urlpatterns = [
    path("", views.cluster_list, name="list"),
    path("current/", views.clusters_home, name="home"),
    path("<slug:slug>/connect/", views.connect, name="connect"),
    path("<slug:slug>/disconnect/", views.disconnect, name="disconnect"),
]
