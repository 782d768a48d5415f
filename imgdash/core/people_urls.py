from django.urls import path

from imgdash.core import people_views as views

app_name = "people"
urlpatterns = [
    path("", views.people_list, name="list"),
    path("<int:user_id>/grant-role/", views.grant, name="grant_role"),
    path("<int:user_id>/remove-role/", views.remove, name="remove_role"),
    path("<int:user_id>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:user_id>/reactivate/", views.reactivate, name="reactivate"),
    path("<int:user_id>/sign-out-everywhere/", views.sign_out, name="sign_out_everywhere"),
]
