"""Field rules shared by the public form and the API."""

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone


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
