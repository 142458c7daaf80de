import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from intake.examples import EXAMPLE_FILE, EXAMPLE_REPORT
from intake.models import IncidentType, IpCaptureEvent, Report, ReportedFile
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


# Files, retraction and the rest of the lifecycle ------------------------------------------


def open_report(client: APIClient) -> int:
    response = client.post(REPORTS_URL, report_body(), format="json")
    assert response.status_code == 201, response.json()
    return int(response.json()["reportId"])


def test_a_full_report_with_files_round_trips_through_the_json_api(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    opened = api_client.post(REPORTS_URL, EXAMPLE_REPORT, format="json")
    assert opened.status_code == 201, opened.json()
    report_id = opened.json()["reportId"]

    added = api_client.post(f"{REPORTS_URL}/{report_id}/files", EXAMPLE_FILE, format="json")
    assert added.status_code == 201, added.json()
    file_id = added.json()["fileId"]
    assert re.fullmatch(r"[0-9a-f]{32}", file_id)
    with django_capture_on_commit_callbacks(execute=True):
        finished = api_client.post(f"{REPORTS_URL}/{report_id}/finish")
    assert finished.json()["fileIds"] == [file_id]

    shown = api_client.get(f"{REPORTS_URL}/{report_id}").json()
    assert shown["report"] == EXAMPLE_REPORT
    assert shown["files"][0]["fileDetails"] == EXAMPLE_FILE
    assert (shown["files"][0]["md5"], shown["files"][0]["sha256"]) == (
        "0" * 31 + "1",
        "0" * 63 + "3",
    )
    file = ReportedFile.objects.get(file_id=file_id)
    assert (file.source, file.media_type, file.mime_type) == ("metadata", "image", "image/jpeg")
    assert Referral.objects.filter(report_id=report_id).count() == 1


def test_a_retracted_report_takes_no_files_and_cannot_be_finished(api_client: APIClient) -> None:
    report_id = open_report(api_client)

    retracted = api_client.post(f"{REPORTS_URL}/{report_id}/retract")
    assert retracted.json() == {"reportId": report_id, "status": "retracted"}

    assert (
        api_client.post(f"{REPORTS_URL}/{report_id}/files", EXAMPLE_FILE, format="json").json()[
            "code"
        ]
        == "already_retracted"
    )
    assert (
        api_client.post(f"{REPORTS_URL}/{report_id}/finish").json()["code"] == "already_retracted"
    )
    assert api_client.post(f"{REPORTS_URL}/{report_id}/retract").status_code == 409
    assert not ReportedFile.objects.exists()


def test_a_finished_report_cannot_be_retracted_or_given_files(api_client: APIClient) -> None:
    report_id = open_report(api_client)
    api_client.post(f"{REPORTS_URL}/{report_id}/finish")

    retract = api_client.post(f"{REPORTS_URL}/{report_id}/retract")
    add = api_client.post(f"{REPORTS_URL}/{report_id}/files", EXAMPLE_FILE, format="json")

    assert (retract.status_code, retract.json()["code"]) == (409, "already_finished")
    assert (add.status_code, add.json()["code"]) == (409, "already_finished")
    assert Report.objects.get(pk=report_id).status == Report.Status.FINISHED


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"originalFileHash": [{"value": "abc", "hashType": "MD5"}]},
            "originalFileHash.0",
            "32 hexadecimal",
        ),
        (
            {"originalFileHash": [{"value": "z" * 64, "hashType": "SHA256"}]},
            "originalFileHash.0",
            "64 hexadecimal",
        ),
        (
            {"originalFileHash": [{"value": "a" * 64, "hashType": "PDQ"}]},
            "originalFileHash",
            "at least one MD5",
        ),
        ({"originalFileHash": []}, "originalFileHash", "at least one MD5"),
        ({"fileRelevance": "Important"}, "fileRelevance", "not a valid choice"),
        ({"industryClassification": "Z9"}, "industryClassification", "not a valid choice"),
        ({"fileBytes": "aGVsbG8="}, "fileBytes", "not part of the schema"),
    ],
    ids=[
        "short-md5",
        "non-hex-sha256",
        "pdq-only",
        "no-hashes",
        "bad-relevance",
        "bad-class",
        "bytes-field",
    ],
)
def test_bad_file_metadata_is_refused_naming_the_field(
    api_client: APIClient, change: dict[str, Any], field: str, reason: str
) -> None:
    report_id = open_report(api_client)

    response = api_client.post(
        f"{REPORTS_URL}/{report_id}/files", {**EXAMPLE_FILE, **change}, format="json"
    )

    assert response.status_code == 400
    assert reason in " ".join(response.json()["fields"][field])
    assert not ReportedFile.objects.exists()


def test_files_without_a_json_body_describe_nothing(api_client: APIClient) -> None:
    report_id = open_report(api_client)

    response = api_client.post(f"{REPORTS_URL}/{report_id}/files", {}, format="json")

    assert response.status_code == 400
    assert "originalFileHash" in response.json()["fields"]


# Hostile and malformed input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ", "additionalInfo"),
        ("A" * 2000, "additionalInfo"),
    ],
    ids=["data-uri", "base64-blob"],
)
def test_text_that_carries_media_is_refused_saying_why(
    api_client: APIClient, value: str, field: str
) -> None:
    response = api_client.post(REPORTS_URL, {**report_body(), field: value}, format="json")

    assert response.status_code == 400
    assert "never the file" in " ".join(response.json()["fields"][field])
    assert not Report.objects.exists()


def test_a_multipart_upload_to_the_json_api_is_refused_saying_why(api_client: APIClient) -> None:
    response = api_client.post(
        REPORTS_URL,
        {"file": SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0synthetic")},
        format="multipart",
    )

    assert response.status_code == 415
    assert response.json()["code"] == "media_not_accepted"
    assert "hashes" in response.json()["message"]
    assert not Report.objects.exists()


def test_a_body_over_the_limit_is_413_before_it_is_read(
    api_client: APIClient, settings: Any
) -> None:
    settings.API_MAX_BODY_BYTES = 1000

    response = api_client.post(
        REPORTS_URL, {**report_body(), "additionalInfo": "x " * 1000}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_invalid_utf8_is_a_parse_error(api_client: APIClient) -> None:
    response = api_client.post(
        REPORTS_URL, b'{"additionalInfo": "\xff\xfe"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"incidentSummary": "Child Sex Tourism"}, "incidentSummary"),
        (
            {
                "incidentSummary": {
                    "incidentType": ["Child Sex Tourism"],
                    "incidentDateTime": "2026-01-01T00:00:00Z",
                }
            },
            "incidentSummary.incidentType",
        ),
        (
            {
                **report_body(),
                "personOrUserReported": [
                    {"ipCaptureEvent": [{"ipAddress": "81.2.69.160", "port": "eighty"}]}
                ],
            },
            "personOrUserReported.0.ipCaptureEvent.0.port",
        ),
        (
            {
                **report_body(),
                "personOrUserReported": [
                    {"ipCaptureEvent": [{"ipAddress": "81.2.69.160", "eventName": "Teleport"}]}
                ],
            },
            "personOrUserReported.0.ipCaptureEvent.0.eventName",
        ),
        (
            {**report_body(), "internetDetails": [{"webPageIncident": {}, "emailIncident": {}}]},
            "internetDetails.0",
        ),
        (
            {
                **report_body(),
                "internetDetails": [{"webPageIncident": {"url": ["javascript:alert(1)"]}}],
            },
            "internetDetails.0.webPageIncident.url.0",
        ),
        (
            {**report_body(), "reporter": {"reportingPerson": {"firstName": "No Email"}}},
            "reporter.reportingPerson.email",
        ),
        ([report_body()], "non_field_errors"),
    ],
    ids=[
        "string-for-object",
        "list-for-string",
        "string-for-int",
        "unknown-enum",
        "two-incident-kinds",
        "script-url",
        "no-reporter-email",
        "list-body",
    ],
)
def test_wrong_types_and_values_are_refused_naming_the_field(
    api_client: APIClient, body: Any, field: str
) -> None:
    response = api_client.post(REPORTS_URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert not Report.objects.exists()


def test_injection_strings_are_stored_as_text_and_change_nothing(api_client: APIClient) -> None:
    hostile = "'; DROP TABLE intake_report; -- <script>alert(1)</script> {{7*7}} ${jndi:ldap://x}"
    body = report_body()
    body["personOrUserReported"]["screenName"] = hostile

    report_id = api_client.post(REPORTS_URL, body, format="json").json()["reportId"]

    shown = api_client.get(f"{REPORTS_URL}/{report_id}").json()
    assert shown["report"]["personOrUserReported"][0]["screenName"] == hostile
    assert Report.objects.count() == 1
