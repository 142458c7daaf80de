"""The public pages' forms. Every word a person reads here, error messages included, is in
this project's translation catalogues (locale/)."""

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake import schema
from intake.documents import serializer_for, validated_document
from intake.models import IncidentType
from intake.priority import PUBLIC_DANGER_NOW
from intake.validators import validate_no_media, validate_xml_characters
from routing.selectors import country_choices

# What happened, in plain words, and the CyberTipline incident type each one is.
WHAT_HAPPENED = {
    "images": (
        IncidentType.CHILD_PORNOGRAPHY,
        _("Sexual images or videos of a child were made, shared or kept"),
    ),
    "enticement": (
        IncidentType.ONLINE_ENTICEMENT,
        _("An adult chatted sexually with a child, or tried to get images or to meet them"),
    ),
    "offline_abuse": (
        IncidentType.CHILD_SEXUAL_MOLESTATION,
        _("A child was sexually abused in person"),
    ),
    "offered_for_sex": (
        IncidentType.CHILD_SEX_TRAFFICKING,
        _("A child was offered or sought for sex, for money or anything else"),
    ),
    "travel": (
        IncidentType.CHILD_SEX_TOURISM,
        _("Someone travelled, or plans to travel, to abuse children"),
    ),
    "unwanted_material": (
        IncidentType.UNSOLICITED_OBSCENE_MATERIAL,
        _("Sexual messages or images were sent to a child who did not ask for them"),
    ),
    "misleading_domain": (
        IncidentType.MISLEADING_DOMAIN_NAME,
        _("A website name was made to trick children into seeing sexual material"),
    ),
    "misleading_words": (
        IncidentType.MISLEADING_WORDS_OR_IMAGES,
        _("Words or pictures online were made to lead children to sexual material"),
    ),
}

REQUIRED = _("This field is required.")
CHOOSE = _("Choose one of the options given.")
DATE = _("Enter a date, for example 2026-03-31.")
TOO_LONG = _("Please write at most %(limit_value)d characters.")
MAX_LINES = 20
PHONE = re.compile(r"^\+?[0-9 ().-]{3,40}$")


def no_media(value: str) -> None:
    """The shared rule, with a message for people rather than programs."""
    try:
        validate_no_media(value)
    except ValidationError as error:
        raise ValidationError(
            _(
                "This looks like an image or another file written out as text. Please do not "
                "send files or images: describe what you saw in words."
            ),
            code=error.code,
        ) from None


UNREADABLE = _(
    "Some characters in this text cannot be read or kept. Please type it again, or paste it "
    "as plain text."
)


def printable_text(value: str) -> None:
    """The shared rule on characters (no control characters but tab and line breaks), with
    a message for people."""
    try:
        validate_xml_characters(value)
    except ValidationError as error:
        raise ValidationError(UNREADABLE, code=error.code) from None


def lines_of(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class LinesField(forms.CharField):
    """One item a line (web addresses, usernames, ...), each checked by ``check_line``."""

    def __init__(self, *, max_line_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(
            required=False,
            max_length=MAX_LINES * (max_line_length + 2),
            error_messages={"max_length": TOO_LONG},
            **kwargs,
        )
        self.max_line_length = max_line_length
        self.validators += [printable_text, no_media]

    def check_line(self, line: str) -> None:
        if len(line) > self.max_line_length:
            raise ValidationError(
                _("Each line can be at most %(limit)d characters long."),
                code="line_too_long",
                params={"limit": self.max_line_length},
            )

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        items = lines_of(text)
        if len(items) > MAX_LINES:
            raise ValidationError(
                _("Please give at most %(limit)d, one a line."),
                code="too_many_lines",
                params={"limit": MAX_LINES},
            )
        for item in items:
            self.check_line(item)
        return items


class UrlLinesField(LinesField):
    def check_line(self, line: str) -> None:
        super().check_line(line)
        try:
            URLValidator(schemes=["http", "https"])(line)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not a web address. Start each with http:// or https://."),
                code="invalid_url",
                params={"value": line[:100]},
            ) from None


class EmailLinesField(LinesField):
    def check_line(self, line: str) -> None:
        super().check_line(line)
        try:
            EmailValidator()(line)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not an email address."),
                code="invalid_email",
                params={"value": line[:100]},
            ) from None


def validate_phone(value: str) -> None:
    if not PHONE.match(value):
        raise ValidationError(
            _("“%(value)s” is not a phone number. Use digits, spaces and + ( ) - only."),
            code="invalid_phone",
            params={"value": value[:100]},
        )


class PhoneLinesField(LinesField):
    def check_line(self, line: str) -> None:
        super().check_line(line)
        validate_phone(line)


def text_field(label: Any, *, max_length: int, help_text: Any = "", rows: int = 0) -> Any:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=max_length,
        validators=[printable_text, no_media],
        widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput,
        error_messages={"max_length": TOO_LONG},
    )


def country_field(label: Any) -> Any:
    return forms.ChoiceField(label=label, required=False, error_messages={"invalid_choice": CHOOSE})


# The first choice of each country question.
COUNTRY_NOT_GIVEN = {
    "child_country": _("I don't know"),
    "suspect_country": _("I don't know"),
    "country": _("I'd rather not say"),
}


class PublicReportForm(forms.Form):
    """The public report, in the sections the page shows (SECTIONS)."""

    # What happened
    what_happened = forms.ChoiceField(
        label=_("What happened?"),
        choices=[(key, label) for key, (_type, label) in WHAT_HAPPENED.items()],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened."), "invalid_choice": CHOOSE},
    )
    child_in_danger_now = forms.BooleanField(
        label=_("A child is in danger right now"),
        required=False,
        help_text=_(
            "Your report will be handled first. Also call your local emergency number now."
        ),
    )
    # When
    incident_date = forms.DateField(
        label=_("When did it happen?"),
        help_text=_("An approximate date is fine."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Give a date, even an approximate one."),
            "invalid": DATE,
        },
    )
    when_details = text_field(
        _("More about when (optional)"),
        max_length=300,
        help_text=_("For example: “every evening for a week” or “around the end of March”."),
    )
    # Where online
    urls = UrlLinesField(
        label=_("Web addresses (optional)"),
        help_text=_("Addresses of pages or profiles, one a line. Do not link to images."),
        max_line_length=2083,
    )
    platform = text_field(
        _("App, game or website (optional)"),
        max_length=256,
        help_text=_("For example: a chat app."),
    )
    usernames = LinesField(
        label=_("Usernames or screen names (optional)"),
        help_text=_("One a line."),
        max_line_length=256,
    )
    emails = EmailLinesField(
        label=_("Email addresses involved (optional)"),
        help_text=_("One a line."),
        max_line_length=255,
    )
    phones = PhoneLinesField(
        label=_("Phone numbers involved (optional)"),
        help_text=_("One a line."),
        max_line_length=40,
    )
    # The child
    child_age = forms.IntegerField(
        label=_("About how old is the child? (optional)"),
        required=False,
        min_value=0,
        max_value=17,
        error_messages={
            "invalid": _("Enter an age in years, as a number."),
            "min_value": _("Enter an age from 0 to 17."),
            "max_value": _("Enter an age from 0 to 17."),
        },
    )
    child_country = country_field(_("Which country is the child in? (optional)"))
    child_place = text_field(_("Town or region where the child may be (optional)"), max_length=255)
    # The person responsible
    suspect_name = text_field(_("Their name, if you know it (optional)"), max_length=100)
    suspect_country = country_field(_("Which country are they in? (optional)"))
    suspect_ip_address = forms.GenericIPAddressField(
        label=_("Their IP address, if you know it (optional)"),
        required=False,
        error_messages={"invalid": _("Enter an IP address, such as 81.2.69.160.")},
    )
    # Where you are, and what you saw
    country = country_field(_("Which country are you in? (optional)"))
    description = text_field(
        _("Tell us what you saw"),
        max_length=20_000,
        rows=6,
        help_text=_(
            "Describe it in words: where it was, who was involved, what was said. "
            "Do not paste or attach any images."
        ),
    )
    # Contact (anonymous unless filled in)
    reporter_name = text_field(_("Your name"), max_length=100)
    reporter_email = forms.EmailField(
        label=_("Your email"),
        required=False,
        max_length=254,
        validators=[printable_text],
        error_messages={
            "invalid": _("Enter an email address, such as name@example.com."),
            "max_length": TOO_LONG,
        },
    )
    reporter_phone = forms.CharField(
        label=_("Your phone number"),
        required=False,
        max_length=40,
        error_messages={"max_length": TOO_LONG},
        validators=[validate_phone],
    )
    # Left empty by people (it is hidden from them); filled in by form-filling robots.
    homepage = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    SECTIONS = [
        (_("What happened"), ["what_happened", "child_in_danger_now"]),
        (_("When"), ["incident_date", "when_details"]),
        (_("Where online"), ["urls", "platform", "usernames", "emails", "phones"]),
        (_("The child"), ["child_age", "child_country", "child_place"]),
        (
            _("The person responsible, if you know"),
            ["suspect_name", "suspect_country", "suspect_ip_address"],
        ),
        (_("You and what you saw"), ["country", "description"]),
    ]
    CONTACT = ["reporter_name", "reporter_email", "reporter_phone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = country_choices()
        for name, not_given in COUNTRY_NOT_GIVEN.items():
            self.fields[name].choices = [("", not_given), *countries]  # type: ignore[attr-defined]

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def contact_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.CONTACT]

    def clean_incident_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["incident_date"]
        if value > timezone.localdate():
            raise ValidationError(_("This date cannot be in the future."), code="future")
        return value

    def clean_homepage(self) -> str:
        if self.cleaned_data["homepage"]:
            raise ValidationError(_("Leave this empty."), code="honeypot")
        return ""

    def report_document(self) -> dict[str, Any]:
        """The report as a CyberTipline document, the shape every report is kept in."""
        data = self.cleaned_data
        incident_type, _label = WHAT_HAPPENED[data["what_happened"]]
        # Noon UTC of the given day, or now if that is still to come today.
        day = dt.datetime.combine(data["incident_date"], dt.time(12), tzinfo=dt.UTC)
        summary: dict[str, Any] = {
            "incidentType": incident_type.value,
            "incidentDateTime": min(day, timezone.now()).isoformat(),
            "incidentDateTimeDescription": " ".join(
                ["The reporter gave an approximate date.", data["when_details"]]
            ).strip(),
        }
        if data["platform"]:
            summary["platform"] = data["platform"]
        if data["child_in_danger_now"]:
            summary["escalateToHighPriority"] = PUBLIC_DANGER_NOW
        document: dict[str, Any] = {
            "incidentSummary": summary,
            "reporter": {"reportingPerson": self._reporting_person()},
        }
        if data["urls"]:
            document["internetDetails"] = [{"webPageIncident": {"url": data["urls"]}}]
        suspects = self._suspects()
        if suspects:
            document["personOrUserReported"] = suspects
        victim = self._victim()
        if victim:
            document["victim"] = [victim]
        if data["description"]:
            document["additionalInfo"] = data["description"]
        return validated_document(serializer_for(schema.REPORT), document)

    def _reporting_person(self) -> dict[str, Any]:
        data = self.cleaned_data
        person: dict[str, Any] = {}
        if data["reporter_name"]:
            person["firstName"] = data["reporter_name"]
        if data["reporter_email"]:
            person["email"] = [{"value": data["reporter_email"]}]
        if data["reporter_phone"]:
            person["phone"] = [{"value": data["reporter_phone"]}]
        if data["country"]:
            person["address"] = [{"country": data["country"]}]
        return person

    def _suspects(self) -> list[dict[str, Any]]:
        """The person responsible (name, emails, phones, IP address, country) with the
        first username; each further username as an account of its own."""
        data = self.cleaned_data
        person: dict[str, Any] = {}
        if data["suspect_name"]:
            person["firstName"] = data["suspect_name"]
        if data["emails"]:
            person["email"] = [{"value": email} for email in data["emails"]]
        if data["phones"]:
            person["phone"] = [{"value": phone} for phone in data["phones"]]
        first: dict[str, Any] = {}
        if person:
            first["personOrUserReportedPerson"] = person
        usernames = data["usernames"]
        if usernames:
            first["screenName"] = usernames[0]
        if data["suspect_ip_address"]:
            first["ipCaptureEvent"] = [{"ipAddress": data["suspect_ip_address"]}]
        if data["suspect_country"]:
            first["estimatedLocation"] = {"countryCode": data["suspect_country"]}
        others = [{"screenName": name} for name in usernames[1:]]
        return [first, *others] if first else others

    def _victim(self) -> dict[str, Any]:
        data = self.cleaned_data
        person: dict[str, Any] = {}
        if data["child_age"] is not None:
            person["age"] = data["child_age"]
        victim: dict[str, Any] = {"victimPerson": person}
        if data["child_country"]:
            victim["estimatedLocation"] = {"countryCode": data["child_country"]}
            if data["child_place"]:
                victim["estimatedLocation"]["city"] = data["child_place"]
        elif data["child_place"]:
            victim["additionalInfo"] = f"Where the child may be: {data['child_place']}"
        return victim if len(victim) > 1 or person else {}


RECEIPT_CODE = re.compile(r"^[0-9]{16}$")


class StatusLookupForm(forms.Form):
    report_number = forms.IntegerField(
        label=_("Report number"),
        min_value=1,
        max_value=2**63 - 1,  # a bigint: larger numbers name no report
        error_messages={
            "required": REQUIRED,
            "invalid": _("Enter the report number, as a number."),
            "min_value": _("Enter the report number, as a number."),
            "max_value": _("Enter the report number, as a number."),
        },
    )
    receipt_code = forms.CharField(
        label=_("Receipt code"),
        help_text=_("The 16 digits you were shown when you sent the report."),
        max_length=40,
        error_messages={"required": REQUIRED, "max_length": TOO_LONG},
    )

    def clean_receipt_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["receipt_code"])
        if not RECEIPT_CODE.match(code):
            raise ValidationError(_("A receipt code is 16 digits."), code="invalid")
        return code


class AdditionForm(StatusLookupForm):
    text = forms.CharField(
        label=_("What would you like to add?"),
        help_text=_("Do not paste or attach any images."),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        validators=[printable_text, no_media],
        error_messages={
            "required": REQUIRED,
            "max_length": TOO_LONG,
        },
    )
