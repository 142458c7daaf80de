"""Retention: the personal data of a report closed for longer than
PERSONAL_DATA_RETENTION_DAYS is purged, and nothing else; the figures stay as they were."""

import datetime as dt
import io
import json
from typing import Any

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import JSONField, TextField, Value
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.errors import ApplicationError
from intake import retention
from intake.audit import audit_verify
from intake.encryption import UndecryptableValue
from intake.models import (
    AuditEntry,
    IpCaptureEvent,
    PublicReceipt,
    Report,
    ReportAddition,
    ReportedFile,
    ReportIdentifier,
)
from intake.retention import PURGED, personal_data_purge
from intake.services import (
    ProviderCredentials,
    report_addition_add,
    report_finish,
    report_open,
    report_retract,
    report_retract_for_provider,
    reports_expire,
)
from intake.tasks import purge_personal_data
from routing.figures import FigureFilters, figures_rebuild_days, figures_refresh
from routing.models import (
    Agency,
    CaseStatus,
    DailyDurations,
    DailyReferralFigures,
    DailyReportFigures,
    Notice,
    NoticeEvent,
    Referral,
    ReferralEvent,
)
from routing.notices import notice_answer, notice_close, notice_send
from routing.services import (
    referral_acknowledge,
    referral_case_status_set,
    referral_create,
    referral_refer_on,
    report_route,
)
from routing.statistics import public_tables, staff_tables
from tests.conftest import uses_postgresql
from tests.factories import IP_BY_COUNTRY, ReportedFileFactory
from tests.intake.test_never_stores_media import every_row_as_text

pytestmark = pytest.mark.django_db

UTC = dt.UTC
RETENTION_DAYS = 30
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)  # closed before 2026-01-30 12:00: purged
CLOSED = CaseStatus.CLOSED_ACTION_TAKEN

# The purged report's people: the reporter, the person reported, where the child is.
REPORTER_EMAIL = "quillon.marchbanks@example.com"
SUSPECT_IP = IP_BY_COUNTRY["DE"]  # only the purged report names it
# Stored in clear until the purge (the reporter's own details are stored encrypted).
ABOUT_OTHERS = (
    "Dorrigan",
    "dorrigan.vale",
    "vale-handle",
    "example.com/profile/vale",
    "Graz",
    "every evening",
    "asked a child for pictures",
    "holiday-at-the-lake",
    "Canon",
    SUSPECT_IP,
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(autouse=True)
def _retention(settings: Any) -> None:
    settings.PERSONAL_DATA_RETENTION_DAYS = RETENTION_DAYS


def provider_document(screen_name: str, **summary: str) -> dict[str, Any]:
    return {
        "incidentSummary": {
            "incidentType": "Child Pornography (possession, manufacture, and distribution)",
            "incidentDateTime": "2025-12-01T10:00:00Z",
            **summary,
        },
        "reporter": {"reportingPerson": {"email": [{"value": "trust@example.com"}]}},
        "personOrUserReported": [
            {"screenName": screen_name, "ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["GB"]}]}
        ],
    }


def routed_provider_report(
    provider: ProviderCredentials, screen_name: str, **summary: str
) -> Referral:
    document = provider_document(screen_name, **summary)
    report = report_open(document=document, provider=provider.provider)
    report_finish(report_id=report.pk, provider=provider.provider)
    referral = report_route(report_id=report.pk)
    assert referral is not None
    return referral


def case_status(referral: Referral, status: str, when: str) -> None:
    with time_machine.travel(at(when), tick=False):
        referral_case_status_set(
            referral_id=referral.pk, case_status=status, by_agency=referral.agency
        )


@pytest.fixture
def reports(client: Client, provider: ProviderCredentials) -> dict[str, Report]:
    """Reports closed long ago (purged), closed recently, still open, or closed by one
    agency only; retracted and expired ones, long ago."""
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        page = client.post(
            "/report/",
            {
                "what_happened": "enticement",
                "child_in_danger_now": "on",
                "incident_date": "2026-01-04",
                "when_details": "every evening for a week",
                "urls": "https://example.com/profile/vale",
                "usernames": "vale-handle",
                "emails": "dorrigan.vale@example.com",
                "suspect_name": "Dorrigan",
                "suspect_ip_address": SUSPECT_IP,
                "suspect_country": "DE",
                "child_age": "12",
                "child_country": "AT",
                "child_place": "Graz",
                "country": "DE",
                "description": "An adult asked a child for pictures in a game chat.",
                "reporter_name": "Quillon",
                "reporter_email": REPORTER_EMAIL,
                "reporter_phone": "+44 20 7946 0321",
            },
        )
        assert page.status_code == 200, page.content.decode()[:2000]
        closed_long_ago = page.context["report"]
        ReportedFileFactory.create(
            report=closed_long_ago,
            file_name="holiday-at-the-lake.jpg",
            times_seen_before=0,
            details={
                "originalFileName": "holiday-at-the-lake.jpg",
                "fileAnnotations": {"viral": True},
                "originalFileHash": [{"hashType": "MD5", "value": "c" * 32}],
                "ipCaptureEvent": {"ipAddress": SUSPECT_IP},
                "details": [
                    {"type": "EXIF", "nameValuePair": [{"name": "Make", "value": "Canon"}]}
                ],
            },
        )
        report_addition_add(report=closed_long_ago, text="Please call me back.")
        referral = report_route(report_id=closed_long_ago.pk)
        assert referral is not None
        referral_acknowledge(referral_id=referral.pk, by_agency=referral.agency)

        closed_recently = routed_provider_report(provider, "recent-case")
        still_open = routed_provider_report(provider, "open-case")
        one_agency_open = routed_provider_report(provider, "two-agencies")
        with transaction.atomic():
            referral_create(
                report=one_agency_open.report, agency=Agency.objects.get(code="direct-fr")
            )

        retracted = report_open(document=provider_document("retracted"), provider=provider.provider)
        report_retract(report=retracted)
        expired = report_open(document=provider_document("expired"), provider=provider.provider)
    with time_machine.travel(at("2026-01-07T09:00:00"), tick=False):
        assert reports_expire() == 1

    case_status(referral, CaseStatus.INVESTIGATING, "2026-01-08T10:00:00")
    case_status(referral, CLOSED, "2026-01-20T10:00:00")
    # Closed long ago, opened again and closed recently: it closed recently.
    case_status(closed_recently, CLOSED, "2026-01-10T10:00:00")
    case_status(closed_recently, CaseStatus.INVESTIGATING, "2026-02-01T10:00:00")
    case_status(closed_recently, CaseStatus.CLOSED_NO_JURISDICTION, "2026-02-20T10:00:00")
    case_status(still_open, CaseStatus.INVESTIGATING, "2026-01-10T10:00:00")
    case_status(one_agency_open, CLOSED, "2026-01-10T10:00:00")
    return {
        "closed_long_ago": Report.objects.get(pk=closed_long_ago.pk),
        "closed_recently": closed_recently.report,
        "still_open": still_open.report,
        "one_agency_open": one_agency_open.report,
        "retracted": Report.objects.get(pk=retracted.pk),
        "expired": Report.objects.get(pk=expired.pk),
    }


def purged_ids(reports: dict[str, Report]) -> list[int]:
    return sorted(reports[name].pk for name in ("closed_long_ago", "retracted", "expired"))


def kept_ids(reports: dict[str, Report]) -> list[int]:
    return sorted(reports[name].pk for name in ("closed_recently", "still_open", "one_agency_open"))


def figures() -> dict[str, Any]:
    """Every rollup row, rebuilt from the reports, and every statistics table."""
    with transaction.atomic():
        figures_rebuild_days(first=dt.date(2025, 1, 1), last=dt.date(2026, 12, 31))
    rows = {
        model.__name__: sorted(
            tuple(row.values())
            for row in model.objects.values(
                *(field.name for field in model._meta.concrete_fields if field.name != "id")
            )
        )
        for model in (DailyReportFigures, DailyReferralFigures, DailyDurations)
    }
    names = {"DE": "Germany", "GB": "United Kingdom", "FR": "France", "AT": "Austria"}
    tables = [
        *staff_tables(FigureFilters(), names=names),
        *public_tables(FigureFilters(), names=names, threshold=1),
    ]
    return {
        **rows,
        "tables": [
            (table.slug, [[str(cell) for cell in row] for row in table.rows]) for table in tables
        ],
    }


def purge_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.PERSONAL_DATA_PURGED))


def command_output(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


def test_a_report_closed_longer_than_the_retention_is_purged_and_no_other(
    reports: dict[str, Report],
) -> None:
    report = reports["closed_long_ago"]
    referrals_before = list(Referral.objects.filter(report=report).values())
    events_before = ReferralEvent.objects.filter(referral__report=report).count()
    file_descriptors = ReportedFile.objects.filter(report=report).values(
        "md5", "sha1", "sha256", "pdq", "media_type", "mime_type", "size_bytes", "known_hash"
    )
    descriptors_before = list(file_descriptors)
    assert IpCaptureEvent.objects.filter(report=report).exists()
    assert ReportIdentifier.objects.filter(report=report).exists()
    assert PublicReceipt.objects.filter(report=report).exists()
    assert report.reporter_email == REPORTER_EMAIL
    assert ReportAddition.objects.get(report=report).text == "Please call me back."
    stored = every_row_as_text()
    for text in ABOUT_OTHERS:
        assert text.lower() in stored.lower(), text  # there before, so its absence means

    purge = personal_data_purge(now=NOW)

    assert sorted(purge.report_ids) == purged_ids(reports)
    assert purge.closed_before == NOW - dt.timedelta(days=RETENTION_DAYS)
    stored = every_row_as_text()
    for text in ABOUT_OTHERS:
        assert text.lower() not in stored.lower(), text
    report = Report.objects.get(pk=report.pk)
    assert report.personal_data_purged_at == NOW
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == ("", "", "")
    assert (report.description, report.incident_datetime_description) == ("", "")
    assert report.document == {
        "incidentSummary": {
            "incidentType": "Online Enticement of Children for Sexual Acts",
            "incidentDateTime": "2026-01-04T12:00:00Z",
        }
    }
    assert all(item["value"] == "" for item in report.location["evidence"])
    for model in (IpCaptureEvent, ReportIdentifier, ReportAddition, PublicReceipt):
        assert not model.objects.filter(report=report).exists(), model.__name__
    # Kept: what the figures, routing and the record of what was done need.
    assert report.incident_type == "Online Enticement of Children for Sexual Acts"
    assert report.incident_datetime == at("2026-01-04T12:00:00")
    assert (report.stated_country, report.resolved_country) == ("DE", "DE")
    assert report.country_confidence
    assert report.priority == "1"
    assert report.priority_reasons == [
        "A member of the public says a child is in danger right now.",
        "Enticement, sextortion or trafficking with an identified minor, in the last 7 days.",
    ]
    assert report.content_status == Report.ContentStatus.CONTAINS_NEW
    assert list(Referral.objects.filter(report=report).values()) == referrals_before
    assert ReferralEvent.objects.filter(referral__report=report).count() == events_before
    file = ReportedFile.objects.get(report=report)
    assert file.file_name == ""
    assert list(file_descriptors) == descriptors_before
    assert file.times_seen_before == 0
    assert file.details == {
        "fileAnnotations": {"viral": True},
        "originalFileHash": [{"hashType": "MD5", "value": "c" * 32}],
    }
    # The others keep everything.
    for report_id in kept_ids(reports):
        kept = Report.objects.get(pk=report_id)
        assert kept.personal_data_purged_at is None
        assert kept.reporter_email == "trust@example.com"
        assert ReportIdentifier.objects.filter(report=kept).exists()
        assert IpCaptureEvent.objects.filter(report=kept).exists()


def test_a_providers_reason_for_escalating_is_purged_where_a_priority_reason_quotes_it(
    provider: ProviderCredentials,
) -> None:
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        referral = routed_provider_report(
            provider, "escalated", escalateToHighPriority="The user Dorrigan said so."
        )
        referral_case_status_set(
            referral_id=referral.pk, case_status=CLOSED, by_agency=referral.agency
        )
    assert "Dorrigan" in Report.objects.get(pk=referral.report_id).priority_reasons[0]

    personal_data_purge(now=NOW)

    report = Report.objects.get(pk=referral.report_id)
    assert report.escalate_to_high_priority == ""
    assert report.priority == "1"
    assert report.priority_reasons == ["The provider asked for high priority: [purged]"]


def test_the_notices_of_a_purged_report_keep_no_targets_or_texts_and_others_keep_theirs(
    reports: dict[str, Report], provider: ProviderCredentials
) -> None:
    def notice_about(report: Report, handle: str) -> Notice:
        notice = notice_send(
            report=report,
            notice_type=Notice.Type.ACCOUNT,
            targets=[f"https://example.com/profile/{handle}"],
            reason=f"The account {handle} asked a child for pictures.",
            requested_action=Notice.RequestedAction.ACCOUNT_ACTION,
            by_user=None,
            provider=provider.provider,
        )
        notice_answer(
            provider=provider.provider,
            notice_id=notice.pk,
            answer=Notice.Answer.DISPUTED,
            reason=f"{handle} is a parent's account.",
        )
        return notice_close(notice=notice, reason=f"{handle} followed up.", by_user=None)

    purged = notice_about(reports["closed_long_ago"], "vale-notice")
    kept = notice_about(reports["closed_recently"], "kept-notice")
    kept_before = (
        Notice.objects.filter(pk=kept.pk).values().get(),
        list(NoticeEvent.objects.filter(notice=kept).values()),
    )

    personal_data_purge(now=NOW)

    purged = Notice.objects.get(pk=purged.pk)
    assert purged.targets == []
    assert (purged.reason, purged.answer_reason, purged.close_reason) == (PURGED,) * 3
    # What was done, and when, stays.
    assert (purged.status, purged.answer) == (Notice.Status.CLOSED, Notice.Answer.DISPUTED)
    events = NoticeEvent.objects.filter(notice=purged)
    assert [event.kind for event in events] == ["sent", "answered", "closed"]
    assert {event.detail for event in events} <= {"", PURGED}
    assert "vale-notice" not in every_row_as_text()
    assert (
        Notice.objects.filter(pk=kept.pk).values().get(),
        list(NoticeEvent.objects.filter(notice=kept).values()),
    ) == kept_before


def test_the_figures_are_the_same_after_a_purge(reports: dict[str, Report]) -> None:
    figures_refresh(now=NOW - dt.timedelta(hours=1))
    before = figures()
    assert before["DailyReportFigures"]  # there are figures to compare
    assert before["DailyDurations"]

    personal_data_purge(now=NOW)

    # The refresh rebuilds the purged reports' day (they changed), to the same figures.
    assert figures_refresh(now=NOW + dt.timedelta(minutes=1)) == [dt.date(2026, 1, 5)]
    assert figures() == before


def test_each_purge_is_on_the_audit_trail(reports: dict[str, Report]) -> None:
    personal_data_purge(now=NOW)

    (entry,) = purge_entries()
    assert entry.username == ""
    assert entry.detail == {
        "reports": 3,
        "report_ids": purged_ids(reports),
        "retention_days": RETENTION_DAYS,
        "closed_before": "2026-01-30T12:00:00+00:00",
    }
    assert audit_verify().broken_at is None


def test_purging_again_changes_nothing(reports: dict[str, Report]) -> None:
    personal_data_purge(now=NOW)
    stored = every_row_as_text()

    again = personal_data_purge(now=NOW + dt.timedelta(hours=1))

    assert again.report_ids == []
    assert every_row_as_text() == stored
    assert len(purge_entries()) == 1


def test_a_purge_in_batches_purges_each_report_once_and_records_each_batch(
    reports: dict[str, Report],
) -> None:
    purge = personal_data_purge(now=NOW, batch_size=2)

    assert sorted(purge.report_ids) == purged_ids(reports)
    assert [entry.detail["reports"] for entry in reversed(purge_entries())] == [2, 1]
    purged = Report.objects.filter(personal_data_purged_at__isnull=False)
    assert sorted(purged.values_list("pk", flat=True)) == purged_ids(reports)


def test_a_dry_run_says_what_it_would_purge_and_changes_nothing(
    reports: dict[str, Report],
) -> None:
    stored = every_row_as_text()

    output = command_output("--dry-run")

    first, _second, third = purged_ids(reports)
    assert "Would purge the personal data of 3 report(s) closed before 2026-01-30 12:00" in output
    assert f"{first}" in output
    assert f"{third}" in output
    assert every_row_as_text() == stored
    assert purge_entries() == []


def test_the_command_and_the_daily_task_purge(reports: dict[str, Report]) -> None:
    output = command_output()

    assert "Purged the personal data of 3 report(s)" in output
    assert Report.objects.filter(personal_data_purged_at__isnull=False).count() == 3
    with time_machine.travel(NOW + dt.timedelta(days=30), tick=False):
        # By then the recently closed report is past the retention too.
        assert purge_personal_data.delay().get() == 1
    assert Report.objects.get(pk=reports["closed_recently"].pk).personal_data_purged_at


def test_the_daily_task_is_scheduled() -> None:
    schedule = django_settings.CELERY_BEAT_SCHEDULE["purge-personal-data"]
    assert schedule["task"] == purge_personal_data.name
    assert django_settings.CELERY_TASK_ROUTES[purge_personal_data.name] == {"queue": "default"}


def test_a_retention_of_zero_purges_nothing(reports: dict[str, Report], settings: Any) -> None:
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    stored = every_row_as_text()

    purge = personal_data_purge(now=NOW + dt.timedelta(days=3650))

    assert (purge.report_ids, purge.closed_before) == ([], None)
    assert "Purging is off" in command_output()
    assert every_row_as_text() == stored


def test_the_purged_document_is_stored_without_any_reporter_section(
    reports: dict[str, Report],
) -> None:
    personal_data_purge(now=NOW)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT document, reporter_email FROM intake_report WHERE id = %s",
            [reports["closed_long_ago"].pk],
        )
        document, email = cursor.fetchone()
    document = json.loads(document) if isinstance(document, str) else document
    assert "reporter" not in document
    assert email == ""


# Closure, batches, unreadable values, races ----------------------------------------------


def retracted_long_ago(provider: ProviderCredentials, screen_name: str) -> Report:
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        report = report_open(document=provider_document(screen_name), provider=provider.provider)
        return report_retract(report=report)


def test_a_retracted_report_whose_case_is_still_open_is_not_purged(
    provider: ProviderCredentials,
) -> None:
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        referral = routed_provider_report(provider, "retracted-under-investigation")
        referral_acknowledge(referral_id=referral.pk, by_agency=referral.agency)
    case_status(referral, CaseStatus.INVESTIGATING, "2026-01-06T10:00:00")
    with time_machine.travel(at("2026-01-07T09:00:00"), tick=False):
        report_retract_for_provider(report=referral.report, reason="The provider asked.")
    assert Report.objects.get(pk=referral.report_id).status == Report.Status.RETRACTED

    purge = personal_data_purge(now=NOW)

    assert purge.report_ids == []
    report = Report.objects.get(pk=referral.report_id)
    assert report.personal_data_purged_at is None
    assert report.reporter_email == "trust@example.com"
    # Once the agency closes its case, it is purged when that closing is old enough.
    case_status(referral, CLOSED, "2026-01-20T10:00:00")
    assert personal_data_purge(now=NOW).report_ids == [referral.report_id]


def test_each_batch_starts_after_the_last_report_of_the_one_before(
    provider: ProviderCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = [retracted_long_ago(provider, f"retracted-{n}").pk for n in range(5)]
    calls: list[tuple[int, list[int]]] = []
    candidates = retention.purge_candidates

    def recorded(**arguments: Any) -> list[int]:
        found = candidates(**arguments)
        calls.append((arguments["after"], found))
        return found

    monkeypatch.setattr(retention, "purge_candidates", recorded)

    purge = personal_data_purge(now=NOW, batch_size=2)

    assert purge.report_ids == due
    assert purge.complete
    # Each batch is looked for past the last report of the one before, never from the first;
    # a batch short of the batch size was the last.
    assert [found for _after, found in calls] == [due[0:2], due[2:4], due[4:5]]
    assert [after for after, _found in calls] == [0, due[1], due[3]]
    assert [entry.detail["reports"] for entry in reversed(purge_entries())] == [2, 2, 1]


def test_a_run_out_of_time_stops_between_batches_and_the_next_goes_on(
    provider: ProviderCredentials,
) -> None:
    due = [retracted_long_ago(provider, f"retracted-{n}").pk for n in range(3)]

    first = personal_data_purge(now=NOW, batch_size=2, time_budget=0)
    second = personal_data_purge(now=NOW, batch_size=2, time_budget=0)

    assert (first.report_ids, first.complete) == (due[0:2], False)
    assert (second.report_ids, second.complete) == (due[2:3], True)
    assert personal_data_purge(now=NOW).report_ids == []


def test_the_daily_task_stops_well_within_its_time_limit() -> None:
    assert purge_personal_data.soft_time_limit is not None
    assert purge_personal_data.soft_time_limit / 2 > retention.PURGE_TIME_BUDGET_SECONDS


def test_a_report_with_a_value_no_key_reads_is_purged_all_the_same(
    provider: ProviderCredentials,
) -> None:
    unreadable = Report.objects.get(pk=retracted_long_ago(provider, "unreadable").pk)
    other = retracted_long_ago(provider, "readable")
    foreign = Fernet(Fernet.generate_key())
    token = foreign.encrypt(b"someone@example.com").decode()
    document = {**unreadable.document, "reporter": foreign.encrypt(b"{}").decode()}
    Report.objects.filter(pk=unreadable.pk).update(
        reporter_email=Value(token, output_field=TextField()),
        document=Value(document, output_field=JSONField()),
    )
    ReportAddition.objects.create(report=unreadable, text="Call me.")
    ReportAddition.objects.filter(report=unreadable).update(
        text=Value(token, output_field=TextField())
    )
    with pytest.raises(UndecryptableValue):
        Report.objects.get(pk=unreadable.pk)

    purge = personal_data_purge(now=NOW)

    assert purge.report_ids == sorted([unreadable.pk, other.pk])
    report = Report.objects.get(pk=unreadable.pk)  # readable again: nothing left to decrypt
    assert report.reporter_email == ""
    assert "reporter" not in report.document
    assert report.document["incidentSummary"]["incidentType"] == (
        "Child Pornography (possession, manufacture, and distribution)"
    )
    assert not ReportAddition.objects.filter(report=unreadable).exists()


def test_a_priority_reason_is_purged_only_where_it_quotes_the_providers_words(
    provider: ProviderCredentials,
) -> None:
    document = provider_document("seven", escalateToHighPriority="7")
    document["incidentSummary"] |= {
        "incidentType": "Online Enticement of Children for Sexual Acts",
        "incidentDateTime": "2026-01-04T10:00:00Z",
    }
    document["victim"] = [{"victimPerson": {"age": 12}}]
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        report = report_open(document=document, provider=provider.provider)
        report_finish(report_id=report.pk, provider=provider.provider)
        referral = report_route(report_id=report.pk)
        assert referral is not None
        referral_case_status_set(
            referral_id=referral.pk, case_status=CLOSED, by_agency=referral.agency
        )
    ongoing = "Enticement, sextortion or trafficking with an identified minor, in the last 7 days."
    assert Report.objects.get(pk=report.pk).priority_reasons == [
        "The provider asked for high priority: 7",
        ongoing,
    ]

    personal_data_purge(now=NOW)

    assert Report.objects.get(pk=report.pk).priority_reasons == [
        "The provider asked for high priority: [purged]",
        ongoing,
    ]


@pytest.fixture
def purged(provider: ProviderCredentials) -> Referral:
    """A provider's report, routed, its case closed long ago and its personal data purged."""
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        referral = routed_provider_report(provider, "purged")
        referral_acknowledge(referral_id=referral.pk, by_agency=referral.agency)
        referral_case_status_set(
            referral_id=referral.pk, case_status=CLOSED, by_agency=referral.agency
        )
    assert personal_data_purge(now=NOW).report_ids == [referral.report_id]
    return Referral.objects.select_related("agency", "report").get(pk=referral.pk)


def test_a_purged_report_cannot_be_reopened_referred_on_or_added_to(purged: Referral) -> None:
    with pytest.raises(ApplicationError) as reopening:
        referral_case_status_set(
            referral_id=purged.pk, case_status=CaseStatus.INVESTIGATING, by_agency=purged.agency
        )
    with pytest.raises(ApplicationError) as referring:
        referral_refer_on(
            referral_id=purged.pk,
            to_agency=Agency.objects.get(code="direct-fr"),
            reason="Suspect moved.",
            by_agency=purged.agency,
        )
    with pytest.raises(ApplicationError) as adding:
        report_addition_add(report=purged.report, text="One more thing.")

    for refused in (reopening, referring, adding):
        assert refused.value.code == "personal_data_purged"
        assert "purged" in refused.value.message
    referral = Referral.objects.get(pk=purged.pk)
    assert referral.case_status == CLOSED
    assert referral.status == Referral.Status.ACKNOWLEDGED
    assert Referral.objects.filter(report=purged.report).count() == 1
    assert not ReportAddition.objects.filter(report=purged.report).exists()
    # Closing it for another reason is no reopening.
    referral_case_status_set(
        referral_id=purged.pk,
        case_status=CaseStatus.CLOSED_NO_JURISDICTION,
        by_agency=purged.agency,
    )
    assert Referral.objects.get(pk=purged.pk).case_status == CaseStatus.CLOSED_NO_JURISDICTION


def test_a_case_reopened_while_the_purge_looks_is_not_purged(
    provider: ProviderCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(at("2026-01-05T09:00:00"), tick=False):
        referral = routed_provider_report(provider, "reopened")
        referral_case_status_set(
            referral_id=referral.pk, case_status=CLOSED, by_agency=referral.agency
        )
    candidates = retention.purge_candidates

    def reopened_meanwhile(**arguments: Any) -> list[int]:
        found = candidates(**arguments)
        if found:
            referral_case_status_set(
                referral_id=referral.pk,
                case_status=CaseStatus.INVESTIGATING,
                by_agency=referral.agency,
            )
        return found

    monkeypatch.setattr(retention, "purge_candidates", reopened_meanwhile)

    assert personal_data_purge(now=NOW).report_ids == []
    assert Report.objects.get(pk=referral.report_id).personal_data_purged_at is None


@pytest.mark.skipif(not uses_postgresql(), reason="SQLite has no row locks")
def test_referring_on_setting_a_case_status_and_adding_lock_the_report_first(
    provider: ProviderCredentials,
) -> None:
    referral = routed_provider_report(provider, "locked")
    referral_acknowledge(referral_id=referral.pk, by_agency=referral.agency)
    changes = [
        lambda: referral_case_status_set(
            referral_id=referral.pk, case_status=CaseStatus.INVESTIGATING, by_agency=referral.agency
        ),
        lambda: report_addition_add(report=referral.report, text="One more thing."),
        lambda: referral_refer_on(
            referral_id=referral.pk,
            to_agency=Agency.objects.get(code="direct-fr"),
            reason="Suspect moved.",
            by_agency=referral.agency,
        ),
    ]
    for change in changes:
        with CaptureQueriesContext(connection) as queries:
            change()
        locks = [query["sql"] for query in queries if "FOR UPDATE" in query["sql"]]
        assert locks, "nothing was locked"
        assert 'FROM "intake_report"' in locks[0]
        assert 'WHERE "intake_report"."id" = ' in locks[0]


def test_without_a_broker_a_system_check_says_nothing_purges(settings: Any) -> None:
    settings.REDIS_URL = ""

    (warning,) = [message for message in run_checks() if message.id == "intake.W001"]
    assert "purge_personal_data" in warning.msg + (warning.hint or "")

    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    assert not [message for message in run_checks() if message.id == "intake.W001"]
    settings.PERSONAL_DATA_RETENTION_DAYS = RETENTION_DAYS
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert not [message for message in run_checks() if message.id == "intake.W001"]
