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

from intake.models import Bundle, Provider, Report
from intake.services import (
    report_bundle_set,
    report_mark_reviewed,
    report_priority_override,
    report_retract_for_provider,
)
from intake.sharing import report_files_confirm_known
from routing.models import Agency, Notice
from routing.notices import notice_send, report_notices_close
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


# Notices to the provider hosting the content (routing/notices.py).


class NoticeForm(ReasonForm):
    notice_type = forms.ChoiceField(choices=Notice.Type.choices, label="Notice type")
    requested_action = forms.ChoiceField(
        choices=Notice.RequestedAction.choices, label="What is asked"
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(is_active=True).order_by("name"),
        required=False,
        help_text="The provider hosting the content; empty: the provider that reported it.",
    )
    targets = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=20000,
        required=False,
        help_text="The URLs or identifiers concerned, one a line; empty: the reported "
        "content of the report, by its number (only to the provider that reported it).",
    )
    field_order = ["notice_type", "requested_action", "provider", "targets", "reason"]


def _notice(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    targets = data["targets"].splitlines()
    notice = notice_send(
        report=report,
        provider=data["provider"],
        notice_type=data["notice_type"],
        requested_action=data["requested_action"],
        targets=targets,
        reason=data["reason"],
        by_user=user,
    )
    return {"notice": notice.pk, "provider": notice.provider.name, "type": notice.notice_type}


def _close_notices(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    return {"closed": report_notices_close(report=report, reason=data["reason"], by_user=user)}


TRIAGE_ACTIONS["send_notice"] = TriageAction(
    "send_notice", "Send a notice to the provider", "triage_report", NoticeForm, _notice, True
)
TRIAGE_ACTIONS["close_notices"] = TriageAction(
    "close_notices", "Close the report's notices", "triage_report", ReasonForm, _close_notices
)


# The shared known-hash list (intake/sharing.py).


class ConfirmKnownForm(ReasonForm):
    label = forms.CharField(
        max_length=200,
        help_text="What the content is, as providers under the hash-sharing agreement will "
        "see it with each hash.",
    )
    field_order = ["label", "reason"]


def _confirm_known(report: Report, data: dict[str, Any], user: User) -> dict[str, Any]:
    confirmation = report_files_confirm_known(report=report, label=data["label"], user=user)
    return {
        "label": data["label"],
        "known_hashes": [entry.pk for entry in confirmation.entries],
        "left_withdrawn": [entry.pk for entry in confirmation.withdrawn],
    }


TRIAGE_ACTIONS["confirm_known"] = TriageAction(
    "confirm_known",
    "Add this report's files to the known-hash list",
    "confirm_known_hashes",
    ConfirmKnownForm,
    _confirm_known,
)
