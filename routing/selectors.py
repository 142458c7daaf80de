"""Reads for routing."""

import gettext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, reduce
from operator import or_

import pycountry
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone, translation

from config.reloading import Reloading
from routing.models import Agency, CaseStatus, Country, Referral, ReferralEvent, RoutingRule

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


# The agency workspace ------------------------------------------------------------------

# The queue's "state" filter: a referral the agency has not acknowledged yet, one it has,
# and one it referred on (of which it keeps only its own notes and the fact).
QUEUE_STATES = {
    "new": [Referral.Status.DELIVERED],
    "acknowledged": [Referral.Status.ACKNOWLEDGED],
    "referred_on": [Referral.Status.RE_REFERRED],
}


def overdue(now: datetime) -> Q:
    """Delivered, not acknowledged, and older than its priority allows
    (REFERRAL_ACKNOWLEDGE_WITHIN_HOURS)."""
    return Q(status=Referral.Status.DELIVERED) & reduce(
        or_,
        (
            Q(report__priority=priority, delivered_at__lt=now - timedelta(hours=hours))
            for priority, hours in settings.REFERRAL_ACKNOWLEDGE_WITHIN_HOURS.items()
        ),
    )


@dataclass(frozen=True)
class QueueFilters:
    report_number: int | None = None
    state: str = ""  # a key of QUEUE_STATES; empty: new and acknowledged
    priority: str = ""
    case_status: str = ""
    incident_type: str = ""
    received_from: date | None = None
    received_to: date | None = None
    bundle: int | None = None
    assigned_to: str = ""  # a member's user id, "none", or empty for anyone
    overdue: bool = False


def agency_queue(*, agency: Agency, filters: QueueFilters) -> QuerySet[Referral]:
    """``agency``'s referrals matching ``filters``, most urgent first, then oldest; each
    says whether it ``is_overdue``."""
    statuses = QUEUE_STATES.get(filters.state) or Referral.HELD_STATUSES
    referrals = Referral.objects.filter(agency=agency, status__in=statuses)
    if filters.report_number is not None:
        referrals = referrals.filter(report_id=filters.report_number)
    if filters.priority:
        referrals = referrals.filter(report__priority=filters.priority)
    if filters.case_status:
        referrals = referrals.filter(case_status=filters.case_status)
    if filters.incident_type:
        referrals = referrals.filter(report__incident_type=filters.incident_type)
    if filters.received_from:
        referrals = referrals.filter(delivered_at__date__gte=filters.received_from)
    if filters.received_to:
        referrals = referrals.filter(delivered_at__date__lte=filters.received_to)
    if filters.bundle is not None:
        referrals = referrals.filter(report__bundle_id=filters.bundle)
    if filters.assigned_to == "none":
        referrals = referrals.filter(assigned_to__isnull=True)
    elif filters.assigned_to:
        referrals = referrals.filter(assigned_to_id=int(filters.assigned_to))
    now = timezone.now()
    if filters.overdue:
        referrals = referrals.filter(overdue(now))
    referrals = referrals.select_related("report", "assigned_to", "referred_to__agency").annotate(
        is_overdue=ExpressionWrapper(overdue(now), output_field=BooleanField())
    )
    if filters.state == "referred_on":
        return referrals.order_by("-closed_at", "-pk")  # not by the report's priority
    return referrals.order_by("report__priority", "created_at", "pk")


@dataclass(frozen=True)
class QueueCounts:
    new: int
    priority_1: int
    overdue: int


def agency_queue_counts(*, agency: Agency) -> QueueCounts:
    """What needs the agency first: referrals not acknowledged yet, priority-1 referrals
    it holds, and referrals past their time to acknowledge."""
    counts = Referral.objects.filter(agency=agency, status__in=Referral.HELD_STATUSES).aggregate(
        new=Count("pk", filter=Q(status=Referral.Status.DELIVERED)),
        priority_1=Count("pk", filter=Q(report__priority="1")),
        overdue=Count("pk", filter=overdue(timezone.now())),
    )
    return QueueCounts(**counts)


def agency_colleagues(*, agency: Agency) -> QuerySet[User]:
    """The agency's users, to assign referrals to."""
    return User.objects.filter(agency_member__agency=agency, is_active=True).order_by("username")


def agency_referral(*, agency: Agency, referral_id: int) -> Referral | None:
    """``agency``'s referral that it holds or referred on; None for any other (another
    agency's, one not delivered to it yet, or none)."""
    return (
        Referral.objects.select_related("report", "assigned_to", "referred_to__agency")
        .filter(
            pk=referral_id,
            agency=agency,
            status__in=[*Referral.HELD_STATUSES, Referral.Status.RE_REFERRED],
        )
        .first()
    )


# The steps of its own referral an agency sees (not delivery attempts, which are staff's).
AGENCY_VISIBLE_EVENTS = [
    ReferralEvent.Kind.DELIVERED,
    ReferralEvent.Kind.ACKNOWLEDGED,
    ReferralEvent.Kind.ASSIGNED,
    ReferralEvent.Kind.CASE_STATUS,
    ReferralEvent.Kind.RE_REFERRED,
]


@dataclass(frozen=True)
class ReferralStep:
    at: datetime
    kind: str  # "referred", or a ReferralEvent.Kind
    label: str
    agency: str = ""  # for "referred": the agency it was referred to
    by: str = ""  # a colleague's username
    detail: str = ""  # a reason, a case status's name, the assignee


def referral_trail(referral: Referral) -> list[ReferralStep]:
    """How the report reached this agency (each referral in turn: to which agency and when,
    and why it came here) and what has happened to this referral since; never another
    agency's notes or the reasons another agency was given."""
    chain = []
    step: Referral | None = referral
    while step is not None:
        chain.append(step)
        step = (
            Referral.objects.select_related("agency").filter(pk=step.referred_from_id).first()
            if step.referred_from_id
            else None
        )
    # Earlier agencies by name only: the reasons they were given are not this agency's.
    steps = [
        ReferralStep(
            at=earlier.created_at,
            kind="referred",
            label=str(ReferralEvent.Kind.CREATED.label),
            agency=earlier.agency.name,
            detail=earlier.reason if earlier.pk == referral.pk else "",
        )
        for earlier in reversed(chain)
    ]
    events = referral.events.filter(kind__in=AGENCY_VISIBLE_EVENTS).select_related("by_user")
    for event in events:
        detail = event.detail
        if event.kind == ReferralEvent.Kind.CASE_STATUS:
            detail = str(CaseStatus(event.detail).label) if event.detail in CaseStatus else ""
        by = event.by_user.get_username() if event.by_user and event.by_agency_id else ""
        steps.append(
            ReferralStep(
                at=event.at, kind=event.kind, label=event.get_kind_display(), by=by, detail=detail
            )
        )
    return steps
