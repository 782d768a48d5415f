from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from imgdash.accounts import views as account_views

handler500 = "imgdash.audit.views.server_error"

admin.site.site_header = "imgdash administration"
admin.site.site_title = "imgdash admin"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clusters/", include("imgdash.clusters.urls")),
    path("clusters/<slug:slug>/", include("imgdash.repositories.urls")),
    path("audit/", include("imgdash.audit.urls")),
    path("admin/", admin.site.urls),
]
