"""What staff can do to a report from the admin, each with a required reason: change its
priority, mark it reviewed, route or re-route it, bundle or unbundle it, retract it at its
provider's request. Each action is a form and a service call; the admin offers it on a
report's page and, for the common ones, on a selection of reports, and puts every use on
the audit trail."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.models import User

from intake.models import Bundle, Report
from intake.services import (
    report_bundle_set,
    report_mark_reviewed,
    report_priority_override,
    report_retract_for_provider,
)
from routing.models import Agency
from routing.services import report_refer_by_hand


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Required. Kept with the report and on the audit trail.",
    )


class PriorityForm(ReasonForm):
    priority = forms.ChoiceField(choices=Report.Priority.choices)
    field_order = ["priority", "reason"]


class RouteForm(ReasonForm):
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.filter(is_active=True).order_by("code"),
        help_text="The agency the report goes to, by its usual delivery.",
    )
    field_order = ["agency", "reason"]


class BundleForm(ReasonForm):
    bundle = forms.IntegerField(min_value=1, label="Bundle number")
    field_order = ["bundle", "reason"]

    def clean_bundle(self) -> Bundle:
        bundle = Bundle.objects.filter(pk=self.cleaned_data["bundle"]).first()
        if bundle is None:
            raise forms.ValidationError("There is no bundle with this number.")
        return bundle


@dataclass(frozen=True)
class TriageAction:
    name: str
    label: str
    permission: str  # an intake.Report permission's codename
    form: type[ReasonForm]
    # Applies the action to one report; returns what the audit entry adds to the reason.
    apply: Callable[[Report, dict[str, Any], User], dict[str, Any]]
    bulk: bool = False  # offered on a selection of reports too


def _priority(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    before = report.priority
    report_priority_override(
        report=report, priority=data["priority"], reason=data["reason"], user=user
    )
    return {"from": before, "to": data["priority"]}


def _reviewed(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    report_mark_reviewed(report=report, reason=data["reason"], user=user)
    return {}


def _route(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    referral = report_refer_by_hand(
        report=report, to_agency=data["agency"], reason=data["reason"], by_user=user
    )
    return {"to": referral.agency.code, "referral": referral.pk}


def _bundle(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    before = report.bundle_id
    report_bundle_set(report=report, bundle=data["bundle"], reason=data["reason"])
    return {"from": before, "to": data["bundle"].pk}


def _unbundle(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    before = report.bundle_id
    report_bundle_set(report=report, bundle=None, reason=data["reason"])
    return {"from": before}


def _retract(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    report_retract_for_provider(report=report, reason=data["reason"])
    return {}


TRIAGE_ACTIONS = {
    action.name: action
    for action in [
        TriageAction(
            "set_priority", "Change priority", "triage_report", PriorityForm, _priority, True
        ),
        TriageAction(
            "mark_reviewed", "Mark reviewed", "triage_report", ReasonForm, _reviewed, True
        ),
        TriageAction("route", "Route or re-route", "route_report", RouteForm, _route, True),
        TriageAction("bundle", "Put in a bundle", "triage_report", BundleForm, _bundle),
        TriageAction("unbundle", "Take out of its bundle", "triage_report", ReasonForm, _unbundle),
        TriageAction(
            "retract", "Retract at the provider's request", "retract_report", ReasonForm, _retract
        ),
    ]
}
