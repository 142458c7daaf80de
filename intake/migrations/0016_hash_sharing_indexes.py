"""The unique index on KnownHash.shared_seq, and the index and foreign key of
KnownHash.confirmed_from_report (their columns came in 0015), built without holding off
writes to the known-hash list: five million entries and more, which reports are matched
against and imports write to.

On PostgreSQL each index is built CONCURRENTLY, and the foreign key is added NOT VALID
(a moment's lock, no scan) and then validated, which reads every row while writes go on.
Not one transaction, as CREATE INDEX CONCURRENTLY requires; safe to run again after a run
cut short: what exists is left, and an index a failed build left invalid is built again.
Elsewhere (SQLite, the embedded mode) the fields are altered the usual way."""

from typing import Any

from django.db import migrations, models

TABLE = "intake_knownhash"
# How long a statement waits for a lock before the migration fails rather than queue
# every writer behind it; run it again when the list is quieter.
LOCK_TIMEOUT = "10s"


def plain(model: Any, name: str) -> models.Field:
    """``model``'s field as 0015 made its column: no index, no constraint."""
    if name == "shared_seq":
        field: models.Field = models.BigIntegerField(null=True, blank=True)
    else:
        field = models.ForeignKey(
            model._meta.get_field(name).related_model,
            null=True,
            blank=True,
            on_delete=models.SET_NULL,
            related_name="+",
            db_constraint=False,
            db_index=False,
        )
    field.set_attributes_from_name(name)
    field.model = model
    return field


def index_state(cursor: Any, name: str) -> bool | None:
    """Whether the index ``name`` is valid; None when there is none."""
    cursor.execute(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = %s",
        [name],
    )
    row = cursor.fetchone()
    return None if row is None else bool(row[0])


def constraint_exists(schema_editor: Any, name: str, kind: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s AND contype = %s", [name, kind]
        )
        return cursor.fetchone() is not None


def build_index(schema_editor: Any, name: str, definition: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        valid = index_state(cursor, name)
    if valid or constraint_exists(schema_editor, name, "u"):
        return
    if valid is False:  # left by a build cut short
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute(definition)


class BuildSharingIndexes(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label: str, state: Any) -> None:
        """The fields already carry their index and key in the state (0015)."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
        model = to_state.apps.get_model(app_label, "KnownHash")
        if schema_editor.connection.vendor != "postgresql":
            for name in ("shared_seq", "confirmed_from_report"):
                schema_editor.alter_field(model, plain(model, name), model._meta.get_field(name))
            return
        report_column = model._meta.get_field("confirmed_from_report").column
        unique_name = f"{TABLE}_shared_seq_key"
        report_index = schema_editor._create_index_name(TABLE, [report_column])
        foreign_key = schema_editor._create_index_name(
            TABLE, [report_column], suffix="_fk_intake_report_id"
        )
        schema_editor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            build_index(
                schema_editor,
                unique_name,
                f"CREATE UNIQUE INDEX CONCURRENTLY {unique_name} ON {TABLE} (shared_seq)",
            )
            if not constraint_exists(schema_editor, unique_name, "u"):
                # As Django makes it (a constraint, which later migrations can drop): the
                # index becomes the constraint's, in a moment's lock and no scan.
                schema_editor.execute(
                    f"ALTER TABLE {TABLE} ADD CONSTRAINT {unique_name} "
                    f"UNIQUE USING INDEX {unique_name}"
                )
            build_index(
                schema_editor,
                report_index,
                f"CREATE INDEX CONCURRENTLY {report_index} ON {TABLE} ({report_column})",
            )
            if not constraint_exists(schema_editor, foreign_key, "f"):
                schema_editor.execute(
                    f"ALTER TABLE {TABLE} ADD CONSTRAINT {foreign_key} "
                    f"FOREIGN KEY ({report_column}) REFERENCES intake_report (id) "
                    "DEFERRABLE INITIALLY DEFERRED NOT VALID"
                )
            schema_editor.execute(f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT {foreign_key}")
        finally:
            schema_editor.execute("RESET lock_timeout")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
        model = from_state.apps.get_model(app_label, "KnownHash")
        changes = [
            (model._meta.get_field(name), plain(model, name))
            for name in ("shared_seq", "confirmed_from_report")
        ]
        if schema_editor.connection.vendor == "sqlite":
            # One rebuild for both: a rebuild per field would give back the other's index,
            # as the model (the state) still has it.
            schema_editor._remake_table(model, alter_fields=changes)
            return
        for real, without in changes:
            schema_editor.alter_field(model, real, without)

    def describe(self) -> str:
        return "Build the shared known-hash list's indexes and foreign key without locking it"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("intake", "0015_hash_sharing"),
    ]

    operations = [BuildSharingIndexes()]
