from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from intake import schema
from intake.documents import serializer_for, validated_document
from intake.models import IncidentType
from intake.priority import PUBLIC_DANGER_NOW
from intake.validators import validate_no_media, validate_not_in_future
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
    child_in_danger_now = forms.BooleanField(
        label=_("Is a child in danger right now?"),
        required=False,
        help_text=_("If so, also call your local emergency number now."),
    )
    description = forms.CharField(
        label=_("Tell us what you saw. Do not paste or attach any images."),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=50_000,
        validators=[validate_no_media],
    )
    child_country = forms.ChoiceField(
        label=_("Which country is the child in, if you know?"), required=False
    )
    suspect_country = forms.ChoiceField(
        label=_("Which country is the person responsible in, if you know?"), required=False
    )
    country = forms.ChoiceField(label=_("Which country are you in?"), required=False)
    suspect_ip_address = forms.GenericIPAddressField(
        label=_("The IP address of the person responsible, if you know it"),
        required=False,
    )
    reporter_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=100)
    reporter_email = forms.EmailField(label=_("Your email (optional)"), required=False)
    reporter_phone = forms.CharField(
        label=_("Your phone number (optional)"), required=False, max_length=40
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = country_choices()
        self.fields["country"].choices = [("", _("I'd rather not say")), *countries]  # type: ignore[attr-defined]
        for name in ("child_country", "suspect_country"):
            self.fields[name].choices = [("", _("I don't know")), *countries]  # type: ignore[attr-defined]

    def report_document(self) -> dict[str, Any]:
        """The report as a CyberTipline document, the shape every report is kept in."""
        data = self.cleaned_data
        reporting_person: dict[str, Any] = {}
        if data["reporter_name"]:
            reporting_person["firstName"] = data["reporter_name"]
        if data["reporter_email"]:
            reporting_person["email"] = [{"value": data["reporter_email"]}]
        if data["reporter_phone"]:
            reporting_person["phone"] = [{"value": data["reporter_phone"]}]
        if data["country"]:
            reporting_person["address"] = [{"country": data["country"]}]
        summary: dict[str, Any] = {
            "incidentType": data["incident_type"],
            "incidentDateTime": data["incident_datetime"].isoformat(),
        }
        if data["child_in_danger_now"]:
            summary["escalateToHighPriority"] = PUBLIC_DANGER_NOW
        document: dict[str, Any] = {
            "incidentSummary": summary,
            "reporter": {"reportingPerson": reporting_person},
        }
        suspect: dict[str, Any] = {}
        if data["suspect_ip_address"]:
            suspect["ipCaptureEvent"] = [{"ipAddress": data["suspect_ip_address"]}]
        if data["suspect_country"]:
            suspect["estimatedLocation"] = {"countryCode": data["suspect_country"]}
        if suspect:
            document["personOrUserReported"] = [suspect]
        if data["child_country"]:
            document["victim"] = [
                {"victimPerson": {}, "estimatedLocation": {"countryCode": data["child_country"]}}
            ]
        if data["description"]:
            document["additionalInfo"] = data["description"]
        return validated_document(serializer_for(schema.REPORT), document)
