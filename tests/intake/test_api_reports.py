import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import IncidentType, IpCaptureEvent, Report
from routing.models import Referral
from tests.conftest import api_client_for
from tests.factories import IP_BY_COUNTRY

pytestmark = pytest.mark.django_db

REPORTS_URL = "/api/v1/reports"


def report_body(**summary: Any) -> dict[str, Any]:
    return {
        "incidentSummary": {
            "incidentType": IncidentType.CHILD_PORNOGRAPHY.value,
            "incidentDateTime": "2026-01-02T03:04:05Z",
            **summary,
        },
        "personOrUserReported": {
            "ipCaptureEvent": [
                {"ipAddress": IP_BY_COUNTRY["GB"], "eventName": "Upload", "possibleProxy": False}
            ]
        },
        "additionalInfo": "Synthetic report.",
    }


def test_provider_opens_finishes_and_reads_its_report(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    opened = api_client.post(REPORTS_URL, report_body(), format="json")
    assert opened.status_code == 201, opened.json()
    report_id = opened.json()["reportId"]
    assert isinstance(report_id, int)
    assert opened.json()["status"] == "open"

    report = Report.objects.get(pk=report_id)
    assert report.source == Report.Source.PROVIDER
    assert report.provider is not None
    assert report.provider.name == "Example Chat"
    assert report.incident_datetime == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    event = IpCaptureEvent.objects.get(report=report)
    assert (event.ip_address, event.event_name, event.possible_proxy) == (
        IP_BY_COUNTRY["GB"],
        "Upload",
        False,
    )
    assert not Referral.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        finished = api_client.post(f"{REPORTS_URL}/{report_id}/finish")
    assert finished.status_code == 200
    assert finished.json() == {"reportId": report_id, "status": "finished", "fileIds": []}

    shown = api_client.get(f"{REPORTS_URL}/{report_id}")
    assert shown.status_code == 200
    assert shown.json()["status"] == "finished"
    assert (
        shown.json()["report"]["incidentSummary"]["incidentType"] == IncidentType.CHILD_PORNOGRAPHY
    )
    # Providers never see where their report resolved or who received it.
    assert "country" not in str(shown.json()).lower()

    referral = Referral.objects.select_related("agency").get(report_id=report_id)
    assert referral.agency.code == "direct-gb"


def test_finishing_a_report_twice_is_a_conflict(api_client: APIClient) -> None:
    report_id = api_client.post(REPORTS_URL, report_body(), format="json").json()["reportId"]
    assert api_client.post(f"{REPORTS_URL}/{report_id}/finish").status_code == 200

    again = api_client.post(f"{REPORTS_URL}/{report_id}/finish")

    assert again.status_code == 409
    assert again.json()["code"] == "already_finished"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda body: body["incidentSummary"].pop("incidentType"), "incidentType", "required"),
        (
            lambda body: body["incidentSummary"].update(incidentType="Something Else"),
            "incidentType",
            "not a valid choice",
        ),
        (
            lambda body: body["incidentSummary"].update(incidentDateTime="last tuesday"),
            "incidentDateTime",
            "wrong format",
        ),
        (
            lambda body: body["incidentSummary"].update(
                incidentDateTime=(timezone.now() + dt.timedelta(hours=1)).isoformat()
            ),
            "incidentDateTime",
            "future",
        ),
        (lambda body: body["incidentSummary"].pop("incidentDateTime"), "incidentDateTime", ""),
    ],
    ids=["missing-type", "unknown-type", "malformed-date", "future-date", "missing-date"],
)
def test_bad_incident_summary_is_refused_naming_the_field(
    api_client: APIClient, change: Any, field: str, reason: str
) -> None:
    body = report_body()
    change(body)

    response = api_client.post(REPORTS_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [f"incidentSummary.{field}"]
    assert reason in " ".join(error["fields"][f"incidentSummary.{field}"])
    assert not Report.objects.exists()


@pytest.mark.parametrize("bad_ip", ["999.1.1.1", "not-an-ip", "81.2.69", "", "<script>"])
def test_malformed_ip_address_is_refused_naming_the_event(
    api_client: APIClient, bad_ip: str
) -> None:
    body = report_body()
    body["personOrUserReported"]["ipCaptureEvent"].append({"ipAddress": bad_ip})

    response = api_client.post(REPORTS_URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["personOrUserReported.0.ipCaptureEvent.1.ipAddress"]
    assert not Report.objects.exists()
    assert not IpCaptureEvent.objects.exists()


def test_unknown_country_code_is_refused(api_client: APIClient) -> None:
    body = report_body()
    body["personOrUserReported"]["estimatedLocation"] = {"countryCode": "XX"}

    response = api_client.post(REPORTS_URL, body, format="json")

    assert response.status_code == 400
    assert "personOrUserReported.0.estimatedLocation.countryCode" in response.json()["fields"]


def test_a_body_that_is_not_json_is_refused(api_client: APIClient) -> None:
    response = api_client.post(REPORTS_URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "authorization", [None, "Token not-a-real-token", "Bearer abc", "Token a b", "Token"]
)
def test_missing_or_wrong_token_is_401(provider: Any, authorization: str | None) -> None:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.post(REPORTS_URL, report_body(), format="json")

    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}
    assert response["WWW-Authenticate"] == "Token"
    assert not Report.objects.exists()


def test_another_providers_report_is_answered_like_one_that_does_not_exist(
    api_client: APIClient, other_provider: Any
) -> None:
    report_id = api_client.post(REPORTS_URL, report_body(), format="json").json()["reportId"]
    stranger = api_client_for(other_provider)
    missing_id = report_id + 1000

    for method, suffix in [("get", ""), ("post", "/finish")]:
        theirs = getattr(stranger, method)(f"{REPORTS_URL}/{report_id}{suffix}")
        missing = getattr(stranger, method)(f"{REPORTS_URL}/{missing_id}{suffix}")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()

    assert Report.objects.get(pk=report_id).status == Report.Status.OPEN
