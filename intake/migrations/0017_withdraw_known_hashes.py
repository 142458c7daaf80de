from django.contrib.auth.management import create_permissions
from django.db import migrations

# Supervisors withdraw entries from the known-hash list (a provider disputed one, say) and
# put them back; analysts see the providers, with their hash-sharing agreement, when they
# send them notices.
GRANTS = {
    "supervisor": ["withdraw_known_hashes"],
    "analyst": ["view_provider"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label="intake", codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0016_hash_sharing_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="knownhash",
            options={
                "permissions": [
                    (
                        "withdraw_known_hashes",
                        "Can withdraw entries from the known-hash list or put them back",
                    )
                ],
                "verbose_name_plural": "known hashes",
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
