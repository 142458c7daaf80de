from django.contrib.auth.management import create_permissions
from django.db import migrations

# What each staff role may do (app label, codename). Supervisors keep what their group
# had (routing/migrations/0004) and gain the rest of this list.
ANALYST = [
    ("intake", "view_report"),
    ("intake", "triage_report"),
    ("intake", "view_ipcaptureevent"),
    ("intake", "view_reportedfile"),
    ("intake", "view_reportaddition"),
    ("intake", "view_bundle"),
    ("intake", "view_knownhash"),
    ("routing", "view_referral"),
    ("routing", "view_referralevent"),
    ("routing", "view_agency"),
    ("routing", "view_country"),
    ("routing", "view_routingrule"),
]
SUPERVISOR = [
    *ANALYST,
    ("intake", "route_report"),
    ("intake", "retract_report"),
    ("auth", "view_user"),
    ("auth", "add_user"),
    ("auth", "change_user"),
    ("auth", "view_group"),
]
AUDITOR = [("intake", "view_auditentry")]
ROLES = {"analyst": ANALYST, "supervisor": SUPERVISOR, "auditor": AUDITOR}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in permissions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0008_audit_trail"),
        ("routing", "0004_supervisor_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
