"""Writes for routing."""

import csv
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from intake.bundles import report_bundle, report_is_viral
from intake.hashes import report_files_match
from intake.models import Report
from intake.priority import facts_for, priority_for
from routing.anonymizers import loaded_anonymizers
from routing.countries import REFERENCE_COUNTRIES_CSV
from routing.location import LOW, IpSighting, Location, locate
from routing.models import Agency, AnonymizerNetwork, Channel, Country, Referral, RoutingRule
from routing.selectors import agency_for_country

AGENCY_NAMES = {
    Channel.DIRECT: "{country} national police (simulated)",
    Channel.ATTACHE: "U.S. federal law-enforcement attaché for {country} (simulated)",
    Channel.INTERPOL: "INTERPOL National Central Bureau, {country} (simulated)",
    Channel.DOMESTIC: "{country} ICAC national queue (simulated)",
}


def report_route(*, report_id: int) -> Referral | None:
    """Categorize a finished report (where it resolves, known or new content, bundle,
    priority with reasons) and refer it to the agency for the country it resolves to.

    Safe to call any number of times, concurrently too: the report row is locked while
    it is routed, a routed report is not routed again, and the database allows one
    referral per report and agency. Returns the referral, or None when the report is
    not (or no longer) finished.
    """
    with transaction.atomic():
        report = (
            Report.objects.select_for_update()
            .filter(pk=report_id, status=Report.Status.FINISHED)
            .first()
        )
        if report is None:
            return None
        if report.routed_at is not None:
            return report.referrals.order_by("created_at").first()

        location = report_location(report)
        report.content_status = report_files_match(report)
        report.bundle = report_bundle(report, country=location.country)
        viral_only = report.content_status == Report.ContentStatus.KNOWN_ONLY and report_is_viral(
            report
        )
        facts = facts_for(
            report,
            content_status=report.content_status,
            viral_only=viral_only,
            bundled=report.bundle is not None,
        )
        report.priority, report.priority_reasons = priority_for(facts)
        # A country known only with low confidence goes to analysts, like an unknown one.
        routed_country = location.country if location.confidence != LOW else ""
        agency = agency_for_country(country_code=routed_country)
        now = timezone.now()
        # Every agency receives through its queue in the database: the referral row is
        # the delivery.
        referral, _ = Referral.objects.get_or_create(
            report=report,
            agency=agency,
            defaults={
                "status": Referral.Status.DELIVERED,
                "created_at": now,
                "delivered_at": now,
            },
        )
        report.resolved_country = location.country
        report.country_confidence = location.confidence
        report.us_state = location.state
        report.location = location.as_json()
        report.routed_at = now
        report.save(
            update_fields=[
                "resolved_country",
                "country_confidence",
                "us_state",
                "location",
                "content_status",
                "bundle",
                "priority",
                "priority_reasons",
                "routed_at",
                "updated_at",
            ]
        )
        return referral


def report_location(report: Report) -> Location:
    """Where the report resolves, from its document and every IP capture event."""
    sightings = [
        IpSighting(
            ip_address=event.ip_address,
            source=f"ipCaptureEvent ({event.get_role_display().lower()})",
            possible_proxy=event.possible_proxy,
        )
        for event in report.ip_capture_events.order_by("pk")
    ]
    return locate(
        document=report.document,
        ip_sightings=sightings,
        from_public=report.source == Report.Source.PUBLIC,
    )


@dataclass(frozen=True)
class AnonymizerImport:
    added: int
    already_known: int
    errors: list[tuple[int, str]]


def anonymizers_import(*, lines: Iterable[str], source: str) -> AnonymizerImport:
    """Add each address or CIDR (one a line; blank lines and # comments skipped) to the
    anonymizer list. Bad lines are reported by number and skipped; the rest are added.
    Safe to run again: known networks are left as they are."""
    networks: dict[str, None] = {}
    errors: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            networks[str(ipaddress.ip_network(text, strict=False))] = None
        except ValueError:
            errors.append((number, f"{text!r} is not an IP address or network"))
    known = set(
        AnonymizerNetwork.objects.filter(network__in=networks).values_list("network", flat=True)
    )
    AnonymizerNetwork.objects.bulk_create(
        [
            AnonymizerNetwork(network=network, source=source)
            for network in networks
            if network not in known
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    loaded_anonymizers.forget()
    return AnonymizerImport(
        added=len(networks) - len(known), already_known=len(known), errors=errors
    )


def unrouted_report_ids(*, older_than: timedelta | None = None) -> list[int]:
    """Finished reports still without a referral after the grace period: their routing
    message was lost (broker down, worker killed) and must be sent again."""
    grace = older_than or timedelta(seconds=settings.ROUTING_SWEEP_GRACE_SECONDS)
    cutoff = timezone.now() - grace
    return list(
        Report.objects.filter(
            status=Report.Status.FINISHED, routed_at__isnull=True, finished_at__lt=cutoff
        )
        .order_by("finished_at")
        .values_list("pk", flat=True)[:10_000]
    )


@dataclass(frozen=True)
class ReferenceDataCounts:
    countries: int
    agencies_created: int
    rules_created: int


@transaction.atomic
def reference_data_load(*, path: Path = REFERENCE_COUNTRIES_CSV) -> ReferenceDataCounts:
    """Load every country, a simulated agency for each, the routing table and the
    analyst review queue. Safe to run again: country names are refreshed, agencies and
    routing rules that exist (and any edits made to them) are kept."""
    agencies_created = rules_created = 0
    _, created = Agency.objects.get_or_create(
        code=Agency.ANALYST_QUEUE_CODE,
        defaults={"name": "Analyst review queue", "channel": Channel.ANALYST},
    )
    agencies_created += created
    with path.open(newline="", encoding="utf-8") as rows:
        countries = list(csv.DictReader(rows))
    for row in countries:
        country, _ = Country.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"]}
        )
        channel = Channel(row["channel"])
        agency, created = Agency.objects.get_or_create(
            code=f"{channel.value}-{country.code}".lower(),
            defaults={
                "name": AGENCY_NAMES[channel].format(country=country.name),
                "country": country,
                "channel": channel,
            },
        )
        agencies_created += created
        _, created = RoutingRule.objects.get_or_create(
            country=country, us_state="", defaults={"agency": agency}
        )
        rules_created += created
    return ReferenceDataCounts(
        countries=len(countries), agencies_created=agencies_created, rules_created=rules_created
    )
