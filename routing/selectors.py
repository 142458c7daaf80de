"""Reads for routing."""

from django.core.exceptions import ImproperlyConfigured

from routing.models import Agency, Country, RoutingRule


def agency_for_place(*, country_code: str, us_state: str = "") -> Agency:
    """The agency whose queue receives reports resolving to ``country_code`` (and, in the
    U.S., ``us_state``): the routing table's active agency for the state, else for the
    country (in the U.S., the national queue), else the analyst review queue when the
    country is unknown or has no active agency."""
    if country_code:
        rules = {
            rule.us_state: rule.agency
            for rule in RoutingRule.objects.select_related("agency").filter(
                country_id=country_code, us_state__in={"", us_state}, agency__is_active=True
            )
        }
        agency = rules.get(us_state) or rules.get("")
        if agency is not None:
            return agency
    analyst_queue = Agency.objects.filter(code=Agency.ANALYST_QUEUE_CODE).first()
    if analyst_queue is None:
        raise ImproperlyConfigured(
            "The analyst review queue does not exist: run `python manage.py load_reference_data`."
        )
    return analyst_queue


def country_choices() -> list[tuple[str, str]]:
    return list(Country.objects.order_by("name").values_list("code", "name"))
