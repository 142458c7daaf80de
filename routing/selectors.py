"""Reads for routing."""

from django.core.exceptions import ImproperlyConfigured

from routing.models import Agency, Country, RoutingRule


def agency_for_country(*, country_code: str) -> Agency:
    """The agency whose queue receives reports resolving to ``country_code``: the
    routing table's active agency for that country, or the analyst review queue when
    the country is unknown or has no active agency."""
    if country_code:
        rule = (
            RoutingRule.objects.select_related("agency")
            .filter(country_id=country_code, us_state="", agency__is_active=True)
            .first()
        )
        if rule is not None:
            return rule.agency
    analyst_queue = Agency.objects.filter(code=Agency.ANALYST_QUEUE_CODE).first()
    if analyst_queue is None:
        raise ImproperlyConfigured(
            "The analyst review queue does not exist: run `python manage.py load_reference_data`."
        )
    return analyst_queue


def country_choices() -> list[tuple[str, str]]:
    return list(Country.objects.order_by("name").values_list("code", "name"))
