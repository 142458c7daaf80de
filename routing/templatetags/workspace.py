"""Template filters for the agency workspace."""

from django import template
from django.utils import translation

from routing.selectors import country_names

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """An ISO 3166 country code's name in the current language ("-" for none)."""
    if not code:
        return "-"
    return country_names(translation.get_language() or "en").get(code, code)
