from collections import Counter
from io import StringIO

import pycountry
import pytest
from django.core.management import call_command

from routing.models import Agency, Channel, Country, RoutingRule

pytestmark = pytest.mark.django_db


def test_every_iso_country_has_a_simulated_agency_on_a_channel(reference_data: None) -> None:
    iso_codes = {country.alpha_2 for country in pycountry.countries}

    assert set(Country.objects.values_list("code", flat=True)) == iso_codes
    rules = RoutingRule.objects.select_related("agency").filter(us_state="")
    assert {rule.country_id for rule in rules} == iso_codes
    assert all(rule.agency.country_id == rule.country_id for rule in rules)
    channels = Counter(rule.agency.channel for rule in rules)
    # The CMT's figures: 71 police forces with direct access, 61 countries via an attaché.
    assert channels[Channel.DIRECT] == 71
    assert channels[Channel.ATTACHE] == 61
    assert channels[Channel.INTERPOL] > 0
    assert RoutingRule.objects.get(country="US", us_state="").agency.channel == Channel.DOMESTIC
    analyst_queue = Agency.objects.get(code=Agency.ANALYST_QUEUE_CODE)
    assert (analyst_queue.channel, analyst_queue.country) == (Channel.ANALYST, None)


def test_loading_reference_data_again_changes_nothing_and_keeps_edits(
    reference_data: None,
) -> None:
    rule = RoutingRule.objects.get(country="FR", us_state="")
    rule.agency = Agency.objects.get(code="direct-ch")
    rule.save(update_fields=["agency"])
    before = (Country.objects.count(), Agency.objects.count(), RoutingRule.objects.count())

    out = StringIO()
    call_command("load_reference_data", stdout=out)

    assert "0 agencies and 0 routing rules created" in out.getvalue()
    assert (Country.objects.count(), Agency.objects.count(), RoutingRule.objects.count()) == before
    assert RoutingRule.objects.get(country="FR", us_state="").agency.code == "direct-ch"
