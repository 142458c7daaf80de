"""Writes for routing."""

import csv
import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import status

from config.bulk import bulk_update_rows
from config.errors import ApplicationError, reason_required
from config.unavailable import DATABASE_UNAVAILABLE
from intake.accounts import account_with_second_factor_create
from intake.authentication import api_token_create
from intake.bundles import flagged_viral, report_bundle
from intake.hashes import content_status, files_match
from intake.models import IpCaptureEvent, Report, ReportedFile
from intake.priority import facts_for, priority_for
from intake.retention import (
    CLOSED_CASE_STATUSES,
    refuse_if_purged,
    report_lock_unless_purged,
    report_locked_purged_at,
)
from routing.anonymizers import loaded_anonymizers
from routing.countries import REFERENCE_COUNTRIES_CSV, US_STATE_NAMES
from routing.location import LOW, IpSighting, Location, locate
from routing.models import (
    Agency,
    AgencyMember,
    AnonymizerNetwork,
    CaseStatus,
    Channel,
    Country,
    DeliveryMode,
    Referral,
    ReferralEvent,
    ReferralNote,
    RoutingRule,
    new_webhook_secret,
    validate_webhook_url,
)
from routing.selectors import agency_for_place

AGENCY_NAMES = {
    Channel.DIRECT: "{country} national police (simulated)",
    Channel.ATTACHE: "U.S. federal law-enforcement attaché for {country} (simulated)",
    Channel.INTERPOL: "INTERPOL National Central Bureau, {country} (simulated)",
    Channel.DOMESTIC: "{country} ICAC national queue (simulated)",
}
ICAC_TASK_FORCE_NAME = "{state} ICAC Task Force (simulated)"
logger = logging.getLogger(__name__)
# Only errors that a retry can cure: the database went away or was busy.
TRANSIENT_ERRORS = DATABASE_UNAVAILABLE


def report_route(*, report_id: int) -> Referral | None:
    """Route one finished report (see reports_route); returns its first referral, or None
    when the report is not (or no longer) finished."""
    reports_route(report_ids=[report_id])
    return (
        Referral.objects.filter(report_id=report_id, report__status=Report.Status.FINISHED)
        .select_related("agency")
        .order_by("created_at", "pk")
        .first()
    )


def reports_route_each_on_failure(*, report_ids: Sequence[int], take_waiting: int = 0) -> None:
    """Route a batch (see reports_route); should it fail for a reason other than the
    database (one report that cannot be routed rolls the whole batch back), route each
    report of ``report_ids`` alone, so that the others are not held back by it. Raises
    the last failure, once every report has had its turn."""
    try:
        reports_route(report_ids=report_ids, take_waiting=take_waiting)
        return
    except TRANSIENT_ERRORS:
        raise  # the database, not a report: the task retries the batch
    except Exception:
        if len(report_ids) == 1 and not take_waiting:
            raise
        logger.exception(
            "Routing a batch of %d reports failed: routing each alone.", len(report_ids)
        )
    failure: Exception | None = None
    for report_id in report_ids:
        try:
            reports_route(report_ids=[report_id])
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            logger.exception("Routing report %d failed.", report_id)
            failure = error
    if failure is not None:
        raise failure


ROUTED_FIELDS = [
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


def reports_route(*, report_ids: Sequence[int], take_waiting: int = 0) -> list[Referral]:
    """Categorize each finished report of ``report_ids`` (where it resolves, known or new
    content, bundle, priority with reasons) and refer it to the agency for the country it
    resolves to; a batch costs a handful of statements, not a handful a report. With
    ``take_waiting``, up to that many more finished reports still waiting for routing
    (oldest first, none that another worker holds) are routed in the same batch: under a
    backlog of one message a report, the first messages take the work in batches and
    the later ones find their report routed.

    Safe to call any number of times, concurrently too: the reports are locked (in id
    order) while they are routed, a routed report is not routed again, and the database
    allows one referral per report and agency. Returns the referrals made.
    """
    waiting = Report.objects.filter(status=Report.Status.FINISHED, routed_at__isnull=True)
    with transaction.atomic():
        locked = list(
            waiting.select_for_update()
            .filter(pk__in=report_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if take_waiting:
            # Recent, non-urgent reports only: an urgent one has its own worker, and one
            # waiting past the sweep's grace period is the sweep's (it may be one that fails
            # to route, which would fail every batch that took it).
            since = timezone.now() - timedelta(seconds=settings.ROUTING_SWEEP_GRACE_SECONDS)
            locked += (
                waiting.select_for_update(skip_locked=True)
                .filter(finished_at__gte=since)
                .exclude(pk__in=report_ids)
                .exclude(provisional_priority="1")
                .order_by("finished_at")
                .values_list("pk", flat=True)[:take_waiting]
            )
        reports = list(
            Report.objects.filter(pk__in=locked)
            .order_by("pk")
            .prefetch_related(
                Prefetch("ip_capture_events", queryset=IpCaptureEvent.objects.order_by("pk")),
                Prefetch("files", queryset=ReportedFile.objects.order_by("pk")),
            )
        )
        if not reports:
            return []
        files_of = {report.pk: list(report.files.all()) for report in reports}
        files_match([file for report in reports for file in files_of[report.pk]])
        now = timezone.now()
        destinations = []
        for report in reports:
            location = report_location(report)
            files = files_of[report.pk]
            report.content_status = content_status(files)
            report.bundle = report_bundle(report, files, country=location.country)
            viral_only = report.content_status == Report.ContentStatus.KNOWN_ONLY and (
                flagged_viral(report, files)
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
            destinations.append(
                (report, agency_for_place(country_code=routed_country, us_state=location.state))
            )
            report.resolved_country = location.country
            report.country_confidence = location.confidence
            report.us_state = location.state
            report.location = location.as_json()
            report.routed_at = report.updated_at = now
        referrals = referrals_create(destinations, now=now)
        bulk_update_rows(reports, ROUTED_FIELDS)
        return referrals


def referral_create(
    *,
    report: Report,
    agency: Agency,
    now: datetime | None = None,
    referred_from: Referral | None = None,
    reason: str = "",
    by_user: User | None = None,
    by_agency: Agency | None = None,
) -> Referral:
    """Refer ``report`` to ``agency`` (see referrals_create). Call inside a transaction."""
    (referral,) = referrals_create(
        [(report, agency)],
        now=now,
        referred_from=referred_from,
        reason=reason,
        by_user=by_user,
        by_agency=by_agency,
    )
    return referral


def referrals_create(
    destinations: Sequence[tuple[Report, Agency]],
    *,
    now: datetime | None = None,
    referred_from: Referral | None = None,
    reason: str = "",
    by_user: User | None = None,
    by_agency: Agency | None = None,
) -> list[Referral]:
    """Refer each report to its agency. An inbox agency has it at once (the row is the
    delivery); a webhook agency's referral is pending, and its delivery is enqueued once
    the transaction commits (priority-1 reports' on the urgent queue). Call inside a
    transaction."""
    now = now or timezone.now()
    referrals = Referral.objects.bulk_create(
        Referral(
            report=report,
            agency=agency,
            referred_from=referred_from,
            reason=reason,
            created_at=now,
            status=Referral.Status.DELIVERED if inbox else Referral.Status.PENDING,
            delivered_at=now if inbox else None,
            next_attempt_at=None if inbox else now,
        )
        for report, agency in destinations
        for inbox in [agency.delivery_mode == DeliveryMode.INBOX]
    )
    events = []
    to_deliver: dict[bool, list[int]] = {True: [], False: []}
    for referral, (report, agency) in zip(referrals, destinations, strict=True):
        events.append(
            ReferralEvent(
                referral=referral,
                kind=ReferralEvent.Kind.CREATED,
                at=now,
                by_user=by_user,
                by_agency=by_agency,
                detail=reason,
            )
        )
        if agency.delivery_mode == DeliveryMode.INBOX:
            events.append(
                ReferralEvent(referral=referral, kind=ReferralEvent.Kind.DELIVERED, at=now)
            )
        else:
            to_deliver[report.priority == Report.Priority.IMMINENT].append(referral.pk)
    ReferralEvent.objects.bulk_create(events)
    for urgent, referral_ids in to_deliver.items():
        if referral_ids:
            transaction.on_commit(partial(enqueue_deliveries, referral_ids, urgent=urgent))
    return referrals


def enqueue_delivery(referral_id: int, *, urgent: bool) -> None:
    enqueue_deliveries([referral_id], urgent=urgent)


def enqueue_deliveries(referral_ids: list[int], *, urgent: bool) -> None:
    from routing.tasks import enqueue_deliveries as send  # the tasks module imports this one

    send(referral_ids, urgent=urgent)


def referral_not_found() -> ApplicationError:
    """Another agency's referral is answered exactly like one that does not exist."""
    return ApplicationError(
        "Referral does not exist.", code="not_found", http_status=status.HTTP_404_NOT_FOUND
    )


def referral_refer_on(
    *,
    referral_id: int,
    to_agency: Agency,
    reason: str,
    by_user: User | None = None,
    by_agency: Agency | None = None,
) -> Referral:
    """Refer a report on from the agency that has it to another, with a reason: by staff
    (``by_user``), or by the agency itself (``by_agency``, which may only refer on its own
    referrals). The first referral closes as re-referred and stays as history; the new
    agency receives the report by its usual delivery path."""
    reason = reason_required(reason, to="refer a report on")
    with transaction.atomic():
        # The report first (as routing and the purge of personal data lock it), then the
        # referral; a purged report is not referred on.
        held = Referral.objects.filter(pk=referral_id).values_list("report_id", "agency_id")
        report_id, agency_id = held.first() or (None, None)
        if report_id is None or (by_agency is not None and agency_id != by_agency.pk):
            raise referral_not_found()
        report_lock_unless_purged(report_id=report_id)
        referral = (
            Referral.objects.select_for_update()
            .select_related("report", "agency")
            .filter(pk=referral_id)
            .first()
        )
        if referral is None or (by_agency is not None and referral.agency_id != by_agency.pk):
            raise referral_not_found()
        if referral.status == Referral.Status.RE_REFERRED:
            raise ApplicationError(
                "This referral was already referred on.",
                code="referral_closed",
                http_status=status.HTTP_409_CONFLICT,
            )
        if not to_agency.is_active or to_agency.pk == referral.agency_id:
            raise ApplicationError(
                f"{to_agency.code} cannot receive this referral: "
                + ("it is the agency that has it." if to_agency.is_active else "it is inactive."),
                code="invalid_agency",
                fields={"agency": ["Choose another, active agency."]},
            )
        if Referral.objects.filter(
            report=referral.report, agency=to_agency, status__in=Referral.OPEN_STATUSES
        ).exists():
            raise ApplicationError(
                f"The report is already referred to {to_agency.code}.",
                code="already_referred",
                fields={"agency": ["The report is already referred to this agency."]},
                http_status=status.HTTP_409_CONFLICT,
            )
        now = timezone.now()
        referral.status = Referral.Status.RE_REFERRED
        referral.closed_at = now
        referral.next_attempt_at = None
        referral.claimed_until = None
        referral.save(update_fields=["status", "closed_at", "next_attempt_at", "claimed_until"])
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.RE_REFERRED,
            at=now,
            by_user=by_user,
            by_agency=by_agency,
            detail=f"To {to_agency.code}: {reason}"[:500],
        )
        return referral_create(
            report=referral.report,
            agency=to_agency,
            now=now,
            referred_from=referral,
            reason=reason,
            by_user=by_user,
            by_agency=by_agency,
        )


def report_refer_by_hand(
    *, report: Report, to_agency: Agency, reason: str, by_user: User
) -> Referral:
    """Staff route a finished report to ``to_agency``: its open referral (the analyst
    queue's, say) is referred on, or, if it has none, a first referral is made. The report
    is locked first, so this and a routing task never both refer it."""
    reason = reason_required(reason, to="route a report")
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status != Report.Status.FINISHED:
            raise ApplicationError(
                f"Report {report.pk} is {locked.status}: only a finished report is routed.",
                code="not_finished",
                http_status=status.HTTP_409_CONFLICT,
            )
        current = (
            Referral.objects.filter(report=locked, status__in=Referral.OPEN_STATUSES)
            .order_by("-created_at")
            .first()
        )
        if current is not None:
            return referral_refer_on(
                referral_id=current.pk, to_agency=to_agency, reason=reason, by_user=by_user
            )
        referral = referral_create(report=locked, agency=to_agency, reason=reason, by_user=by_user)
        if locked.routed_at is None:
            locked.routed_at = referral.created_at
            locked.save(update_fields=["routed_at", "updated_at"])
        return referral


def referral_acknowledge(
    *, referral_id: int, by_user: User | None = None, by_agency: Agency | None = None
) -> Referral:
    """The receiving agency has taken the report into its work. Acknowledging again
    changes nothing."""
    with transaction.atomic():
        referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
        if referral is None or (by_agency is not None and referral.agency_id != by_agency.pk):
            raise referral_not_found()
        if referral.status == Referral.Status.ACKNOWLEDGED:
            return referral
        if referral.status != Referral.Status.DELIVERED:
            raise ApplicationError(
                f"A referral that is {referral.get_status_display().lower()} cannot be "
                "acknowledged.",
                code="not_delivered",
                http_status=status.HTTP_409_CONFLICT,
            )
        now = timezone.now()
        referral.status = Referral.Status.ACKNOWLEDGED
        referral.acknowledged_at = now
        referral.save(update_fields=["status", "acknowledged_at"])
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.ACKNOWLEDGED,
            at=now,
            by_user=by_user,
            by_agency=by_agency,
        )
        return referral


def referral_redeliver(*, referral_id: int, by_user: User) -> Referral:
    """Staff send a dead-lettered referral again (once the agency's endpoint is fixed):
    a fresh round of attempts starts now."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("report")
            .filter(pk=referral_id)
            .first()
        )
        if referral is None or referral.status != Referral.Status.DEAD_LETTERED:
            raise ApplicationError(
                "Only a dead-lettered referral can be delivered again.",
                code="not_dead_lettered",
                http_status=status.HTTP_409_CONFLICT,
            )
        now = timezone.now()
        referral.status = Referral.Status.PENDING
        referral.attempts = 0
        referral.next_attempt_at = now
        referral.dead_lettered_at = None
        referral.save(update_fields=["status", "attempts", "next_attempt_at", "dead_lettered_at"])
        ReferralEvent.objects.create(
            referral=referral, kind=ReferralEvent.Kind.REDELIVERY, at=now, by_user=by_user
        )
        urgent = referral.report.priority == Report.Priority.IMMINENT
        transaction.on_commit(lambda: enqueue_delivery(referral.pk, urgent=urgent))
        return referral


def agency_webhook_configure(*, agency: Agency, url: str) -> Agency:
    """Deliver ``agency``'s referrals to ``url`` from now on, signed with a new secret
    (returned on the agency, to be given to it once). An empty URL returns the agency to
    its inbox."""
    if url:
        validate_webhook_url(url)
    agency.webhook_secret = new_webhook_secret()
    agency.webhook_url = url
    agency.delivery_mode = DeliveryMode.WEBHOOK if url else DeliveryMode.INBOX
    agency.full_clean()
    agency.save(update_fields=["webhook_secret", "webhook_url", "delivery_mode"])
    return agency


def report_location(report: Report) -> Location:
    """Where the report resolves, from its document and every IP capture event."""
    sightings = [
        IpSighting(
            ip_address=event.ip_address,
            source=f"ipCaptureEvent ({event.get_role_display().lower()})",
            possible_proxy=event.possible_proxy,
        )
        for event in sorted(report.ip_capture_events.all(), key=lambda event: event.pk)
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
    """Load every country, a simulated agency for each, the routing table, an ICAC task
    force for each U.S. state and the analyst review queue. Safe to run again: country
    names are refreshed, agencies and routing rules that exist (and any edits made to
    them) are kept."""
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
    united_states = Country.objects.get(code="US")
    for state, state_name in US_STATE_NAMES.items():
        agency, created = Agency.objects.get_or_create(
            code=f"icac-{state}".lower(),
            defaults={
                "name": ICAC_TASK_FORCE_NAME.format(state=state_name),
                "country": united_states,
                "us_state": state,
                "channel": Channel.DOMESTIC,
            },
        )
        agencies_created += created
        _, created = RoutingRule.objects.get_or_create(
            country=united_states, us_state=state, defaults={"agency": agency}
        )
        rules_created += created
    return ReferenceDataCounts(
        countries=len(countries), agencies_created=agencies_created, rules_created=rules_created
    )


# The agency workspace -----------------------------------------------------------------


@dataclass(frozen=True)
class AgencyCredentials:
    username: str
    password: str  # one-time: to be changed at the first sign-in
    token: str  # for the agency API, shown once, stored as a hash
    totp_uri: str  # for the workspace's second factor


@transaction.atomic
def agency_user_create(*, agency_code: str, username: str) -> AgencyCredentials:
    """A user of ``agency``'s workspace and API, with a one-time password, an API token and
    a TOTP device, each handed over once."""
    agency = Agency.objects.filter(code=agency_code, is_active=True).first()
    if agency is None:
        raise ApplicationError(f"There is no active agency {agency_code!r}.", code="not_found")
    account = account_with_second_factor_create(username=username)
    AgencyMember.objects.create(user=account.user, agency=agency)
    return AgencyCredentials(
        username=account.user.username,
        password=account.password,
        token=api_token_create(user=account.user),
        totp_uri=account.totp_uri,
    )


def referral_case_status_set(
    *, referral_id: int, case_status: str, by_agency: Agency, by_user: User | None = None
) -> Referral:
    """The agency records where its case stands (open, investigating, closed and why)."""
    if case_status not in CaseStatus.values:
        raise ApplicationError(
            f"{case_status!r} is not a case status.",
            code="invalid_choice",
            fields={"status": [f"One of: {', '.join(CaseStatus.values)}."]},
        )
    with transaction.atomic():
        # The report first (see referral_refer_on): a purged report's case is not reopened.
        report_id = (
            Referral.objects.filter(
                pk=referral_id, agency=by_agency, status__in=Referral.HELD_STATUSES
            )
            .values_list("report_id", flat=True)
            .first()
        )
        if report_id is None:
            raise referral_not_found()
        purged_at = report_locked_purged_at(report_id=report_id)
        referral = agency_referral_locked(referral_id=referral_id, agency=by_agency)
        if case_status not in CLOSED_CASE_STATUSES:
            refuse_if_purged(report_id, purged_at=purged_at)
        referral.case_status = case_status
        referral.save(update_fields=["case_status"])
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.CASE_STATUS,
            by_user=by_user,
            by_agency=by_agency,
            detail=case_status,
        )
        return referral


def referral_note_add(
    *, referral_id: int, text: str, by_agency: Agency, by_user: User | None = None
) -> ReferralNote:
    text = text.strip()
    if not text:
        raise ApplicationError(
            "A note needs text.", code="required", fields={"text": ["Write the note."]}
        )
    with transaction.atomic():
        referral = agency_referral_locked(referral_id=referral_id, agency=by_agency)
        return ReferralNote.objects.create(referral=referral, author=by_user, text=text)


def agency_referral_locked(*, referral_id: int, agency: Agency) -> Referral:
    """``agency``'s referral that it has (delivered, or acknowledged), locked; any other
    (another agency's, one not delivered yet, one it referred on, or none) is answered as
    not found."""
    referral = (
        Referral.objects.select_for_update()
        .filter(
            pk=referral_id,
            agency=agency,
            status__in=Referral.HELD_STATUSES,
        )
        .first()
    )
    if referral is None:
        raise referral_not_found()
    return referral


def referral_assign(
    *, referral_id: int, assignee: User | None, by_agency: Agency, by_user: User | None = None
) -> Referral:
    """Give the agency's referral to one of its own officers (or to nobody)."""
    if (
        assignee is not None
        and not AgencyMember.objects.filter(
            user=assignee, agency=by_agency, user__is_active=True
        ).exists()
    ):
        raise ApplicationError(
            "Only a colleague at this agency can be assigned.",
            code="invalid_assignee",
            fields={"assigned_to": ["Choose a colleague at this agency."]},
        )
    with transaction.atomic():
        referral = agency_referral_locked(referral_id=referral_id, agency=by_agency)
        if referral.assigned_to_id == (assignee.pk if assignee else None):
            return referral
        referral.assigned_to = assignee
        referral.save(update_fields=["assigned_to"])
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.ASSIGNED,
            by_user=by_user,
            by_agency=by_agency,
            detail=assignee.get_username() if assignee else "",
        )
        return referral


@transaction.atomic
def agency_password_change(*, member: AgencyMember, new_password: str) -> None:
    """The agency user's own password (already checked against the old one and the
    password rules), which ends the one-time password."""
    member.user.set_password(new_password)
    member.user.save(update_fields=["password"])
    member.must_change_password = False
    member.save(update_fields=["must_change_password"])


def agency_member_language_set(*, member: AgencyMember, language: str) -> None:
    """The workspace's language for this user, wherever they sign in."""
    if language not in dict(settings.LANGUAGES):
        raise ApplicationError(
            f"{language!r} is not a language of this service.",
            code="invalid_choice",
            fields={"language": ["Choose one of the listed languages."]},
        )
    member.language = language
    member.save(update_fields=["language"])
