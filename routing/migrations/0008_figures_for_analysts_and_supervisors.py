from django.contrib.auth.management import create_permissions
from django.db import migrations

# Analysts and supervisors see the statistics pages; auditors keep to the audit trail.
GROUPS = ["analyst", "supervisor"]


def grant_figures(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="routing", codename="view_figures")
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0007_figures"),
        ("intake", "0009_staff_roles"),
    ]

    operations = [migrations.RunPython(grant_figures, migrations.RunPython.noop)]
