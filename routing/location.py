"""Where a report resolves, and why. Every rule is in this file.

Evidence comes from every source a report has, each with a weight:

| source                                                            | weight |
| ----------------------------------------------------------------- | ------ |
| an IP capture event, looked up offline (iptocc: the RIRs' files)  | 1.0    |
| the same, flagged possibleProxy or on the anonymizer list         | 0.25   |
| an estimatedLocation the provider marks verified                  | 1.0    |
| an estimatedLocation (reported person, victim, recipient)         | 0.75   |
| an address (of the reported person, victim, recipient, incident)  | 0.5    |
| the country a member of the public says they are in               | 0.5    |

Private, reserved, loopback and documentation addresses carry no weight, with a note.
When a MaxMind City database is configured (MAXMIND_CITY_DB), each IP address also gets
its region from it; in the U.S. that is the state.
The country with the most weight wins (a tie goes to the one seen first). Confidence is
high when it holds at least 80% of all weight and at least 1.0 of its own, medium when it
holds at least 60% and at least 0.5 of its own, low otherwise (so anonymized IP evidence
alone is never more than low). No evidence at all: unknown, low. The U.S. state comes
from a U.S. estimatedLocation's region or a U.S. address's state.
"""

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import maxminddb
from django.conf import settings
from iptocc import country_code

from routing.anonymizers import is_anonymizer
from routing.countries import ISO_COUNTRY_CODES, US_STATE_NAMES

WEIGHT_IP = 1.0
WEIGHT_IP_ANONYMIZED = 0.25
WEIGHT_ESTIMATE_VERIFIED = 1.0
WEIGHT_ESTIMATE = 0.75
WEIGHT_ADDRESS = 0.5
WEIGHT_REPORTER_COUNTRY = 0.5
HIGH_SHARE, HIGH_WEIGHT, MEDIUM_SHARE, MEDIUM_WEIGHT = 0.8, 1.0, 0.6, 0.5
HIGH, MEDIUM, LOW = "high", "medium", "low"
US_STATES = frozenset(US_STATE_NAMES)


@dataclass(frozen=True)
class Evidence:
    source: str  # where in the report, e.g. "personOrUserReported[0].ipCaptureEvent"
    value: str  # what it said, e.g. "81.2.69.160"
    country: str  # "" when it points nowhere
    weight: float
    note: str = ""
    state: str = ""
    region: str = ""


@dataclass(frozen=True)
class Location:
    country: str  # ISO 3166-1 alpha-2, or "" for unknown
    confidence: str
    state: str
    candidates: list[dict[str, Any]]  # the other countries with weight, most first
    rule: str
    evidence: list[Evidence] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IpSighting:
    ip_address: str
    source: str
    possible_proxy: bool | None = None


@lru_cache(maxsize=1)
def city_database(path: str) -> maxminddb.Reader | None:
    return maxminddb.open_database(path) if path else None


def region_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The address's first subdivision (ISO 3166-2 suffix) in the MaxMind City database,
    when one is configured."""
    database = city_database(settings.MAXMIND_CITY_DB)
    record = database.get(str(address)) if database else None
    subdivisions = record.get("subdivisions") if isinstance(record, dict) else None
    first = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
    return str(first.get("iso_code", "")) if isinstance(first, dict) else ""


def ip_evidence(sighting: IpSighting) -> Evidence:
    try:
        address = ipaddress.ip_address(sighting.ip_address)
    except ValueError:
        return Evidence(sighting.source, sighting.ip_address, "", 0, "not an IP address")
    if not address.is_global:
        return Evidence(
            sighting.source,
            sighting.ip_address,
            "",
            0,
            "private, reserved or documentation range: ignored",
        )
    country = country_code(str(address)) or ""
    if not country:
        return Evidence(sighting.source, sighting.ip_address, "", 0, "not delegated to any country")
    region = region_of(address)
    state = region if country == "US" and region in US_STATES else ""
    if sighting.possible_proxy:
        weight, note = WEIGHT_IP_ANONYMIZED, "possible proxy"
    elif is_anonymizer(address):
        weight, note = WEIGHT_IP_ANONYMIZED, "on the anonymizer list"
    else:
        weight, note = WEIGHT_IP, ""
    return Evidence(sighting.source, sighting.ip_address, country, weight, note, state, region)


def estimate_evidence(source: str, estimate: Mapping[str, Any]) -> Evidence:
    country = str(estimate.get("countryCode", ""))
    region = str(estimate.get("region", "")).upper()
    verified = bool(estimate.get("verified"))
    return Evidence(
        source,
        ", ".join(
            str(estimate[key]) for key in ("city", "region", "countryCode") if estimate.get(key)
        ),
        country if country in ISO_COUNTRY_CODES else "",
        WEIGHT_ESTIMATE_VERIFIED if verified else WEIGHT_ESTIMATE,
        "verified by the provider" if verified else "",
        region if country == "US" and region in US_STATES else "",
    )


def address_evidence(source: str, address: Mapping[str, Any], weight: float) -> Evidence:
    country = str(address.get("country", ""))
    state = str(address.get("state", ""))
    if not country and state:
        country = "US"  # a U.S. state without a country
    return Evidence(
        source,
        ", ".join(
            str(address[key])
            for key in ("city", "state", "nonUsaState", "country")
            if address.get(key)
        ),
        country if country in ISO_COUNTRY_CODES else "",
        weight,
        "",
        state if country == "US" and state in US_STATES else "",
    )


PARTIES = (
    ("personOrUserReported", "personOrUserReportedPerson"),
    ("victim", "victimPerson"),
    ("intendedRecipient", "intendedRecipientPerson"),
)


def document_evidence(document: Mapping[str, Any], *, from_public: bool) -> Iterable[Evidence]:
    """Every statement of place in a report document (IP addresses come from its rows)."""
    for section, person_key in PARTIES:
        for index, party in enumerate(document.get(section, [])):
            if party.get("estimatedLocation"):
                yield estimate_evidence(
                    f"{section}[{index}].estimatedLocation", party["estimatedLocation"]
                )
            for number, address in enumerate(party.get(person_key, {}).get("address", [])):
                yield address_evidence(
                    f"{section}[{index}].{person_key}.address[{number}]", address, WEIGHT_ADDRESS
                )
    for index, details in enumerate(document.get("internetDetails", [])):
        for number, address in enumerate(
            details.get("nonInternetIncident", {}).get("incidentAddress", [])
        ):
            source = f"internetDetails[{index}].nonInternetIncident.incidentAddress[{number}]"
            yield address_evidence(source, address, WEIGHT_ADDRESS)
    if from_public:
        reporter = document.get("reporter", {}).get("reportingPerson", {})
        for number, address in enumerate(reporter.get("address", [])):
            source = f"reporter.reportingPerson.address[{number}] (where the reporter is)"
            yield address_evidence(source, address, WEIGHT_REPORTER_COUNTRY)


def decide(evidence: list[Evidence]) -> Location:
    """The rule: most weight wins; confidence from its share of all weight."""
    totals: dict[str, float] = {}
    for item in evidence:
        if item.country and item.weight:
            totals[item.country] = totals.get(item.country, 0) + item.weight
    if not totals:
        return Location("", LOW, "", [], "no evidence of a country: unknown", evidence)
    ranked = sorted(totals.items(), key=lambda pair: -pair[1])  # stable: ties keep first seen
    country, weight = ranked[0]
    share = weight / sum(totals.values())
    if share >= HIGH_SHARE and weight >= HIGH_WEIGHT:
        confidence = HIGH
    elif share >= MEDIUM_SHARE and weight >= MEDIUM_WEIGHT:
        confidence = MEDIUM
    else:
        confidence = LOW
    states = [item.state for item in evidence if item.country == country and item.state]
    rule = f"most weight: {weight:g} of {sum(totals.values()):g} ({share:.0%}) points to {country}"
    candidates = [{"country": code, "weight": round(total, 2)} for code, total in ranked[1:]]
    return Location(country, confidence, states[0] if states else "", candidates, rule, evidence)


def locate(
    *, document: Mapping[str, Any], ip_sightings: Iterable[IpSighting], from_public: bool
) -> Location:
    evidence = [ip_evidence(sighting) for sighting in ip_sightings]
    evidence += document_evidence(document, from_public=from_public)
    return decide(evidence)
