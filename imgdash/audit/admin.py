from django.contrib import admin

from imgdash.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: admins may look, nobody may add, change or delete a row."""

    list_display = [
        "id",
        "created_at",
        "actor_username",
        "cluster_name",
        "action",
        "target",
        "outcome",
        "status",
        "ip",
        "request_id",
    ]
    list_filter = ["outcome", "action", "cluster_name"]
    search_fields = ["actor_username", "target", "message", "request_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
