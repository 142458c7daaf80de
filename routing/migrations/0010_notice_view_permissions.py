from django.contrib.auth.management import create_permissions
from django.db import migrations

# Analysts and supervisors read the notices to providers and their events; the services
# alone add and change them.
GROUPS = ["analyst", "supervisor"]
PERMISSIONS = ["view_notice", "view_noticeevent"]


def grant_notice_views(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="routing", codename__in=PERMISSIONS
    )
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0009_notices"),
        ("intake", "0009_staff_roles"),
    ]

    operations = [migrations.RunPython(grant_notice_views, migrations.RunPython.noop)]
