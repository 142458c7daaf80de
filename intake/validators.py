"""Field rules shared by the public form and the API."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone


def validate_not_in_future(value: datetime) -> None:
    if value > timezone.now():
        raise ValidationError("The incident date and time cannot be in the future.", code="future")


def validate_country_code(value: str) -> None:
    from routing.models import Country

    if not Country.objects.filter(pk=value.upper()).exists():
        raise ValidationError(
            f"{value!r} is not an ISO 3166-1 alpha-2 country code.", code="invalid_country"
        )
