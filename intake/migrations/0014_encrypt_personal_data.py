"""Encrypt the personal data already stored (0013 made the fields encrypting), and drop the
reporter's own identifiers from the search index; build the index the purge walks.

Not one transaction: a year of reports takes hours, which must not hold locks. Each batch
of BATCH_SIZE rows (by id) is locked, rewritten and committed on its own, with one UPDATE
and one DELETE a batch, so the service runs on meanwhile and a migration cut short keeps
its batches. It is safe to run again, and a run cut short is finished by running it again:
a value already encrypted (a Fernet token, intake.encryption.is_token) is left as it is,
never encrypted twice."""

import json
from collections.abc import Mapping

from django.db import migrations, models, transaction
from django.db.models import Q

BATCH_SIZE = 1000
CONTACT_COLUMNS = ["reporter_name", "reporter_email", "reporter_phone"]


class AddIndexConcurrently(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so reports go on being written while it is
    built over every row; a plain CREATE INDEX elsewhere (SQLite, the embedded mode)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


def each_batch(model, names, work):
    """Call ``work`` with the rows of ``model`` as (pk, raw text of each of ``names``),
    BATCH_SIZE at a time in id order, each batch locked and committed on its own."""
    from intake.encryption import raw_columns

    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                model.objects.select_for_update()
                .filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", *raw_columns(names))[:BATCH_SIZE]
            )
            if not rows:
                return
            work(rows)
        last = rows[-1][0]


def in_clear(document):
    """Whether a report document (as stored) has a section of SEALED_SECTIONS in clear."""
    from intake.encryption import SEALED_SECTIONS

    return isinstance(document, Mapping) and any(
        isinstance(document.get(key), Mapping) for key in SEALED_SECTIONS
    )


def reporter_identifiers(document):
    """The identifiers only the reporter section names (no longer indexed for search)."""
    from intake.encryption import SEALED_SECTIONS
    from intake.identifiers import identifiers_in  # pure: reads a document

    sealed = {key: value for key, value in document.items() if key in SEALED_SECTIONS}
    others = {key: value for key, value in document.items() if key not in SEALED_SECTIONS}
    return set(identifiers_in(sealed)) - set(identifiers_in(others))


def identifiers_delete(ReportIdentifier, found):
    """Delete the identifiers ``found`` ({report id: {(kind, value)}}) in one statement."""
    if not found:
        return
    values = {value for pairs in found.values() for _kind, value in pairs}
    indexed = ReportIdentifier.objects.filter(report_id__in=found, value__in=values)
    ReportIdentifier.objects.filter(
        pk__in=[
            pk
            for pk, report_id, kind, value in indexed.values_list("pk", "report_id", "kind", "value")
            if (kind, value) in found[report_id]
        ]
    ).delete()


def encrypted(value):
    """``value`` (a column's raw text) encrypted, unless it is empty or already encrypted."""
    from intake.encryption import encrypt, is_token

    return encrypt(value) if value and not is_token(value) else value


def encrypt_existing_rows(apps, schema_editor):
    """Encrypt each value stored in clear, and drop the reporter's own identifiers from the
    search index (with its section still in clear, they are still indexed)."""
    from intake.encryption import raw_columns_write, sealed

    Report = apps.get_model("intake", "Report")
    ReportAddition = apps.get_model("intake", "ReportAddition")
    ReportIdentifier = apps.get_model("intake", "ReportIdentifier")
    names = [*CONTACT_COLUMNS, "document"]

    def reports(rows):
        changed, identifiers = [], {}
        for pk, *contact, raw_document in rows:
            new = [encrypted(value) for value in contact]
            document = json.loads(raw_document) if raw_document else None
            if in_clear(document):
                identifiers[pk] = reporter_identifiers(document)
                raw_document = json.dumps(sealed(document), ensure_ascii=False)
            if new != contact or pk in identifiers:
                changed.append([pk, *new, raw_document])
        raw_columns_write(Report, names, changed)
        identifiers_delete(ReportIdentifier, identifiers)

    def additions(rows):
        changed = [[pk, new] for pk, text in rows if (new := encrypted(text)) != text]
        raw_columns_write(ReportAddition, ["text"], changed)

    each_batch(Report, names, reports)
    each_batch(ReportAddition, ["text"], additions)


def decrypt_rows(apps, schema_editor):
    """Write each value back in clear, and index the reporter's identifiers again."""
    from intake.encryption import SEALED_SECTIONS, decrypt, is_token, raw_columns_write, unsealed

    Report = apps.get_model("intake", "Report")
    ReportAddition = apps.get_model("intake", "ReportAddition")
    ReportIdentifier = apps.get_model("intake", "ReportIdentifier")
    names = [*CONTACT_COLUMNS, "document"]

    def clear(value):
        return decrypt(value) if value and is_token(value) else value

    def reports(rows):
        changed, identifiers = [], []
        for pk, *contact, raw_document in rows:
            new = [clear(value) for value in contact]
            document = json.loads(raw_document) if raw_document else None
            sealed = isinstance(document, Mapping) and any(
                isinstance(document.get(key), str) and is_token(document[key])
                for key in SEALED_SECTIONS
            )
            if sealed:
                document = unsealed(document)
                raw_document = json.dumps(document, ensure_ascii=False)
                identifiers += [
                    ReportIdentifier(report_id=pk, kind=kind, value=value)
                    for kind, value in reporter_identifiers(document)
                ]
            if new != contact or sealed:
                changed.append([pk, *new, raw_document])
        raw_columns_write(Report, names, changed)
        ReportIdentifier.objects.bulk_create(identifiers)

    def additions(rows):
        changed = [[pk, new] for pk, text in rows if (new := clear(text)) != text]
        raw_columns_write(ReportAddition, ["text"], changed)

    each_batch(Report, names, reports)
    each_batch(ReportAddition, ["text"], additions)


class Migration(migrations.Migration):
    atomic = False  # each batch commits on its own; CREATE INDEX CONCURRENTLY needs it too

    dependencies = [
        ("intake", "0013_personal_data"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(
                condition=Q(personal_data_purged_at__isnull=True),
                fields=["id"],
                name="report_not_purged_idx",
            ),
        ),
        migrations.RunPython(encrypt_existing_rows, decrypt_rows),
    ]
