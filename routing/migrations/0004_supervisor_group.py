from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "supervisor"
# Supervisors edit the routing table and agencies (each change kept with who made it),
# and see and act on referrals.
PERMISSIONS = [
    "view_country",
    "change_country",
    "view_agency",
    "add_agency",
    "change_agency",
    "view_routingrule",
    "add_routingrule",
    "change_routingrule",
    "delete_routingrule",
    "view_referral",
    "change_referral",
    "view_referralevent",
]


def create_supervisor_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="routing", codename__in=PERMISSIONS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0003_delivery"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_supervisor_group, migrations.RunPython.noop)]
