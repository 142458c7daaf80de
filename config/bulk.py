"""Writing many rows at once."""

import re
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

BATCH_SIZE = 1_000
SIZED_VARCHAR = re.compile(r"^varchar\(\d+\)$")


def bulk_update_rows(objects: Sequence[Model], fields: Sequence[str]) -> None:
    """Save ``fields`` of each of ``objects`` (all of one model), as Django's bulk_update
    does, in one ``UPDATE ... FROM (VALUES ...)`` a thousand rows on PostgreSQL.

    Django's bulk_update writes a ``CASE WHEN pk = ... THEN ...`` per row and field, and
    building those expressions costs about a millisecond of Python a row, more than the
    rest of routing a report. Elsewhere (SQLite, the embedded mode) it is used as it is.
    """
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    columns: list[Field[Any, Any]] = [
        field for field in meta.concrete_fields if field.primary_key or field.name in fields
    ]
    if len(columns) != len(set(fields)) + 1:
        raise ValueError(f"Not all of {fields} are columns of {meta.label}.")
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objects, fields, batch_size=BATCH_SIZE)
        return
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    key = quote(str(meta.pk.column))
    names = ", ".join(quote(str(field.column)) for field in columns)
    # The first row's values are cast to the columns' types; the others follow them.
    # Cast to the column's type without a length (varchar(2) would cut a longer value
    # short, where an UPDATE refuses it).
    first_row = ", ".join(
        f"CAST(%s AS {SIZED_VARCHAR.sub('varchar', str(field.db_type(connection)))})"
        for field in columns
    )
    other_row = ", ".join(["%s"] * len(columns))
    assignments = ", ".join(
        f"{quote(str(field.column))} = new.{quote(str(field.column))}"
        for field in columns
        if not field.primary_key
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objects), BATCH_SIZE):
            batch = objects[start : start + BATCH_SIZE]
            rows = ", ".join([f"({first_row})"] + [f"({other_row})"] * (len(batch) - 1))
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection)
                for obj in batch
                for field in columns
            ]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {rows}) AS new ({names}) "  # noqa: S608 (names from the model, values as parameters)
                f"WHERE {table}.{key} = new.{key}",
                params,
            )
