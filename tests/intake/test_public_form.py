"""The public pages, through Django's test client: what the form asks, the document it
makes, the receipt code, the status page, and everything it refuses."""

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from config import gunicorn
from intake.forms import WHAT_HAPPENED
from intake.models import IncidentType, IpCaptureEvent, PublicReceipt, Report, ReportAddition
from intake.receipts import receipt_code_hash
from routing.models import Referral
from tests.factories import IP_BY_COUNTRY, ReportFactory

pytestmark = pytest.mark.django_db

FORM_URL = "/report/"
STATUS_URL = "/report/status/"


def form_data(**changes: str) -> dict[str, str]:
    return {
        "what_happened": "enticement",
        "incident_date": "2026-03-04",
        "description": "An adult asked a child for pictures in a game chat on example.com.",
        "country": "DE",
        **changes,
    }


def sent(client: Client, **changes: str) -> tuple[Report, str]:
    """Sends a report; returns it and the receipt code shown (digits only)."""
    page = client.post(FORM_URL, form_data(**changes))
    assert page.status_code == 200, page.content.decode()[:2000]
    code = re.search(r'id="receipt-code" class="code">([0-9 ]+)<', page.content.decode())
    assert code is not None
    return Report.objects.get(), code.group(1).replace(" ", "")


def test_form_asks_in_plain_words_and_has_no_upload_field(
    client: Client, reference_data: None
) -> None:
    page = client.get(FORM_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="file"' not in html
    assert "multipart" not in html
    assert "Do not attach, paste or link to any images" in html
    assert '<option value="DE">Germany</option>' in html
    for legend in ("What happened", "When", "Where online", "The child", "Your contact details"):
        assert f"<legend>{legend}" in html
    # Each plain-language choice is one of the eight incident types, each type once.
    assert sorted(t for t, _label in WHAT_HAPPENED.values()) == sorted(IncidentType)
    assert html.count('name="what_happened"') == len(IncidentType)


def test_every_public_page_is_private_and_loads_nothing_from_elsewhere(
    client: Client, reference_data: None
) -> None:
    for url in ("/", FORM_URL, STATUS_URL):
        page = client.get(url)
        assert "no-store" in page["Cache-Control"], url
        # Every src and href is a path on this site (or a fragment).
        for link in re.findall(r'(?:src|href|action)="([^"]*)"', page.content.decode()):
            assert link.startswith(("/", "#")), (url, link)


def test_anonymous_public_report_is_saved_routed_and_given_a_receipt_code(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report, code = sent(client)

    assert (report.source, report.status, report.provider) == ("public", "finished", None)
    assert report.incident_type == IncidentType.ONLINE_ENTICEMENT
    assert report.reporter_name == report.reporter_email == ""
    assert report.stated_country == "DE"
    assert Referral.objects.get(report=report).agency.code == "direct-de"
    # 16 digits, shown once; only a keyed hash of them is kept.
    assert re.fullmatch(r"[0-9]{16}", code)
    receipt = PublicReceipt.objects.get(report=report)
    assert receipt.code_hash == receipt_code_hash(code) != code
    assert code not in str(report.document)


def test_the_form_makes_a_cybertipline_document_of_every_section(
    client: Client, reference_data: None
) -> None:
    report, _code = sent(
        client,
        when_details="every evening for a week",
        urls="https://example.com/profile/1\n\nhttps://example.com/chat/2",
        platform="a chat app",
        usernames="first-name\nsecond-name",
        emails="someone@example.com",
        phones="+44 20 7946 0000",
        child_age="13",
        child_country="AT",
        child_place="Graz",
        suspect_name="Sam",
        suspect_country="AT",
        suspect_ip_address=IP_BY_COUNTRY["GB"],
        reporter_email="parent@example.com",
    )

    document = report.document
    summary = document["incidentSummary"]
    assert summary["incidentType"] == IncidentType.ONLINE_ENTICEMENT.value
    assert summary["incidentDateTime"].startswith("2026-03-04T12:00:00")
    assert "every evening for a week" in summary["incidentDateTimeDescription"]
    assert summary["platform"] == "a chat app"
    assert document["internetDetails"] == [
        {
            "webPageIncident": {
                "url": ["https://example.com/profile/1", "https://example.com/chat/2"]
            }
        }
    ]
    first, second = document["personOrUserReported"]
    assert first["screenName"] == "first-name"
    assert second == {"screenName": "second-name"}
    assert first["personOrUserReportedPerson"]["email"] == [{"value": "someone@example.com"}]
    assert first["personOrUserReportedPerson"]["phone"] == [{"value": "+44 20 7946 0000"}]
    assert first["estimatedLocation"] == {"countryCode": "AT"}
    assert document["victim"] == [
        {"victimPerson": {"age": 13}, "estimatedLocation": {"countryCode": "AT", "city": "Graz"}}
    ]
    assert report.reporter_email == "parent@example.com"
    assert IpCaptureEvent.objects.get(report=report).ip_address == IP_BY_COUNTRY["GB"]


def test_a_date_given_for_today_is_never_in_the_future(
    client: Client, reference_data: None
) -> None:
    report, _code = sent(client, incident_date=timezone.localdate().isoformat())

    assert report.incident_datetime <= timezone.now()


def test_an_ip_address_in_the_form_outweighs_the_stated_country(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent(client, suspect_ip_address=IP_BY_COUNTRY["PK"])

    report = Report.objects.get()
    assert report.resolved_country == "PK"
    assert Referral.objects.get(report=report).agency.code == "attache-pk"


def test_where_the_child_and_the_suspect_are_count_more_than_where_the_reporter_is(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent(client, country="DE", child_country="AT", suspect_country="AT")

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


BASE64_BLOB = "QUJD" * 300


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"what_happened": ""}, "what_happened", "Choose what happened."),
        ({"what_happened": "Child Sex Tourism"}, "what_happened", "Choose one of the options"),
        ({"incident_date": "yesterday-ish"}, "incident_date", "Enter a date"),
        (
            {"incident_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
            "incident_date",
            "cannot be in the future",
        ),
        ({"suspect_ip_address": "300.1.2.3"}, "suspect_ip_address", "Enter an IP address"),
        ({"country": "ZZ"}, "country", "Choose one of the options"),
        ({"child_age": "40"}, "child_age", "from 0 to 17"),
        ({"urls": "example.com/no-scheme"}, "urls", "is not a web address"),
        ({"urls": "javascript:alert(1)"}, "urls", "is not a web address"),
        ({"emails": "not-an-email"}, "emails", "is not an email address"),
        ({"phones": "call me maybe"}, "phones", "is not a phone number"),
        ({"usernames": "\n".join(f"u{n}" for n in range(21))}, "usernames", "at most 20"),
        ({"description": "x" * 20_001}, "description", "at most 20000 characters"),
        (
            {"description": "see data:image/png;base64,iVBORw0KGgo="},
            "description",
            "do not send files or images",
        ),
        ({"description": BASE64_BLOB}, "description", "do not send files or images"),
        ({"urls": "data:image/jpeg;base64,/9j/4AAQ"}, "urls", "do not send files or images"),
        ({"platform": "x" * 257}, "platform", "at most 256"),
        ({"homepage": "http://spam.example.com"}, "homepage", "Leave this empty."),
    ],
    ids=[
        "missing-type",
        "incident-type-instead-of-choice",
        "malformed-date",
        "future-date",
        "bad-ip",
        "bad-country",
        "adult-age",
        "url-without-scheme",
        "javascript-url",
        "bad-email",
        "bad-phone",
        "too-many-usernames",
        "description-too-long",
        "data-uri",
        "base64-blob",
        "data-uri-as-url",
        "long-platform",
        "honeypot",
    ],
)
def test_bad_form_input_is_refused_naming_the_field(
    client: Client, reference_data: None, changes: dict[str, str], field: str, message: str
) -> None:
    page = client.post(FORM_URL, form_data(**changes))

    assert page.status_code == 400
    assert list(page.context["form"].errors) == [field]
    assert message in " ".join(page.context["form"].errors[field])
    html = page.content.decode()
    assert "Please correct the following" in html
    assert f'href="#id_{field}"' in html  # the summary links to the field
    assert not Report.objects.exists()


def test_a_body_larger_than_the_limit_is_refused(
    client: Client, reference_data: None, settings: Any
) -> None:
    settings.PUBLIC_FORM_MAX_BYTES = 10_000
    page = client.post(FORM_URL, form_data(description="x" * 12_000))

    assert page.status_code == 413
    assert "too long to be accepted" in page.content.decode()
    assert not Report.objects.exists()


def test_reports_from_one_client_are_limited_with_a_friendly_page(
    client: Client, reference_data: None, settings: Any
) -> None:
    settings.PUBLIC_REPORTS_PER_HOUR = 2
    assert client.post(FORM_URL, form_data()).status_code == 200
    assert client.post(FORM_URL, form_data()).status_code == 200

    page = client.post(FORM_URL, form_data())

    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "Please wait a little" in page.content.decode()
    assert Report.objects.count() == 2
    # Another address is another client.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(FORM_URL, form_data()).status_code == 200


def test_the_client_is_known_by_a_keyed_hash_never_its_address(
    client: Client, reference_data: None
) -> None:
    client.post(FORM_URL, form_data(), REMOTE_ADDR="192.0.2.44")

    keys = list(cache._cache.keys())  # type: ignore[attr-defined]
    assert keys
    assert not any("192.0.2.44" in key for key in keys)
    report = Report.objects.get()
    assert "192.0.2.44" not in str(report.document)
    assert not IpCaptureEvent.objects.exists()


def status_of(client: Client, report: Report, code: str, **extra: str) -> Any:
    return client.post(STATUS_URL, {"report_number": str(report.pk), "receipt_code": code, **extra})


def test_the_reporter_sees_the_status_but_never_the_agency(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report, code = sent(client)
    grouped = " ".join(code[n : n + 4] for n in range(0, 16, 4))

    page = status_of(client, report, grouped)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Made available to law enforcement." in html
    assert "direct-de" not in html
    assert "Germany national police" not in html
    assert "no-store" in page["Cache-Control"]


def test_a_report_still_with_the_analysts_is_being_reviewed(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report, code = sent(client, country="")  # nowhere to route it: analysts

    assert "Being reviewed by staff." in status_of(client, report, code).content.decode()


def test_the_reporter_adds_information_to_the_report(client: Client, reference_data: None) -> None:
    report, code = sent(client)

    page = status_of(client, report, code, text="The account also posted on example.com/b.")

    assert page.status_code == 200
    assert "Your information was added to the report." in page.content.decode()
    assert ReportAddition.objects.get(report=report).text == (
        "The account also posted on example.com/b."
    )
    refused = status_of(client, report, code, text="data:image/png;base64,iVBORw0KGgo=")
    assert refused.status_code == 400
    assert ReportAddition.objects.count() == 1


@pytest.mark.parametrize(
    "code",
    ["0000000000000000", "123", "", "abcdabcdabcdabcd"],
    ids=["wrong", "short", "empty", "letters"],
)
def test_a_wrong_or_malformed_code_shows_nothing_and_adds_nothing(
    client: Client, reference_data: None, code: str
) -> None:
    report, _code = sent(client)

    page = status_of(client, report, code, text="Let me in.")

    assert page.status_code in (400, 404)
    assert "Made available" not in page.content.decode()
    assert not ReportAddition.objects.exists()


def test_wrong_codes_are_limited_per_client_even_with_the_right_one_after(
    client: Client, reference_data: None, settings: Any
) -> None:
    settings.PUBLIC_STATUS_FAILURES_PER_HOUR = 3
    report, code = sent(client)
    for _attempt in range(3):
        assert status_of(client, report, "1" * 16).status_code == 404

    page = status_of(client, report, code)

    assert page.status_code == 429
    assert "Please wait a little" in page.content.decode()


def test_wrong_codes_for_one_report_are_limited_across_clients(
    client: Client, reference_data: None, settings: Any
) -> None:
    settings.PUBLIC_STATUS_FAILURES_PER_REPORT_PER_DAY = 4
    report, code = sent(client)
    for number in range(4):
        guesser = Client(REMOTE_ADDR=f"198.51.100.{number + 1}")
        assert status_of(guesser, report, f"{number:016d}").status_code == 404

    assert status_of(Client(REMOTE_ADDR="198.51.100.99"), report, code).status_code == 429


def test_a_provider_report_has_no_public_status(
    client: Client, provider: Any, reference_data: None
) -> None:
    report = ReportFactory.create(
        source=Report.Source.PROVIDER, provider=provider.provider, finished=True
    )
    PublicReceipt.objects.create(report=report, code_hash=receipt_code_hash("1" * 16))

    assert status_of(client, report, "1" * 16).status_code == 404


def test_behind_our_own_proxy_the_client_is_the_address_it_saw(
    client: Client, reference_data: None, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PUBLIC_REPORTS_PER_HOUR = 1

    def sent_through_the_proxy(forwarded_for: str) -> int:
        page = client.post(
            FORM_URL, form_data(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for
        )
        return page.status_code

    assert sent_through_the_proxy("203.0.113.1") == 200
    # A client cannot pass as another by writing its own X-Forwarded-For entry.
    assert sent_through_the_proxy("198.51.100.5, 203.0.113.1") == 429
    assert sent_through_the_proxy("203.0.113.2") == 200


def test_the_web_server_access_log_leaves_out_client_addresses() -> None:
    assert "%(h)s" not in gunicorn.access_log_format
    assert "%({x-forwarded-for}i)s" not in gunicorn.access_log_format.lower()


def test_a_file_larger_than_the_form_allows_is_refused_before_it_is_read(
    client: Client, reference_data: None, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PUBLIC_FORM_MAX_BYTES = 10_000
    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 20_000)

    page = client.post(FORM_URL, {**form_data(), "photo": photo})

    assert page.status_code == 413
    assert "too long to be accepted" in page.content.decode()
    assert not Report.objects.exists()


def test_made_available_to_law_enforcement_only_once_delivered(
    client: Client, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report, code = sent(client)
    Referral.objects.filter(report=report).update(
        status="pending", delivered_at=None, next_attempt_at=timezone.now()
    )

    page = status_of(client, report, code)

    assert "Received. Staff will review it." in page.content.decode()
