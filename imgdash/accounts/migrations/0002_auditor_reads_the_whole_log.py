from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; this one needs the audit
    # app's now.
    audit = apps.get_app_config("audit")
    audit.models_module = True
    create_permissions(audit, apps=apps, verbosity=0)
    audit.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    auditor, _ = Group.objects.get_or_create(name="Auditor")
    auditor.permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    readers = Permission.objects.filter(content_type__app_label="audit", codename="view_auditevent")
    for auditor in Group.objects.filter(name="Auditor"):
        auditor.permissions.remove(*readers)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
