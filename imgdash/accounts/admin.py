from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from imgdash.accounts import sessions

User = get_user_model()


@admin.action(description="Sign out everywhere (end every session)", permissions=["change"])
def sign_out_everywhere(modeladmin, request, queryset):
    users = list(queryset)
    for user in users:
        sessions.sign_out_everywhere(user, request)
    names = ", ".join(user.get_username() for user in users)
    modeladmin.message_user(request, f"Signed out everywhere: {names}.", messages.SUCCESS)


class ImgdashUserAdmin(UserAdmin):
    actions = [*(UserAdmin.actions or []), sign_out_everywhere]


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ImgdashUserAdmin)
