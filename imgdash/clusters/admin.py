from django import forms
from django.contrib import admin

from imgdash.audit.log import record_event
from imgdash.clusters.changes import changed_by
from imgdash.clusters.models import Cluster, Credential, SignInProvider


class SignInProviderForm(forms.ModelForm):
    """The client secret is write-only: never shown back; left empty, it stays as it is."""

    client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="The secret registered with the cluster's provider. Stored encrypted; "
        "leave empty to keep the stored one.",
    )

    class Meta:
        model = SignInProvider
        fields = ["cluster", "enabled", "client_id", "discovery_url"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("client_secret") and not self.instance.client_secret_encrypted:
            self.add_error("client_secret", "Give the client secret.")
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("client_secret"):
            self.instance.set_client_secret(self.cleaned_data["client_secret"])
        return super().save(commit)


@admin.register(SignInProvider)
class SignInProviderAdmin(admin.ModelAdmin):
    """“Sign in with <cluster>”: one per cluster, its client secret write-only."""

    form = SignInProviderForm
    list_display = ["cluster", "enabled", "client_id", "discovery_url"]
    fields = ["cluster", "enabled", "client_id", "client_secret", "discovery_url"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["fields"] = ["cluster", "enabled", "client_id", "discovery_url"]
        return super().get_form(request, obj, **kwargs)


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
