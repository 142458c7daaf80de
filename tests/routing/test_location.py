"""Each rule of routing/location.py, on its own."""

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from routing.anonymizers import loaded_anonymizers
from routing.location import HIGH, LOW, MEDIUM, IpSighting, locate
from routing.models import AnonymizerNetwork
from tests.factories import IP_BY_COUNTRY

pytestmark = pytest.mark.django_db  # the anonymizer list is read from the database


def where(
    document: dict[str, Any] | None = None, *ips: str, proxy: bool = False, public: bool = False
) -> Any:
    sightings = [IpSighting(ip, "ipCaptureEvent", possible_proxy=proxy) for ip in ips]
    return locate(document=document or {}, ip_sightings=sightings, from_public=public)


def estimate(country: str, **more: Any) -> dict[str, Any]:
    return {"personOrUserReported": [{"estimatedLocation": {"countryCode": country, **more}}]}


@pytest.fixture(autouse=True)
def _no_anonymizers_cached() -> Any:
    loaded_anonymizers.forget()
    yield
    loaded_anonymizers.forget()


def test_one_ip_address_is_high_confidence() -> None:
    location = where(None, IP_BY_COUNTRY["BR"])

    assert (location.country, location.confidence) == ("BR", HIGH)
    assert location.evidence[0].weight == 1.0


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "192.0.2.5",
        "198.51.100.1",
        "2001:db8::1",
        "::1",
        "169.254.1.1",
    ],
)
def test_private_reserved_loopback_and_documentation_addresses_are_ignored_with_a_note(
    address: str,
) -> None:
    location = where(None, address)

    assert (location.country, location.confidence) == ("", LOW)
    assert location.evidence[0].weight == 0
    assert "ignored" in location.evidence[0].note


def test_a_possible_proxy_weighs_a_quarter_and_alone_is_low_confidence() -> None:
    location = where(None, IP_BY_COUNTRY["DE"], proxy=True)

    assert (location.country, location.confidence) == ("DE", LOW)
    assert location.evidence[0].weight == 0.25
    assert location.evidence[0].note == "possible proxy"


def test_an_address_on_the_anonymizer_list_weighs_a_quarter(tmp_path: Path) -> None:
    listing = tmp_path / "exits.txt"
    listing.write_text(f"# exit nodes\n{IP_BY_COUNTRY['DE']}\n81.2.69.0/24\nnot-an-address\n")
    out, err = StringIO(), StringIO()

    call_command("import_anonymizers", str(listing), stdout=out, stderr=err)
    call_command("import_anonymizers", str(listing), stdout=StringIO(), stderr=StringIO())

    assert "2 added, 0 already known, 1 lines refused" in out.getvalue()
    assert "line 4: 'not-an-address' is not an IP address or network" in err.getvalue()
    assert AnonymizerNetwork.objects.count() == 2
    location = where(None, IP_BY_COUNTRY["DE"], IP_BY_COUNTRY["GB"], IP_BY_COUNTRY["BR"])
    assert [item.weight for item in location.evidence] == [0.25, 0.25, 1.0]
    assert location.evidence[1].note == "on the anonymizer list"
    assert location.country == "BR"


def test_an_estimated_location_weighs_three_quarters_or_one_when_verified() -> None:
    assert where(estimate("KE")).evidence[0].weight == 0.75
    assert where(estimate("KE")).confidence == MEDIUM
    verified = where(estimate("KE", verified=True))
    assert (verified.evidence[0].weight, verified.confidence) == (1.0, HIGH)


def test_addresses_of_every_party_and_the_incident_count() -> None:
    document = {
        "victim": [{"victimPerson": {"address": [{"city": "Lyon", "country": "FR"}]}}],
        "internetDetails": [{"nonInternetIncident": {"incidentAddress": [{"country": "FR"}]}}],
    }

    location = where(document)

    assert location.country == "FR"
    assert [item.weight for item in location.evidence] == [0.5, 0.5]
    assert location.evidence[0].source == "victim[0].victimPerson.address[0]"


def test_the_public_reporters_country_counts_only_for_public_reports() -> None:
    document = {"reporter": {"reportingPerson": {"address": [{"country": "NO"}]}}}

    assert where(document, public=True).country == "NO"
    assert where(document, public=False).country == ""


def test_most_weight_wins_and_the_others_are_candidates() -> None:
    location = where(estimate("GB"), IP_BY_COUNTRY["DE"], "5.9.0.2")

    assert (location.country, location.confidence) == ("DE", MEDIUM)
    assert location.candidates == [{"country": "GB", "weight": 0.75}]
    assert "2 of 2.75" in location.rule


def test_a_us_state_comes_from_a_us_region_or_address() -> None:
    assert where(estimate("US", region="TX")).state == "TX"
    assert where(estimate("US", region="Somewhere")).state == ""
    address = {"victim": [{"victimPerson": {"address": [{"state": "OR"}]}}]}
    assert (where(address).country, where(address).state) == ("US", "OR")


def test_the_same_input_gives_the_same_result() -> None:
    document = estimate("GB")
    first = where(document, IP_BY_COUNTRY["DE"])

    assert all(where(document, IP_BY_COUNTRY["DE"]) == first for _ in range(5))
    assert first.country == "DE"  # a tie goes to the first seen: the IP comes first


def test_a_configured_maxmind_database_gives_ip_addresses_their_region(
    tmp_path: Path, settings: Any
) -> None:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", ipv4_compatible=True)
    writer.insert_network(
        IPSet([f"{IP_BY_COUNTRY['US']}/32"]),
        {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "TX"}]},
    )
    writer.insert_network(
        IPSet([f"{IP_BY_COUNTRY['DE']}/32"]),
        {"country": {"iso_code": "DE"}, "subdivisions": [{"iso_code": "BY"}]},
    )
    database = tmp_path / "city.mmdb"
    writer.to_db_file(str(database))

    assert where(None, IP_BY_COUNTRY["US"]).state == ""
    settings.MAXMIND_CITY_DB = str(database)
    us, germany = where(None, IP_BY_COUNTRY["US"]), where(None, IP_BY_COUNTRY["DE"])

    assert (us.country, us.state, us.evidence[0].region) == ("US", "TX", "TX")
    assert (germany.country, germany.state, germany.evidence[0].region) == ("DE", "", "BY")
