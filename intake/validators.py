"""Field rules shared by the public form, the JSON API and the XML interface."""

import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.identifiers import KINDS as IDENTIFIER_ELEMENTS


def validate_not_in_future(value: datetime) -> None:
    if value > timezone.now():
        raise ValidationError("This date and time cannot be in the future.", code="future")


DATA_URI = re.compile(r"data:[\w.+-]*/[\w.+-]*[^,]{0,100};base64,", re.IGNORECASE)
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{1024,}={0,2}")


def validate_no_media(value: str) -> None:
    """Refuse text that carries a file: a data: URI or a long base64 run. Reports carry
    hashes and descriptions of media, never the media itself."""
    if DATA_URI.search(value):
        raise ValidationError(
            "A data: URI carries a file. Send the file's hashes, never the file itself.",
            code="media_not_accepted",
        )
    if BASE64_RUN.search(value):
        raise ValidationError(
            "This looks like base64-encoded content. Send the file's hashes, never the file.",
            code="media_not_accepted",
        )


# What XML 1.0 does not allow in text: the C0 controls but tab, line feed and carriage
# return, lone surrogates, U+FFFE and U+FFFF. Every report is a CyberTipline document, read
# and written as XML, and PostgreSQL text cannot hold U+0000 at all: so text holding any of
# them is refused at every interface, never stored and never silently cleaned.
NOT_XML_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def forbidden_character(value: str) -> str | None:
    """The first character of ``value`` that XML 1.0 does not allow, as ``U+XXXX``."""
    match = NOT_XML_CHARACTER.search(value)
    return None if match is None else f"U+{ord(match.group()):04X}"


def validate_xml_characters(value: str) -> None:
    character = forbidden_character(value)
    if character:
        raise ValidationError(
            f"The character {character} is not allowed: text may hold only the characters "
            "XML 1.0 allows (no control characters but tab and line breaks).",
            code="forbidden_character",
        )


# A file name is shown to staff and agencies and exported with the report, and a reader
# may save the file under it: so it must be one name, never a path. Refused are "/" and
# "\\" anywhere, a drive ("C:"), the names "." and "..", and characters that are invisible or
# turn the text around them (controls and bidirectional overrides: "\u202egpj.exe" reads as
# "exe.jpg"). We never write a file under any name: there are no files.
DRIVE = re.compile(r"[A-Za-z]:")
BIDIRECTIONAL_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def validate_file_name(value: str) -> None:
    if "/" in value or "\\" in value or DRIVE.match(value) or value.strip() in {".", ".."}:
        raise ValidationError(
            'A file name is one name, not a path: leave out folders, drive letters, "/" and "\\".',
            code="file_name_is_path",
        )
    if any(unicodedata.category(c) == "Cc" or c in BIDIRECTIONAL_CONTROLS for c in value):
        raise ValidationError(
            "A file name cannot hold control characters (line breaks included) or "
            "characters that change the direction of the text.",
            code="file_name_control_character",
        )


# Per report, all parties and files together: each IP capture event and each identifier
# (screen name, email address, phone number, web address) becomes a row of its own, so a
# report of a few megabytes could otherwise write millions of them in one transaction.


def element_counts(
    document: Any, names: Mapping[str, object], path: str = ""
) -> Iterator[tuple[str, int]]:
    """(dotted path, how many) for each occurrence of an element in ``names``, in order."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            child = f"{path}.{key}" if path else str(key)
            if key in names:
                yield child, len(value) if isinstance(value, list) else 1
            else:
                yield from element_counts(value, names, child)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from element_counts(item, names, f"{path}.{index}")


def validate_report_size(document: Mapping[str, Any]) -> None:
    """Refuse a report with more IP capture events or identifiers than the settings allow,
    naming the element where the count passes the limit."""
    limits = (
        ("IP capture events", {"ipCaptureEvent": None}, settings.REPORT_MAX_IP_CAPTURE_EVENTS),
        (
            "identifiers (screen names, email addresses, phone numbers and web addresses)",
            IDENTIFIER_ELEMENTS,
            settings.REPORT_MAX_IDENTIFIERS,
        ),
    )
    errors: dict[str, ValidationError] = {}
    for what, names, limit in limits:
        total, passed_at = 0, ""
        for path, count in element_counts(document, names):
            total += count
            if total > limit and not passed_at:
                passed_at = path
        if passed_at:
            errors[passed_at] = ValidationError(
                f"A report may carry at most {limit} {what} in all; this one carries {total}.",
                code="too_many",
            )
    if errors:
        raise ValidationError(errors)
