"""A report's priority, with the reasons for it. The rules are this table: a report gets
the most urgent level any rule gives it, and the reasons of every rule at that level.

| level | rule |
| ----- | ---- |
| 1 | the provider asked for high priority (escalateToHighPriority) |
| 1 | a member of the public says a child is in danger right now |
| 1 | enticement, sextortion or trafficking, with an identified minor (a victim or   |
|   | intended recipient under 18) and an incident in the last 7 days: ongoing contact |
| 2 | new (unknown) content |
| 2 | a hands-on abuse, enticement or trafficking report |
| 3 | known content being distributed |
| I | known viral content only, or a report that joined a bundle |
| 3 | (no rule matched) |
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from intake.models import IncidentType, Report

PUBLIC_DANGER_NOW = "A member of the public says a child is in danger right now."
# Followed by the provider's own words (escalateToHighPriority).
PROVIDER_ESCALATION_REASON = "The provider asked for high priority: "
ONGOING_CONTACT = dt.timedelta(days=7)
HANDS_ON_OR_ENTICEMENT = {
    IncidentType.CHILD_SEXUAL_MOLESTATION,
    IncidentType.ONLINE_ENTICEMENT,
    IncidentType.CHILD_SEX_TRAFFICKING,
    IncidentType.CHILD_SEX_TOURISM,
}
ORDER = ["1", "2", "3", "I"]


@dataclass(frozen=True)
class Facts:
    """What the rules look at, gathered once from the report."""

    escalation: str
    public_danger: bool
    enticement_like: bool
    identified_minor: bool
    recent: bool
    hands_on_or_enticement: bool
    content_status: str
    viral_only: bool
    bundled: bool


@dataclass(frozen=True)
class Rule:
    level: str
    reason: Callable[[Facts], str | None]


def minors(document: Mapping[str, Any]) -> bool:
    for section, person in (
        ("victim", "victimPerson"),
        ("intendedRecipient", "intendedRecipientPerson"),
    ):
        for party in document.get(section, []):
            age = party.get(person, {}).get("age")
            if age is not None and int(age) < 18:
                return True
    return False


def facts_for(report: Report, *, content_status: str, viral_only: bool, bundled: bool) -> Facts:
    annotations = report.document.get("incidentSummary", {}).get("reportAnnotations", {})
    escalation = report.escalate_to_high_priority
    return Facts(
        escalation=escalation if report.source == Report.Source.PROVIDER else "",
        public_danger=report.source == Report.Source.PUBLIC and escalation == PUBLIC_DANGER_NOW,
        enticement_like=report.incident_type
        in {IncidentType.ONLINE_ENTICEMENT, IncidentType.CHILD_SEX_TRAFFICKING}
        or bool(annotations.get("sextortion")),
        identified_minor=minors(report.document),
        recent=timezone.now() - report.incident_datetime <= ONGOING_CONTACT,
        hands_on_or_enticement=report.incident_type in HANDS_ON_OR_ENTICEMENT,
        content_status=content_status,
        viral_only=viral_only,
        bundled=bundled,
    )


RULES = [
    Rule(
        "1",
        lambda f: PROVIDER_ESCALATION_REASON + f.escalation if f.escalation else None,
    ),
    Rule("1", lambda f: PUBLIC_DANGER_NOW if f.public_danger else None),
    Rule(
        "1",
        lambda f: (
            "Enticement, sextortion or trafficking with an identified minor, in the last 7 days."
            if f.enticement_like and f.identified_minor and f.recent
            else None
        ),
    ),
    Rule(
        "2",
        lambda f: (
            "New (unknown) content."
            if f.content_status == Report.ContentStatus.CONTAINS_NEW
            else None
        ),
    ),
    Rule(
        "2",
        lambda f: (
            "Hands-on abuse, enticement or trafficking report."
            if f.hands_on_or_enticement
            else None
        ),
    ),
    Rule(
        "3",
        lambda f: (
            "Known content being distributed."
            if f.content_status == Report.ContentStatus.KNOWN_ONLY and not f.viral_only
            else None
        ),
    ),
    Rule("I", lambda f: "Known viral content only." if f.viral_only else None),
    Rule("I", lambda f: "Part of a bundle of the same content." if f.bundled else None),
]


def priority_for(facts: Facts) -> tuple[str, list[str]]:
    """The most urgent level any rule gives, with the reasons at that level."""
    found = [(rule.level, reason) for rule in RULES if (reason := rule.reason(facts))]
    if not found:
        return "3", ["No rule for a higher or lower priority applies."]
    level = min((level for level, _ in found), key=ORDER.index)
    return level, [reason for rule_level, reason in found if rule_level == level]


def provisional_priority(report: Report) -> str:
    """ "1" when the level-1 rules hold on what the report itself says (none of them needs
    its files matched), else "". Decides which routing queue the report goes through."""
    level, _ = priority_for(facts_for(report, content_status="", viral_only=False, bundled=False))
    return "1" if level == "1" else ""
