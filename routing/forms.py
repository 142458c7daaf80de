"""The agency workspace's forms: sign-in with the second factor, the queue's filters, and
what an officer does with a referral; and the statistics pages' choices."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.accounts import second_factor_device
from intake.forms import CHOOSE, DATE
from intake.models import IncidentType, Report
from routing.figures import FigureFilters
from routing.models import Agency, CaseStatus
from routing.selectors import QueueFilters, agency_colleagues


class AgencySignInForm(AuthenticationForm):
    """Username, password and the code from the authenticator app, on one page."""

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        "invalid_login": _("That username and password do not match. Both are case-sensitive."),
        "inactive": _("This account is closed."),
        "invalid_token": _("That code is not the one your authenticator app shows now."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        member = getattr(user, "agency_member", None)
        if member is None or not member.agency.is_active:
            # Answered as a wrong password: a right one is not confirmed without an agency.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
                reason="not a user of an active agency",
            )
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        device = second_factor_device(
            request=self.request, user=user, token=self.cleaned_data.get("otp_token") or ""
        )
        if device is None:
            raise forms.ValidationError(self.error_messages["invalid_token"], code="invalid_token")
        user.otp_device = device  # type: ignore[attr-defined]  # django_otp.login reads it


class AgencyPasswordForm(PasswordChangeForm):
    """Django's password change, worded in the workspace's own catalogue (Django has no
    Filipino one)."""

    error_messages = {
        "password_mismatch": _("The two new passwords are not the same."),
        "password_incorrect": _("That is not your current password."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password1"].help_text = _(
            "At least 8 characters; not a common password, not only digits, and not like "
            "your username."
        )
        self.fields["new_password2"].label = _("The new password again")
        self.fields["new_password2"].help_text = ""

    def clean_new_password1(self) -> str:
        password = str(self.cleaned_data.get("new_password1") or "")
        if password and self.user.check_password(password):
            raise forms.ValidationError(
                _("Choose a password other than the one you have now."), code="unchanged"
            )
        return password


def choices_with_any(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("Any")), *choices]


NUMBER = {"invalid": _("Enter a number."), "min_value": _("Enter a number above 0.")}
YEAR = {
    "invalid": _("Enter a year, for example 2021."),
    "min_value": _("Enter a year from 1998 on."),
    "max_value": _("Enter a year before 2100."),
}


class QueueFilterForm(forms.Form):
    """The queue's filters, from the query string; every choice is the agency's own."""

    report = forms.IntegerField(
        label=_("Report number"), required=False, min_value=1, error_messages=NUMBER
    )
    state = forms.ChoiceField(
        label=_("Referral"),
        required=False,
        error_messages={"invalid_choice": CHOOSE},
        choices=[
            ("", _("New and acknowledged")),
            ("new", _("New (not acknowledged)")),
            ("acknowledged", _("Acknowledged")),
            ("referred_on", _("Referred on")),
        ],
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=choices_with_any(Report.Priority.choices),
        error_messages={"invalid_choice": CHOOSE},
    )
    case_status = forms.ChoiceField(
        label=_("Case status"),
        required=False,
        choices=choices_with_any(CaseStatus.choices),
        error_messages={"invalid_choice": CHOOSE},
    )
    incident_type = forms.ChoiceField(
        label=_("Incident type"),
        required=False,
        choices=choices_with_any(IncidentType.choices),
        error_messages={"invalid_choice": CHOOSE},
    )
    received_from = forms.DateField(
        label=_("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE},
    )
    received_to = forms.DateField(
        label=_("Received until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE},
    )
    bundle = forms.IntegerField(
        label=_("Bundle"), required=False, min_value=1, error_messages=NUMBER
    )
    assigned_to = forms.ChoiceField(
        label=_("Assigned to"), required=False, error_messages={"invalid_choice": CHOOSE}
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            ("none", _("Nobody")),
            *((str(user.pk), user.get_username()) for user in agency_colleagues(agency=agency)),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end date is before the start date."))
        narrowed = [name for name, value in cleaned.items() if name != "state" and value]
        if cleaned.get("state") == "referred_on" and narrowed:
            # What a report referred on is (priority, type, bundle...) is no longer ours to know.
            self.add_error(
                "state", _("Referrals you referred on are listed without other filters.")
            )
        return cleaned

    def filters(self) -> QueueFilters:
        data = self.cleaned_data
        return QueueFilters(
            report_number=data.get("report"),
            state=data.get("state") or "",
            priority=data.get("priority") or "",
            case_status=data.get("case_status") or "",
            incident_type=data.get("incident_type") or "",
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            bundle=data.get("bundle"),
            assigned_to=data.get("assigned_to") or "",
            overdue=bool(data.get("overdue")),
        )


class AssignForm(forms.Form):
    assigned_to = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        error_messages={"invalid_choice": CHOOSE},
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = agency_colleagues(agency=agency)  # type: ignore[attr-defined]


class CaseStatusForm(forms.Form):
    case_status = forms.ChoiceField(
        label=_("Case status"),
        choices=CaseStatus.choices,
        error_messages={"invalid_choice": CHOOSE},
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Seen only by your agency, and kept with it if the report is referred on."),
    )


class ReferOnForm(forms.Form):
    agency = forms.ModelChoiceField(
        label=_("Refer on to"),
        queryset=Agency.objects.none(),
        to_field_name="code",
        error_messages={"invalid_choice": CHOOSE},
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The receiving agency sees this reason."),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = (  # type: ignore[attr-defined]
            Agency.objects.filter(is_active=True).exclude(pk=agency.pk).order_by("name")
        )


class LanguageForm(forms.Form):
    language = forms.CharField(max_length=8)


class FiguresForm(forms.Form):
    """The statistics pages' choices, from the query string: which reports (dates received,
    the country they resolve to) and the region snapshot's region and years."""

    date_from = forms.DateField(
        label=_("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE},
    )
    date_to = forms.DateField(
        label=_("Received until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE},
    )
    country = forms.ChoiceField(
        label=_("Country"), required=False, error_messages={"invalid_choice": CHOOSE}
    )
    region = forms.MultipleChoiceField(
        label=_("Snapshot of these countries (none chosen: the European Union)"),
        required=False,
        error_messages={"invalid_choice": CHOOSE},
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    first_year = forms.IntegerField(
        label=_("Compare the year"),
        required=False,
        min_value=1998,
        max_value=2099,
        error_messages=YEAR,
    )
    second_year = forms.IntegerField(
        label=_("with the year"),
        required=False,
        min_value=1998,
        max_value=2099,
        error_messages=YEAR,
    )

    def __init__(self, *args: Any, country_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = sorted(country_names.items(), key=lambda item: item[1])
        self.fields["country"].choices = [("", _("All countries")), *countries]  # type: ignore[attr-defined]
        self.fields["region"].choices = countries  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("Choose a date on or after the first date."))
        return cleaned

    def filters(self) -> FigureFilters:
        return FigureFilters(
            date_from=self.cleaned_data.get("date_from"),
            date_to=self.cleaned_data.get("date_to"),
            country=self.cleaned_data.get("country") or "",
        )

    def snapshot_years(self, years_with_figures: list[int]) -> tuple[int, int]:
        """The years chosen, or the last year with figures and the one before."""
        latest = years_with_figures[-1] if years_with_figures else timezone.now().year
        second = self.cleaned_data.get("second_year") or latest
        first = self.cleaned_data.get("first_year") or second - 1
        return first, second
