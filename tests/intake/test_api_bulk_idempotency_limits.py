import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from intake.examples import EXAMPLE_FILE, EXAMPLE_REPORT
from intake.models import IdempotencyKey, Report, ReportedFile
from intake.services import ProviderCredentials
from intake.tasks import expire_unfinished_reports
from routing.models import Referral
from tests.conftest import api_client_for, require, run_concurrently, uses_postgresql
from tests.factories import ReportFactory
from tests.intake.test_api_reports import REPORTS_URL, report_body
from tests.intake.test_ispws import Ispws, answer
from tests.intake.xml_samples import MINIMAL_REPORT

pytestmark = pytest.mark.django_db

BULK_URL = f"{REPORTS_URL}/bulk"


# Bulk -----------------------------------------------------------------------------------


def test_bulk_accepts_the_good_items_and_names_the_errors_of_the_bad_in_input_order(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    bad = report_body(incidentType="Not A Type")
    with_file = {**report_body(), "files": [EXAMPLE_FILE]}
    items = [report_body(), bad, with_file, EXAMPLE_REPORT]

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(BULK_URL, {"reports": items}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 4
    assert list(results[1]) == ["errors"]
    assert "incidentSummary.incidentType" in results[1]["errors"]
    created = [results[i]["reportId"] for i in (0, 2, 3)]
    assert all(results[i]["status"] == "finished" for i in (0, 2, 3))
    assert sorted(created) == sorted(Report.objects.values_list("pk", flat=True))
    assert ReportedFile.objects.get().report_id == created[1]
    assert Report.objects.get(pk=created[2]).document == EXAMPLE_REPORT
    assert Referral.objects.filter(report_id__in=created).count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reports": []}, "reports"),
        ({"reports": [{}] * 1001}, "reports"),
        ({}, "reports"),
        ({"reports": [], "extra": 1}, "extra"),
    ],
    ids=["empty", "too-many", "missing", "unknown-key"],
)
def test_a_bulk_envelope_that_is_wrong_is_refused_whole(
    api_client: APIClient, body: Any, field: str
) -> None:
    response = api_client.post(BULK_URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Report.objects.exists()


# Idempotency ----------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_return_the_first_answer(api_client: APIClient) -> None:
    first = api_client.post(REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post(REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Report.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_409(api_client: APIClient) -> None:
    api_client.post(REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    other = api_client.post(
        REPORTS_URL,
        report_body(incidentType="Child Sex Tourism"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Report.objects.count() == 1


def test_idempotency_keys_belong_to_one_provider(
    api_client: APIClient, other_provider: ProviderCredentials
) -> None:
    api_client.post(REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="shared")

    theirs = api_client_for(other_provider).post(
        REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert theirs.status_code == 201
    assert Report.objects.count() == 2


def test_idempotency_covers_files_and_bulk(api_client: APIClient) -> None:
    report_id = api_client.post(REPORTS_URL, report_body(), format="json").json()["reportId"]
    files_url = f"{REPORTS_URL}/{report_id}/files"

    first = api_client.post(files_url, EXAMPLE_FILE, format="json", HTTP_IDEMPOTENCY_KEY="f")
    again = api_client.post(files_url, EXAMPLE_FILE, format="json", HTTP_IDEMPOTENCY_KEY="f")
    bulk = [
        api_client.post(
            BULK_URL, {"reports": [report_body()]}, format="json", HTTP_IDEMPOTENCY_KEY="b"
        )
        for _ in range(2)
    ]

    assert first.json() == again.json()
    assert ReportedFile.objects.count() == 1
    assert bulk[0].json() == bulk[1].json()
    assert Report.objects.count() == 2


def test_a_refused_request_does_not_use_up_its_key(api_client: APIClient) -> None:
    bad = api_client.post(
        REPORTS_URL, report_body(incidentType="nope"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    good = api_client.post(REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert (bad.status_code, good.status_code) == (400, 201)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_report(
    provider: ProviderCredentials,
) -> None:
    require(uses_postgresql(), "concurrent transactions need PostgreSQL (set DATABASE_URL)")
    responses = run_concurrently(
        lambda: api_client_for(provider).post(
            REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="race"
        ),
        threads=4,
    )

    assert [response.status_code for response in responses] == [201] * 4
    assert len({response.json()["reportId"] for response in responses}) == 1
    assert Report.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


# Rate limits ----------------------------------------------------------------------------


def test_over_the_rate_limit_is_429_with_retry_after(api_client: APIClient, settings: Any) -> None:
    settings.PROVIDER_RATE_LIMIT_PER_MINUTE = 3

    statuses = [api_client.get(f"{REPORTS_URL}/1").status_code for _ in range(4)]
    limited = api_client.post(REPORTS_URL, report_body(), format="json")

    assert statuses == [404, 404, 404, 429]
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert not Report.objects.exists()


def test_the_xml_interface_shares_the_rate_limit(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    settings.PROVIDER_RATE_LIMIT_PER_MINUTE = 2
    ispws = Ispws(client, provider.username, provider.password)

    replies = [ispws.post_xml("submit", MINIMAL_REPORT) for _ in range(3)]

    assert [reply.status_code for reply in replies] == [200, 200, 429]
    assert int(replies[2]["Retry-After"]) >= 1
    assert "too many requests" in answer(replies[2])["responseDescription"]
    assert Report.objects.count() == 2


# Expiry ---------------------------------------------------------------------------------


def test_unfinished_reports_expire_after_24_hours_or_an_idle_hour_whichever_is_later(
    reference_data: None,
) -> None:
    now = timezone.now()
    old_and_idle = ReportFactory.create(status="open")
    old_but_busy = ReportFactory.create(status="open")
    young_and_idle = ReportFactory.create(status="open")
    finished_long_ago = ReportFactory.create(finished=True)
    Report.objects.filter(pk__in=[old_and_idle.pk, finished_long_ago.pk]).update(
        received_at=now - dt.timedelta(hours=25), updated_at=now - dt.timedelta(hours=2)
    )
    Report.objects.filter(pk=old_but_busy.pk).update(
        received_at=now - dt.timedelta(hours=25), updated_at=now - dt.timedelta(minutes=30)
    )
    Report.objects.filter(pk=young_and_idle.pk).update(
        received_at=now - dt.timedelta(hours=5), updated_at=now - dt.timedelta(hours=4)
    )

    assert expire_unfinished_reports() == 1

    statuses = dict(Report.objects.values_list("pk", "status"))
    assert statuses[old_and_idle.pk] == "expired"
    assert Report.objects.get(pk=old_and_idle.pk).expired_at is not None
    assert statuses[old_but_busy.pk] == statuses[young_and_idle.pk] == "open"
    assert statuses[finished_long_ago.pk] == "finished"


def test_an_expired_report_is_answered_like_one_that_does_not_exist(
    api_client: APIClient, provider: ProviderCredentials
) -> None:
    report_id = api_client.post(REPORTS_URL, report_body(), format="json").json()["reportId"]
    Report.objects.filter(pk=report_id).update(status="expired")

    response = api_client.post(f"{REPORTS_URL}/{report_id}/finish")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
