"""Reads for routing."""

import gettext
from dataclasses import dataclass
from functools import cache

import pycountry
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from config.reloading import Reloading
from routing.models import Agency, Country, RoutingRule

# Edits to the routing table reach the process that made them at once (see the signals in
# routing/apps.py) and every other worker within this many seconds.
ROUTING_TABLE_SECONDS = 30


@dataclass(frozen=True)
class RoutingTable:
    """(country, U.S. state or "") -> the active agency there; and the analyst queue."""

    agencies: dict[tuple[str, str], Agency]
    analyst_queue: Agency | None


def routing_table_from_database() -> RoutingTable:
    rules = RoutingRule.objects.select_related("agency").filter(agency__is_active=True)
    return RoutingTable(
        agencies={(rule.country_id, rule.us_state): rule.agency for rule in rules},
        analyst_queue=Agency.objects.filter(code=Agency.ANALYST_QUEUE_CODE).first(),
    )


loaded_routing_table = Reloading(routing_table_from_database, seconds=ROUTING_TABLE_SECONDS)


def agency_for_place(*, country_code: str, us_state: str = "") -> Agency:
    """The agency whose queue receives reports resolving to ``country_code`` (and, in the
    U.S., ``us_state``): the routing table's active agency for the state, else for the
    country (in the U.S., the national queue), else the analyst review queue when the
    country is unknown or has no active agency."""
    table = loaded_routing_table.get()
    if country_code:
        agency = table.agencies.get((country_code, us_state)) if us_state else None
        agency = agency or table.agencies.get((country_code, ""))
        if agency is not None:
            return agency
    if table.analyst_queue is None:
        loaded_routing_table.forget()
        raise ImproperlyConfigured(
            "The analyst review queue does not exist: run `python manage.py load_reference_data`."
        )
    return table.analyst_queue


def country_choices() -> list[tuple[str, str]]:
    """Every country, named in the current language (ISO 3166 names, translated by
    pycountry's catalogues) and ordered by that name."""
    names = country_names(translation.get_language() or "en")
    rows = Country.objects.values_list("code", "name")
    choices = [(code, names.get(code, name)) for code, name in rows]
    return sorted(choices, key=lambda choice: choice[1].casefold())


@cache
def country_names(language: str) -> dict[str, str]:
    """ISO 3166 country names in ``language``, by code (English where it has none)."""
    catalogue = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language, "en"], fallback=True
    )
    return {
        country.alpha_2: catalogue.gettext(getattr(country, "common_name", None) or country.name)
        for country in pycountry.countries
    }
