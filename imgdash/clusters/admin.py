from django.contrib import admin

from imgdash.audit.log import record_event
from imgdash.clusters.changes import changed_by
from imgdash.clusters.models import Cluster, Credential


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    """Every save and delete is logged with the admin as actor (the signals log it)."""

    list_display = ["name", "slug", "api_url", "verify_tls", "registry"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "api_url"]
    readonly_fields = ["endpoint_changed_at"]

    def save_model(self, request, obj, form, change):
        with changed_by(request):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with changed_by(request):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with changed_by(request):
            super().delete_queryset(request, queryset)


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Admins may see who is connected and revoke a credential; the token is never shown."""

    list_display = ["user", "cluster", "subject", "fingerprint", "expires_at", "stale_since"]
    list_filter = ["cluster"]
    fields = [
        "user",
        "cluster",
        "subject",
        "fingerprint",
        "expires_at",
        "connected_at",
        "stale_since",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        record_event(
            request,
            "credential.disconnect",
            cluster=obj.cluster,
            target=f"credential {obj.fingerprint}",
            message=f"Revoked by an admin for {obj.user.get_username()}",
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for credential in queryset.select_related("cluster", "user"):
            self.delete_model(request, credential)
