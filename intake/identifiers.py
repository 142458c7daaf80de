"""The identifiers a report document names (screen names, emails, phones, web
addresses), wherever they stand in it, for search."""

from collections.abc import Iterator, Mapping
from typing import Any

from intake.models import Report, ReportIdentifier

KINDS = {
    "screenName": ReportIdentifier.Kind.SCREEN_NAME,
    "email": ReportIdentifier.Kind.EMAIL,
    "emailAddress": ReportIdentifier.Kind.EMAIL,
    "phone": ReportIdentifier.Kind.PHONE,
    "phoneNumber": ReportIdentifier.Kind.PHONE,
    "url": ReportIdentifier.Kind.URL,
    "profileUrl": ReportIdentifier.Kind.URL,
}


# Values are indexed by their first characters: enough to tell identifiers apart, and
# within what a PostgreSQL index entry can hold whatever the alphabet.
KEY_LENGTH = 500


def identifier_key(text: str) -> str:
    """How an identifier is kept and looked up: trimmed, lowercased, cut to KEY_LENGTH."""
    return text.strip().lower()[:KEY_LENGTH]


def identifiers_in(document: Any) -> Iterator[tuple[str, str]]:
    """(kind, lowercased value) for each identifier anywhere in ``document``."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            kind = KINDS.get(key)
            if kind is None:
                yield from identifiers_in(value)
                continue
            for item in value if isinstance(value, list) else [value]:
                text = item.get("value") if isinstance(item, Mapping) else item
                if isinstance(text, str) and text.strip():
                    yield kind, identifier_key(text)
    elif isinstance(document, list):
        for item in document:
            yield from identifiers_in(item)


def report_identifiers(report: Report) -> list[ReportIdentifier]:
    """The report's identifiers, each once, ready to be saved."""
    unique = dict.fromkeys(identifiers_in(report.document))
    return [ReportIdentifier(report=report, kind=kind, value=value) for kind, value in unique]
