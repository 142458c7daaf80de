import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from rest_framework.test import APIClient

from intake.authentication import token_hash
from intake.models import ApiToken, Provider
from routing.services import report_route
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportFactory

pytestmark = pytest.mark.django_db


def run_command(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_provider_prints_credentials_once_and_stores_only_hashes() -> None:
    printed = json.loads(run_command("create_provider", "Example Video Site"))

    assert set(printed) == {"provider", "username", "password", "token"}
    assert printed["provider"] == "Example Video Site"
    provider = Provider.objects.get(name="Example Video Site")
    assert provider.user.username == printed["username"]
    # The password works, and is stored only as a salted hash.
    assert (
        authenticate(HttpRequest(), username=printed["username"], password=printed["password"])
        == provider.user
    )
    assert printed["password"] not in provider.user.password
    # The token works on the API, and is stored only as its SHA-256.
    stored = ApiToken.objects.get(user=provider.user)
    assert stored.key_hash == token_hash(printed["token"]) != printed["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {printed['token']}")
    assert client.get("/api/v1/reports/1").status_code == 404  # authenticated, no such report


def test_create_provider_refuses_a_name_that_exists() -> None:
    run_command("create_provider", "Example Chat")

    with pytest.raises(CommandError, match="already exists"):
        run_command("create_provider", "Example Chat")
    assert Provider.objects.count() == 1


def test_report_show_prints_the_triage_record(reference_data: None) -> None:
    report = ReportFactory.create(finished=True)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY["AF"])
    report_route(report_id=report.pk)

    record = json.loads(run_command("report_show", str(report.pk)))

    assert record["reportId"] == report.pk
    assert record["source"] == "public"
    assert record["status"] == "finished"
    assert record["incidentType"] == report.incident_type
    assert record["country"] == "AF"
    assert record["countryConfidence"] == "high"
    assert record["state"] is None
    assert [
        (item["value"], item["country"], item["weight"]) for item in record["locationEvidence"]
    ] == [(IP_BY_COUNTRY["AF"], "AF", 1.0)]
    assert [
        {key: referral[key] for key in ("agency", "country", "channel", "status")}
        for referral in record["referrals"]
    ] == [{"agency": "interpol-af", "country": "AF", "channel": "interpol", "status": "delivered"}]


def test_report_show_of_an_unknown_report_says_so() -> None:
    with pytest.raises(CommandError, match="Report 424242 does not exist"):
        run_command("report_show", "424242")
