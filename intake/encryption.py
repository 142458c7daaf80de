"""Encryption at rest of the reporter's personal data: Fernet (AES-128-CBC with
HMAC-SHA256) under the keys of FIELD_ENCRYPTION_KEYS. The first key encrypts; every key
decrypts, so a key is rotated by putting a new one first, re-encrypting what the old one
encrypted (`manage.py rotate_encryption_key`, encryption_rotate below) and then dropping
the old one.

The model fields here encrypt on the way into the database and decrypt on the way out:
code using the ORM reads and writes plain values, the database holds only ciphertext."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import lookups
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast

# The sections of a report document that hold who reported it and how to reach them.
SEALED_SECTIONS = ("reporter",)


class UndecryptableValue(Exception):
    """A stored value that no key of FIELD_ENCRYPTION_KEYS decrypts."""


@dataclass(frozen=True)
class Keys:
    encrypting: Fernet
    decrypting: MultiFernet  # under any configured key


@lru_cache(maxsize=8)
def _keys(configured: tuple[str, ...]) -> Keys:
    fernets = [Fernet(key) for key in configured]
    return Keys(encrypting=fernets[0], decrypting=MultiFernet(fernets))


def current_keys() -> Keys:
    configured = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not configured:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: reporters' contact details cannot be encrypted."
        )
    return _keys(configured)


def encrypt(text: str) -> str:
    """``text`` encrypted under the first key, as ASCII."""
    return current_keys().encrypting.encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text ``token`` holds, under whichever configured key encrypted it."""
    try:
        return current_keys().decrypting.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise UndecryptableValue(
            "A stored value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS. It was "
            "encrypted under a key that is no longer listed (list that key again, after the "
            "current one, and run `manage.py rotate_encryption_key`), or it is not an "
            "encrypted value."
        ) from None


# A Fernet token: a version byte, an 8-byte timestamp, a 16-byte IV, the ciphertext (whole
# AES blocks, at least one) and a 32-byte HMAC, in URL-safe base64.
FERNET_VERSION = 0x80
FERNET_OVERHEAD = 1 + 8 + 16 + 32
TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+=*")


def is_token(value: str) -> bool:
    """Whether ``value`` is shaped like a Fernet token, under whichever key, even one no
    longer configured. Nothing a person writes is: it is a hundred or more characters of
    base64 whose first byte is Fernet's version. Used to tell an encrypted value from one
    written in clear, so that nothing is encrypted twice."""
    if len(value) < 100 or not TOKEN_ALPHABET.fullmatch(value):
        return False
    try:
        data = base64.urlsafe_b64decode(value)
    except (ValueError, binascii.Error):
        return False
    ciphertext = len(data) - FERNET_OVERHEAD
    return data[0] == FERNET_VERSION and ciphertext >= 16 and ciphertext % 16 == 0


def under_encrypting_key(token: str) -> bool:
    """Whether ``token`` was encrypted under the first (current) key."""
    try:
        current_keys().encrypting.decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


# Report documents ------------------------------------------------------------------------


def sealed(document: Any) -> Any:
    """``document`` with each of SEALED_SECTIONS replaced by the encryption of its JSON."""
    if not isinstance(document, Mapping):
        return document
    return {
        key: (
            encrypt(json.dumps(value, ensure_ascii=False))
            if key in SEALED_SECTIONS and isinstance(value, Mapping)
            else value
        )
        for key, value in document.items()
    }


def unsealed(document: Any) -> Any:
    """``document`` with each sealed section decrypted back into its JSON."""
    if not isinstance(document, Mapping):
        return document
    return {
        key: (
            json.loads(decrypt(value))
            if key in SEALED_SECTIONS and isinstance(value, str)
            else value
        )
        for key, value in document.items()
    }


# Fields ----------------------------------------------------------------------------------


class EmptyOnlyExact(lookups.Exact):
    """``field=""``: whether an encrypted value is empty, the one question ciphertext
    answers (each encryption of the same text differs)."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise ValueError(
                "An encrypted field can be compared only with an empty string, never "
                "searched for a value."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database and plain everywhere else. An empty value is
    kept empty, so whether one was given can still be queried (``=""``, ``isnull``);
    every other lookup is refused."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return EmptyOnlyExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class ReportDocumentField(models.JSONField):
    """A report document whose reporter section (SEALED_SECTIONS) is kept encrypted: in the
    database that section is the encryption of its JSON; the ORM gives the document whole."""

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(sealed(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if isinstance(expression, KeyTransform):
            return value  # a part of the document, not the document
        return unsealed(value)


# Stored values -----------------------------------------------------------------------------


def raw_columns(names: Sequence[str]) -> list[Cast]:
    """Each column of ``names`` as the database holds it (ciphertext, a document with its
    sections sealed), read past the fields' decryption."""
    return [Cast(name, output_field=models.TextField()) for name in names]


def raw_columns_write(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Write each of ``rows`` (its pk, then a value for each of ``names``) as it is: text
    already as the database keeps it (see raw_columns), past the fields' encryption. A
    document is given as its JSON text."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = {field.name: field for field in meta.concrete_fields}
    placeholders = []
    for name in names:
        field = columns[name]
        json_column = isinstance(field, models.JSONField) and connection.vendor == "postgresql"
        placeholders.append(
            f"{quote(str(field.column))} = {'CAST(%s AS jsonb)' if json_column else '%s'}"
        )
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(placeholders)} "  # noqa: S608 (names from the model, values as parameters)
        f"WHERE {quote(str(meta.pk.column))} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*values, pk) for pk, *values in rows])


# Rotation --------------------------------------------------------------------------------

ENCRYPTED_FIELDS = (EncryptedTextField, ReportDocumentField)
ROTATION_BATCH_SIZE = 500


@dataclass
class RotationCount:
    rows: int = 0
    reencrypted: int = 0  # values that were under an older key, or found in clear
    current: int = 0  # values already under the first key
    # Values no configured key decrypts, each as "<model> <pk>: <field>"; left as they are.
    unreadable: list[str] = dataclass_field(default_factory=list)

    @property
    def stale(self) -> int:
        """Values not under the first key: to re-encrypt, or unreadable."""
        return self.reencrypted + len(self.unreadable)


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[models.Field[Any, Any]]]]:
    """Each model with encrypted fields, with those fields."""
    for model in apps.get_models():
        fields: list[models.Field[Any, Any]] = [
            field for field in model._meta.concrete_fields if isinstance(field, ENCRYPTED_FIELDS)
        ]
        if fields:
            yield model, fields


def under_first_key(value: str) -> str:
    """``value`` as the first key stores it: a token under another configured key
    re-encrypted, text found in clear encrypted, a token under the first key as it is.
    Raises UndecryptableValue for a token no configured key decrypts."""
    if not is_token(value):
        return encrypt(value)
    if under_encrypting_key(value):
        return value
    return encrypt(decrypt(value))


def stored_rotated(
    field: models.Field[Any, Any], raw: str | None, count: RotationCount, where: str
) -> str | None:
    """The raw text of one column, each value in it under the first key (see
    under_first_key); counted in ``count``. A value no key decrypts is kept as it is and
    listed, with ``where`` it is, in ``count.unreadable``."""
    if not raw:
        return raw
    if isinstance(field, ReportDocumentField):
        document = json.loads(raw)
        if not isinstance(document, dict):
            return raw
        changed = False
        for key in SEALED_SECTIONS:
            value = document.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or not is_token(value):
                # A section written in clear, past the field (as a bulk load with SQL would).
                value = json.dumps(value, ensure_ascii=False)
            new = value_rotated(value, count, f"{where}: {field.name}.{key}")
            if new != document[key]:
                document[key] = new
                changed = True
        return json.dumps(document, ensure_ascii=False) if changed else raw
    return value_rotated(raw, count, f"{where}: {field.name}")


def value_rotated(value: str, count: RotationCount, where: str) -> str:
    try:
        new = under_first_key(value)
    except UndecryptableValue:
        count.unreadable.append(where)
        return value
    if new == value:
        count.current += 1
    else:
        count.reencrypted += 1
    return new


def encryption_rotate(
    *, batch_size: int = ROTATION_BATCH_SIZE, check: bool = False
) -> dict[str, RotationCount]:
    """Re-encrypt under the first key of FIELD_ENCRYPTION_KEYS every encrypted value that
    is under another one, and encrypt any value found in clear, a batch of rows at a time,
    each locked while it is rewritten. Values already under the first key are left alone,
    so running it again changes nothing. A value no configured key decrypts is left as it
    is and listed in its model's count (``unreadable``); the rest go on. ``check``: only
    count, changing nothing. Returns the counts per model."""
    if batch_size < 1:
        raise ValueError("A batch holds at least one row.")
    counts: dict[str, RotationCount] = {}
    for model, fields in encrypted_fields():
        count = counts[model._meta.label] = RotationCount()
        names = [field.name for field in fields]
        last_pk: Any = None
        while True:
            with transaction.atomic():
                rows = model._base_manager.order_by("pk")
                if not check:
                    rows = rows.select_for_update()
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.values_list("pk", *raw_columns(names))[:batch_size])
                if not batch:
                    break
                last_pk = batch[-1][0]
                changed: list[list[Any]] = []
                for pk, *raws in batch:
                    count.rows += 1
                    where = f"{model._meta.label} {pk}"
                    new = [
                        stored_rotated(field, raw, count, where)
                        for field, raw in zip(fields, raws, strict=True)
                    ]
                    if new != raws:
                        changed.append([pk, *new])
                if not check:
                    raw_columns_write(model, names, changed)
    return counts
