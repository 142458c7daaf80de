from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import IncidentType
from intake.services import IpCaptureEventData, ReportData
from intake.validators import validate_not_in_future
from routing.selectors import country_choices


class PublicReportForm(forms.Form):
    incident_type = forms.ChoiceField(
        label=_("What happened?"),
        choices=[("", _("Choose one")), *IncidentType.choices],
    )
    incident_datetime = forms.DateTimeField(
        label=_("When did it happen? An approximate date and time is fine."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        validators=[validate_not_in_future],
    )
    description = forms.CharField(
        label=_("Tell us what you saw. Do not paste or attach any images."),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=50_000,
    )
    country = forms.ChoiceField(label=_("Which country are you in?"), required=False)
    suspect_ip_address = forms.GenericIPAddressField(
        label=_("The IP address of the person responsible, if you know it"),
        required=False,
    )
    reporter_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=200)
    reporter_email = forms.EmailField(label=_("Your email (optional)"), required=False)
    reporter_phone = forms.CharField(
        label=_("Your phone number (optional)"), required=False, max_length=40
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("I'd rather not say")), *country_choices()]  # type: ignore[attr-defined]

    def report_data(self) -> ReportData:
        data = self.cleaned_data
        ip_address = data["suspect_ip_address"]
        return ReportData(
            incident_type=data["incident_type"],
            incident_datetime=data["incident_datetime"],
            description=data["description"],
            reporter_name=data["reporter_name"],
            reporter_email=data["reporter_email"],
            reporter_phone=data["reporter_phone"],
            stated_country=data["country"],
            ip_capture_events=[IpCaptureEventData(ip_address=ip_address)] if ip_address else [],
        )
