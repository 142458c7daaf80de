"""The hard promise: the bytes of an image or video never reach the database or the disk."""

import base64
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.test import Client

from intake.models import Report, ReportedFile
from intake.services import ProviderCredentials
from tests.intake.test_ispws import Ispws, answer, submit

pytestmark = pytest.mark.django_db

PAYLOAD_SIZE = 3 * 1024 * 1024  # well past Django's in-memory threshold for uploads


def test_no_column_of_any_model_can_hold_a_file_or_bytes() -> None:
    byte_fields = (models.BinaryField, models.FileField)
    offenders = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, byte_fields)
    ]

    assert offenders == []


def snapshot(directory: str) -> set[str]:
    return {str(path) for path in Path(directory).rglob("*")} if os.path.isdir(directory) else set()


def every_row_as_text() -> str:
    """Everything in every table of the project's models, as text."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (table names from the models)
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_an_uploaded_file_is_hashed_in_transit_and_leaves_no_trace(
    client: Client, provider: ProviderCredentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ispws = Ispws(client, provider.username, provider.password)
    report_id = submit(ispws)
    # A synthetic "video": an MP4 header, then random bytes no one could guess.
    payload = b"\x00\x00\x00\x18ftypmp42" + secrets.token_bytes(PAYLOAD_SIZE)
    upload_dir = tmp_path / "uploads"
    upload_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(upload_dir))
    temp_dirs = [str(upload_dir), tempfile.gettempdir(), "/tmp"]  # noqa: S108
    before = {directory: snapshot(directory) for directory in temp_dirs}

    def no_temporary_files(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a temporary file was opened for an upload")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_temporary_files)
    monkeypatch.setattr(tempfile, "mkstemp", no_temporary_files)

    reply = answer(
        ispws.post_form(
            "upload", {"id": str(report_id), "file": SimpleUploadedFile("v.mp4", payload)}
        )
    )

    assert reply["responseCode"] == "0"
    file = ReportedFile.objects.get(file_id=reply["fileId"])
    assert (file.size_bytes, file.media_type, file.mime_type) == (
        len(payload),
        "video",
        "video/mp4",
    )
    for directory in temp_dirs:
        assert snapshot(directory) == before[directory], f"new files in {directory}"
    stored = every_row_as_text()
    for start in (100, len(payload) // 2, len(payload) - 64):
        window = payload[start : start + 48]
        assert window.hex() not in stored
        assert base64.b64encode(window).decode()[:40] not in stored
        assert window.decode("latin-1") not in stored


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    ispws = Ispws(client, provider.username, provider.password)
    report_id = submit(ispws)

    response = ispws.post_form(
        "upload", {"id": str(report_id), "file": SimpleUploadedFile("big.jpg", b"x" * 4096)}
    )

    assert response.status_code == 413
    assert answer(response)["responseCode"] == "4000"
    assert not ReportedFile.objects.exists()


def test_the_public_form_refuses_a_file_and_keeps_nothing(
    client: Client, reference_data: None
) -> None:
    response = client.post(
        "/report/",
        {
            "what_happened": "travel",
            "incident_date": "2026-01-01",
            "photo": SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + secrets.token_bytes(1024)),
        },
    )

    assert response.status_code == 400
    assert "Files cannot be sent here, and none were kept." in response.content.decode()
    assert not ReportedFile.objects.exists()
    assert not Report.objects.exists()
