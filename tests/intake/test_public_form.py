import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intake.models import IncidentType, IpCaptureEvent, Report
from routing.models import Referral
from tests.factories import IP_BY_COUNTRY

pytestmark = pytest.mark.django_db

FORM_URL = "/report/"


def form_data(**changes: str) -> dict[str, str]:
    return {
        "incident_type": IncidentType.ONLINE_ENTICEMENT.value,
        "incident_datetime": "2026-03-04T05:06",
        "description": "An adult asked a child for pictures in a game chat on example.com.",
        "country": "DE",
        "suspect_ip_address": "",
        **changes,
    }


def test_form_page_asks_for_words_and_has_no_upload_field(
    client: Client, reference_data: None
) -> None:
    page = client.get(FORM_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="file"' not in html
    assert "multipart" not in html
    assert "Do not attach, paste or link to any images" in html
    assert '<option value="DE">Germany</option>' in html


def test_anonymous_public_report_is_saved_and_routed_to_its_country(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(FORM_URL, form_data())

    assert page.status_code == 200
    report = Report.objects.get()
    assert f'id="report-number">{report.pk}<' in page.content.decode()
    assert (report.source, report.status, report.provider) == ("public", "finished", None)
    assert report.incident_type == IncidentType.ONLINE_ENTICEMENT
    assert report.reporter_name == report.reporter_email == ""
    assert report.stated_country == "DE"
    referral = Referral.objects.select_related("agency").get(report=report)
    assert referral.agency.code == "direct-de"


def test_an_ip_address_in_the_form_outweighs_the_stated_country(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(FORM_URL, form_data(suspect_ip_address=IP_BY_COUNTRY["PK"]))

    report = Report.objects.get()
    assert IpCaptureEvent.objects.get(report=report).ip_address == IP_BY_COUNTRY["PK"]
    assert report.resolved_country == "PK"
    assert Referral.objects.get(report=report).agency.code == "attache-pk"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"incident_type": ""}, "incident_type", "This field is required."),
        ({"incident_type": "Something Else"}, "incident_type", "Select a valid choice."),
        ({"incident_datetime": "yesterday-ish"}, "incident_datetime", "Enter a valid date/time."),
        (
            {
                "incident_datetime": (timezone.now() + dt.timedelta(days=2)).strftime(
                    "%Y-%m-%dT%H:%M"
                )
            },
            "incident_datetime",
            "cannot be in the future",
        ),
        ({"suspect_ip_address": "300.1.2.3"}, "suspect_ip_address", "valid IPv4 or IPv6"),
        ({"country": "ZZ"}, "country", "Select a valid choice."),
    ],
    ids=["missing-type", "unknown-type", "malformed-date", "future-date", "bad-ip", "bad-country"],
)
def test_bad_form_input_is_refused_naming_the_field(
    client: Client, reference_data: None, changes: dict[str, str], field: str, message: str
) -> None:
    page = client.post(FORM_URL, form_data(**changes))

    assert page.status_code == 400
    assert list(page.context["form"].errors) == [field]
    assert message in " ".join(page.context["form"].errors[field])
    assert "Please correct the fields marked below." in page.content.decode()
    assert not Report.objects.exists()


def test_where_the_child_and_the_suspect_are_count_more_than_where_the_reporter_is(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(FORM_URL, form_data(country="DE", child_country="AT", suspect_country="AT"))

    report = Report.objects.get()
    assert report.resolved_country == "AT"
    assert report.country_confidence == "medium"  # 1.5 of 2.0 points to AT
    sources = [item["source"] for item in report.location["evidence"]]
    assert sources == [
        "personOrUserReported[0].estimatedLocation",
        "victim[0].estimatedLocation",
        "reporter.reportingPerson.address[0] (where the reporter is)",
    ]
    assert Referral.objects.get(report=report).agency.code == "direct-at"
