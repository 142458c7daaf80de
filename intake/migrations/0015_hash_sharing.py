"""The shared known-hash list and provider feedback. Every change to intake_knownhash here
is a catalogue change (nullable columns, a constant default) that PostgreSQL makes without
reading the table's rows: the indexes that must read all of them come in 0016."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Who may do what with the shared list: analysts and supervisors confirm a report's files
# into it; only supervisors record a provider's hash-sharing agreement, and they read the
# providers' feedback with everyone who reads the list.
GRANTS = {
    "analyst": ["confirm_known_hashes", "view_hashfeedback"],
    "supervisor": [
        "confirm_known_hashes",
        "view_hashfeedback",
        "manage_hash_sharing",
        "view_provider",
        "change_provider",
    ],
}


class LimitLockWaits(migrations.RunSQL):
    """Fail rather than queue every reader of the known-hash list behind this migration's
    table locks while it waits for a long read to finish; run it again when quieter.
    First of the operations applying it, and last (so first) of those unapplying it;
    PostgreSQL's, nothing elsewhere."""

    def __init__(self, *, applying: bool) -> None:
        sql = "SET LOCAL lock_timeout = '10s'"
        noop = migrations.RunSQL.noop
        super().__init__(sql if applying else noop, noop if applying else sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


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
        ("intake", "0014_encrypt_personal_data"),
    ]

    operations = [
        LimitLockWaits(applying=True),
        migrations.AlterModelOptions(
            name="provider",
            options={
                "permissions": [
                    ("manage_hash_sharing", "Can record a provider's hash-sharing agreement")
                ]
            },
        ),
        migrations.AlterModelOptions(
            name="report",
            options={
                "permissions": [
                    ("triage_report", "Can triage reports: priority, review, bundles"),
                    ("route_report", "Can route and re-route reports to agencies"),
                    ("retract_report", "Can retract a report at its provider's request"),
                    ("confirm_known_hashes", "Can add a report's files to the known-hash list"),
                ]
            },
        ),
        migrations.AddField(
            model_name="knownhash",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="knownhash",
            name="confirmed_by",
            field=models.CharField(blank=True, db_default="", default="", max_length=150),
        ),
        # The two columns only: their index, unique index and foreign key are built in
        # 0016 without holding off writes to a list of millions of entries.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="knownhash",
                    name="confirmed_from_report",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="intake.report",
                    ),
                ),
                migrations.AddField(
                    model_name="knownhash",
                    name="shared_seq",
                    field=models.BigIntegerField(blank=True, null=True, unique=True),
                ),
            ],
            database_operations=[
                migrations.AddField(
                    model_name="knownhash",
                    name="confirmed_from_report",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="intake.report",
                        db_constraint=False,
                        db_index=False,
                    ),
                ),
                migrations.AddField(
                    model_name="knownhash",
                    name="shared_seq",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
            ],
        ),
        migrations.AddField(
            model_name="provider",
            name="hash_sharing_agreed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="provider",
            name="hash_sharing_agreement",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="HashFeedback",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "verdict",
                    models.CharField(
                        choices=[("confirmed", "Confirmed"), ("disputed", "Disputed")], max_length=9
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "known_hash",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="feedback",
                        to="intake.knownhash",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="intake.provider",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "hash feedback",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("verdict", "disputed"), _negated=True),
                            models.Q(("reason", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="hashfeedback_disputed_has_reason",
                    )
                ],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
        LimitLockWaits(applying=False),
    ]
