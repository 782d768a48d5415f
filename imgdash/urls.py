"""Every URL of imgdash, one hop from the code that answers it.

Repository names contain slashes and any word, so actions on a repository hang off a `-`
segment (`…/repositories/<name>/-/delete/`), which no name segment can be.
"""

from django.contrib import admin
from django.urls import include, path

from imgdash.accounts import views as accounts_views
from imgdash.clusters import oidc_views
from imgdash.core import views as core_views

handler500 = "imgdash.core.views.server_error"

admin.site.site_header = "imgdash administration"
admin.site.site_title = "imgdash admin"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # The sign-in page offers "Sign in with <cluster>" beside the local form.
    path("accounts/login/", oidc_views.sign_in, name="login"),
    path("accounts/logout/", oidc_views.sign_out, name="logout"),
    path("accounts/oidc/<slug:slug>/start/", oidc_views.start, name="oidc_start"),
    # One redirect URI for every cluster's provider: the state says which sign-in it ends.
    path("oidc/callback/", oidc_views.callback, name="oidc_callback"),
    path(
        "accounts/sign-out-everywhere/",
        accounts_views.sign_out_everywhere_view,
        name="sign_out_everywhere",
    ),
    # /clusters/, /clusters/<slug>/connect/ and /disconnect/
    path("clusters/", include("imgdash.clusters.urls")),
    # /clusters/<slug>/repositories/…, /status/, /storage/, /docker-token/
    path("clusters/<slug:slug>/", include("imgdash.repositories.urls")),
    # /jobs/, /jobs/<id>/ and its cancel/ and resume/
    path("jobs/", include("imgdash.jobs.urls")),
    path("audit/", include("imgdash.audit.urls")),
    # /people/ (admins): users, their roles and tokens; grant, remove, deactivate, sign out
    path("people/", include("imgdash.core.people_urls")),
    path("admin/", admin.site.urls),
]
