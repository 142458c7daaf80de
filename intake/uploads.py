"""Files pass through, never stay: the bytes of an upload are hashed as they stream in
and dropped. Nothing is written to disk or kept in memory beyond one chunk."""

import hashlib
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

SNIFF_BYTES = 262  # what filetype needs to recognise every format it knows


@dataclass(frozen=True)
class UploadDigest:
    """What is kept of an uploaded file: its name, size, digests and sniffed type."""

    field_name: str
    file_name: str
    size: int
    md5: str
    sha1: str
    sha256: str
    mime_type: str

    @property
    def media_type(self) -> str:
        family = self.mime_type.split("/", 1)[0]
        return family if family in {"image", "video"} else "other"


class UploadTooLarge(Exception):
    """Raised out of the multipart parser, so the view answers 413 instead of seeing a
    request with the file silently missing."""


class HashingUploadHandler(FileUploadHandler):
    """The only upload handler: every file field becomes an ``UploadDigest``."""

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.digests = (
            hashlib.md5(usedforsecurity=False),
            hashlib.sha1(usedforsecurity=False),
            hashlib.sha256(),
        )
        self.size = 0
        self.head = b""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > settings.UPLOAD_MAX_BYTES:
            raise UploadTooLarge
        if len(self.head) < SNIFF_BYTES:
            self.head += raw_data[: SNIFF_BYTES - len(self.head)]
        for digest in self.digests:
            digest.update(raw_data)
        # Returning None stops the chunk here: no later handler ever sees the bytes.

    def file_complete(self, file_size: int) -> UploadDigest:  # type: ignore[override]
        kind = filetype.guess(self.head)
        md5, sha1, sha256 = (digest.hexdigest() for digest in self.digests)
        return UploadDigest(
            field_name=self.field_name,
            file_name=self.file_name or "",
            size=self.size,
            md5=md5,
            sha1=sha1,
            sha256=sha256,
            mime_type=kind.mime if kind else "application/octet-stream",
        )
