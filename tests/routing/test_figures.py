"""The statistics pages' figures, computed from a small data set whose every figure is
worked out by hand below, and the pages that show them."""

import csv
import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import Bundle, IncidentType, KnownHash, Report, ReportedFile
from intake.services import ProviderCredentials
from routing.figures import (
    DURATION_BUCKETS,
    FigureFilters,
    consecutive_days,
    duration_bucket,
    figures_rebuild_day,
    figures_rebuild_days,
    figures_refresh,
)
from routing.models import (
    Agency,
    DailyDurations,
    DailyReferralFigures,
    DailyReportFigures,
    FiguresRefresh,
    Referral,
)
from routing.services import referral_acknowledge
from routing.statistics import (
    Withheld,
    public_table,
    region_snapshot,
    reports_by_country,
    snapshot_table,
    staff_tables,
)
from routing.templatetags.figures import cell_text
from tests.conftest import signed_in_staff
from tests.factories import ReportedFileFactory, ReportFactory

UTC = dt.UTC
CSAM = IncidentType.CHILD_PORNOGRAPHY
ENTICEMENT = IncidentType.ONLINE_ENTICEMENT
YEAR_2021 = FigureFilters(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def received(
    when: str,
    *,
    country: str,
    provider: ProviderCredentials | None,
    incident_type: str = CSAM,
    priority: str = "3",
    content_status: str = Report.ContentStatus.NO_FILES,
    files: tuple[tuple[str, int, bool], ...] = (),
    bundle: Bundle | None = None,
    status: str = Report.Status.FINISHED,
) -> Report:
    """A report received (and finished) at ``when`` resolving to ``country``, with
    ``files`` given as (media type, times seen before, on the known-hash list)."""
    report = ReportFactory.create(
        finished=True,
        source=Report.Source.PROVIDER if provider else Report.Source.PUBLIC,
        provider=provider.provider if provider else None,
        incident_type=incident_type,
    )
    for media_type, seen_before, known in files:
        ReportedFileFactory.create(
            report=report,
            media_type=media_type,
            times_seen_before=seen_before,
            known_hash=KnownHash.objects.create(
                hash_type="md5", value=f"{KnownHash.objects.count():032x}"
            )
            if known
            else None,
        )
    Report.objects.filter(pk=report.pk).update(
        received_at=at(when),
        finished_at=at(when),
        status=status,
        resolved_country=country,
        priority=priority,
        content_status=content_status,
        bundle=bundle,
    )
    return Report.objects.get(pk=report.pk)


def referred(
    report: Report,
    agency_code: str,
    *,
    after: dt.timedelta | None,
    acknowledged_after: dt.timedelta | None = None,
) -> Referral:
    """``report`` referred to the agency, delivered ``after`` its receipt (None: dead-
    lettered instead) and acknowledged ``acknowledged_after`` its delivery."""
    assert report.finished_at is not None
    agency = Agency.objects.get(code=agency_code)
    if after is None:
        return Referral.objects.create(
            report=report,
            agency=agency,
            status=Referral.Status.DEAD_LETTERED,
            created_at=report.finished_at,
            dead_lettered_at=report.finished_at + dt.timedelta(hours=12),
        )
    delivered_at = report.finished_at + after
    acknowledged_at = delivered_at + acknowledged_after if acknowledged_after else None
    return Referral.objects.create(
        report=report,
        agency=agency,
        status=Referral.Status.ACKNOWLEDGED if acknowledged_at else Referral.Status.DELIVERED,
        created_at=report.finished_at,
        delivered_at=delivered_at,
        acknowledged_at=acknowledged_at,
    )


IMAGE, VIDEO = ReportedFile.MediaType.IMAGE, ReportedFile.MediaType.VIDEO
SECONDS = dt.timedelta(seconds=1)


@pytest.fixture
def known_data(reference_data: None, provider: ProviderCredentials) -> dict[str, Any]:
    """Five finished reports in 2021 and two in 2020, an open one and a retracted one."""
    r1 = received(
        "2021-03-05T10:00:00",
        country="DE",
        provider=provider,
        priority="1",
        content_status=Report.ContentStatus.CONTAINS_NEW,
        files=((IMAGE, 0, False), (VIDEO, 3, False)),
    )
    referred(r1, "direct-de", after=30 * SECONDS, acknowledged_after=20 * 60 * SECONDS)
    r2 = received(
        "2021-03-20T08:00:00",
        country="FR",
        provider=provider,
        content_status=Report.ContentStatus.KNOWN_ONLY,
        files=((IMAGE, 5, True),),
    )
    referred(r2, "direct-fr", after=3 * SECONDS, acknowledged_after=3 * 3600 * SECONDS)
    r3 = received(
        "2021-07-01T12:00:00", country="US", provider=None, incident_type=ENTICEMENT, priority="2"
    )
    referred(r3, "icac-ca", after=1 * SECONDS)
    bundle = Bundle.objects.create(content_key="md5:" + "b" * 32, day=dt.date(2021, 7, 2))
    r4 = received(
        "2021-07-02T00:00:00",
        country="",
        provider=provider,
        priority="I",
        content_status=Report.ContentStatus.KNOWN_ONLY,
        files=((IMAGE, 12, True), (IMAGE, 40, True)),
        bundle=bundle,
    )
    referred(r4, Agency.ANALYST_QUEUE_CODE, after=1.5 * SECONDS)
    r5 = received(
        "2021-12-31T23:59:59",
        country="PK",
        provider=provider,
        priority="2",
        content_status=Report.ContentStatus.CONTAINS_NEW,
        files=((VIDEO, 0, False),),
    )
    referred(r5, "attache-pk", after=None)
    r6 = received(
        "2020-06-01T09:00:00", country="DE", provider=provider, files=((IMAGE, 0, False),)
    )
    referred(r6, "direct-de", after=2 * SECONDS)
    received(
        "2020-06-02T09:00:00",
        country="US",
        provider=provider,
        files=((VIDEO, 1, False), (VIDEO, 0, False)),
    )
    # Neither an open nor a retracted report counts.
    received("2021-03-05T11:00:00", country="DE", provider=provider, status=Report.Status.OPEN)
    received("2021-03-05T12:00:00", country="DE", provider=provider, status=Report.Status.RETRACTED)
    figures_refresh()
    return {"reports": [r1, r2, r3, r4, r5, r6]}


def tables_by_slug(filters: FigureFilters) -> dict[str, list[list[Any]]]:
    names = {"DE": "Germany", "FR": "France", "US": "United States", "PK": "Pakistan"}
    return {
        table.slug: [
            [str(cell) if hasattr(cell, "_proxy____cast") else cell for cell in row]
            for row in table.rows
        ]
        for table in staff_tables(filters, names=names)
    }


def test_agency_codes_of_the_data_set_exist(known_data: dict[str, Any]) -> None:
    for code in ("direct-de", "direct-fr", "icac-ca", "attache-pk"):
        assert Agency.objects.filter(code=code).exists(), code


def test_reports_by_year_month_type_and_location_equal_hand_counts(
    known_data: dict[str, Any],
) -> None:
    every_year = tables_by_slug(FigureFilters())
    assert every_year["reports-by-year"] == [[2020, 0, 2, 2], [2021, 1, 4, 5]]

    tables = tables_by_slug(YEAR_2021)
    assert tables["reports-by-year"] == [[2021, 1, 4, 5]]
    assert tables["reports-by-month"] == [
        ["2021-03", 0, 2, 2],
        ["2021-07", 1, 1, 2],
        ["2021-12", 0, 1, 1],
    ]
    assert tables["reports-by-incident-type"] == [
        ["Child Pornography (possession, manufacture, and distribution)", 4, 0.8],
        ["Online Enticement of Children for Sexual Acts", 1, 0.2],
    ]
    assert tables["reports-outside-the-us"] == [
        ["Outside the United States", 3, 0.6],
        ["The United States", 1, 0.2],
        ["No known country", 1, 0.2],
    ]
    assert tables["reports-by-priority"] == [
        [label, count, count / 5]
        for label, count in zip(
            [str(label) for _, label in Report.Priority.choices], [1, 2, 1, 1], strict=True
        )
    ]
    by_country = {row[1]: row[2:] for row in tables["reports-by-country"]}
    assert by_country == {
        "DE": [1, 0.2, 2],
        "FR": [1, 0.2, 1],
        "US": [1, 0.2, 0],
        "": [1, 0.2, 2],
        "PK": [1, 0.2, 1],
    }


def test_files_content_and_bundles_equal_hand_counts(known_data: dict[str, Any]) -> None:
    tables = tables_by_slug(YEAR_2021)
    assert tables["files"] == [
        ["Images", 4, 1, 0.25],
        ["Videos", 2, 1, 0.5],
        ["Other files", 0, 0, None],
        ["All files", 6, 2, 2 / 6],
    ]
    assert [row[1:] for row in tables["known-and-new-content"]] == [
        [2, 2 / 5],  # known content only: r2, r4
        [2, 2 / 5],  # new content: r1, r5
        [1, 1 / 5],  # no files: r3
        [3, 3 / 6],  # files on the list: r2's and r4's two
        [3, 3 / 6],
    ]
    assert [row[1:] for row in tables["bundles"]] == [[1, None], [1, 1 / 5]]


def test_referrals_by_agency_and_channel_equal_hand_counts(known_data: dict[str, Any]) -> None:
    tables = tables_by_slug(YEAR_2021)
    by_agency = {row[1]: row[3:] for row in tables["referrals-by-agency"]}
    assert by_agency == {
        "direct-de": [1, 1, 0, 0],
        "direct-fr": [1, 1, 0, 0],
        "icac-ca": [1, 0, 0, 0],
        Agency.ANALYST_QUEUE_CODE: [1, 0, 0, 0],
        "attache-pk": [1, 0, 0, 1],
    }
    by_channel = {row[0]: row[1:] for row in tables["referrals-by-channel"]}
    assert by_channel["National police with direct access"] == [2, 2, 0, 0]
    assert by_channel["U.S. federal law-enforcement attaché"] == [1, 0, 0, 1]
    assert sum(row[1] for row in tables["referrals-by-channel"]) == 5


def test_handling_times_are_the_buckets_of_the_nearest_rank_percentiles(
    known_data: dict[str, Any],
) -> None:
    # To referral: 1 s, 1.5 s, 3 s and 30 s (the dead-lettered one never arrived).
    # The median is the 2nd of 4 (1.5 s), the 90th percentile the 4th (30 s).
    # To acknowledgement: 20 minutes and 3 hours.
    assert tables_by_slug(YEAR_2021)["handling-times"] == [
        ["From receipt to referral", 4, "within 2 seconds", "within 30 seconds"],
        ["From receipt to referral (priority 1)", 1, "within 30 seconds", "within 30 seconds"],
        ["From referral to acknowledgement", 2, "within 30 minutes", "within 4 hours"],
        [
            "From referral to acknowledgement (priority 1)",
            1,
            "within 30 minutes",
            "within 30 minutes",
        ],
    ]


def test_a_country_filter_counts_only_reports_resolving_there(known_data: dict[str, Any]) -> None:
    tables = tables_by_slug(FigureFilters(country="DE"))
    assert tables["reports-by-year"] == [[2020, 0, 1, 1], [2021, 0, 1, 1]]
    assert tables["files"][3] == ["All files", 3, 2, 2 / 3]
    assert [row[1] for row in tables["referrals-by-agency"]] == ["direct-de"]


def test_the_region_snapshot_compares_two_years_as_the_seeds_table_does(
    known_data: dict[str, Any],
) -> None:
    table = region_snapshot(region="the European Union", countries=["DE", "FR"], years=(2020, 2021))
    assert [row[1:] for row in table.rows] == [
        [2, 5, 150],  # reports received
        [3, 6, 100],  # files in all reports
        [1, 2, 100],  # reports resolving to the region: DE in 2020; DE and FR in 2021
        [1, 3, 200],  # their files
        [0.5, 0.4, -20],  # share of reports: 50% to 40%
        [1 / 3, 0.5, 50],  # share of files: 33.33% to 50%
    ]


def test_the_snapshot_of_ncmecs_published_counts_gives_its_published_changes() -> None:
    """The seeds' "European Union CyberTipline Data Snapshot", 2020 against 2021."""
    table = snapshot_table(
        region="the EU",
        years=(2020, 2021),
        totals={2020: (21_751_085, 65_465_314), 2021: (29_397_681, 84_991_735)},
        in_region={2020: (1_046_350, 4_265_151), 2021: (555_831, 1_783_478)},
    )
    shown = [
        [cell_text(table, column, cell, threshold=None) for column, cell in enumerate(row)][1:]
        for row in table.rows
    ]
    assert shown == [
        ["21,751,085", "29,397,681", "35% increase"],
        ["65,465,314", "84,991,735", "30% increase"],
        ["1,046,350", "555,831", "47% decrease"],
        ["4,265,151", "1,783,478", "58% decrease"],
        ["4.81%", "1.89%", "61% decrease"],
        ["6.52%", "2.10%", "68% decrease"],
    ]


def test_a_refresh_rebuilds_only_the_days_whose_reports_changed(
    known_data: dict[str, Any],
) -> None:
    r3 = known_data["reports"][2]
    # The data set was written an hour ago, and the figures refreshed since.
    Report.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    figures_refresh()
    assert figures_refresh() == []
    referral = Referral.objects.get(report=r3)
    referral_acknowledge(referral_id=referral.pk)
    assert figures_refresh() == [dt.date(2021, 7, 1)]
    by_agency = {row[1]: row[3:] for row in tables_by_slug(YEAR_2021)["referrals-by-agency"]}
    assert by_agency["icac-ca"] == [1, 1, 0, 0]


def test_the_public_tables_suppress_small_counts_and_what_gives_them_away(
    known_data: dict[str, Any],
) -> None:
    names = {"DE": "Germany", "FR": "France", "US": "United States", "PK": "Pakistan"}
    tables = {table.slug: table for table in staff_tables(YEAR_2021, names=names)}
    by_year = public_table(tables["reports-by-year"], threshold=2)
    # One public report (under 2) is withheld, and so is the provider count that, with
    # the total, would give it away.
    assert by_year.rows == [[2021, Withheld.SMALL, Withheld.DERIVABLE, 5]]
    # A total under the threshold is withheld with its parts.
    assert public_table(tables["reports-by-year"], threshold=6).rows == [
        [2021, Withheld.SMALL, Withheld.SMALL, Withheld.SMALL]
    ]
    assert public_table(tables["files"], threshold=7).rows[3][1:3] == [
        Withheld.SMALL,
        Withheld.SMALL,
    ]
    by_type = public_table(tables["reports-by-incident-type"], threshold=2)
    # One enticement report folds into "other", which then holds too few: the smallest
    # type shown is withheld too, or the total would give "other" away.
    assert [[str(row[0]), *row[1:]] for row in by_type.rows] == [
        ["Child Pornography (possession, manufacture, and distribution)", Withheld.DERIVABLE, None],
        ["Other incident types", Withheld.SMALL, None],
    ]
    by_country = public_table(reports_by_country(FigureFilters(), names=names), threshold=2)
    # Germany and the United States have two reports each (2020 and 2021) and stay;
    # France, Pakistan and the unknown country have one each and fold together.
    assert [[str(row[0]), *row[1:]] for row in by_country.rows] == [
        ["Germany", "DE", 2, 2 / 7],
        ["United States", "US", 2, 2 / 7],
        ["Other countries", "", 3, 3 / 7],
    ]
    files = public_table(tables["files"], threshold=2)
    # One unique image and one unique video: two withheld, so neither gives the other
    # away through the total of unique files.
    assert [row[1:] for row in files.rows] == [
        [4, Withheld.SMALL, None],
        [2, Withheld.SMALL, None],
        [0, 0, None],
        [6, 2, 2 / 6],
    ]


def staff_client(client: Client, role: str = "analyst") -> Client:
    return signed_in_staff(client, role)


def test_the_staff_page_shows_every_figure_with_charts_and_csv_links(
    client: Client, known_data: dict[str, Any]
) -> None:
    response = staff_client(client).get(
        "/stats/", {"date_from": "2021-01-01", "date_to": "2021-12-31"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    for slug in (
        "reports-by-year",
        "reports-by-month",
        "reports-by-incident-type",
        "reports-by-country",
        "files",
        "known-and-new-content",
        "bundles",
        "referrals-by-channel",
        "referrals-by-agency",
        "handling-times",
        "region-snapshot",
    ):
        assert f'id="{slug}"' in page
        assert f'href="{slug}.csv?date_from=2021-01-01&amp;date_to=2021-12-31"' in page
    assert page.count("<svg") >= 5
    assert Agency.objects.get(code="direct-de").name in page


def test_the_staff_csv_holds_the_table_as_shown(client: Client, known_data: dict[str, Any]) -> None:
    response = staff_client(client).get(
        "/stats/reports-by-month.csv", {"date_from": "2021-01-01", "date_to": "2021-12-31"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Month", "From the public", "From providers", "All reports"],
        ["2021-03", "0", "2", "2"],
        ["2021-07", "1", "1", "2"],
        ["2021-12", "0", "1", "1"],
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2021-13-01"}, "date_from"),
        ({"date_from": "2021-05-01", "date_to": "2021-04-01"}, "date_to"),
        ({"country": "XX"}, "country"),
        ({"region": ["DE", "ZZ"]}, "region"),
        ({"first_year": "twenty"}, "first_year"),
    ],
)
def test_a_bad_choice_is_answered_400_naming_the_field(
    client: Client, known_data: dict[str, Any], query: dict[str, Any], field: str
) -> None:
    signed_in = staff_client(client)
    for url in ("/stats/", "/stats/files.csv", "/stats/public/"):
        response = signed_in.get(url, query)
        assert response.status_code == 400, url
        assert f'id="id_{field}-error"' in response.content.decode()


def test_the_staff_page_needs_a_signed_in_analyst_or_supervisor(
    client: Client, known_data: dict[str, Any]
) -> None:
    response = client.get("/stats/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/stats/files.csv").status_code == 302
    assert staff_client(Client(), "auditor").get("/stats/").status_code == 403
    assert staff_client(Client(), "supervisor").get("/stats/").status_code == 200


def test_an_unknown_table_is_not_found(client: Client, known_data: dict[str, Any]) -> None:
    assert staff_client(client).get("/stats/no-such-table.csv").status_code == 404
    # Agencies are staff figures only.
    assert client.get("/stats/public/referrals-by-agency.csv").status_code == 404


def test_the_public_page_names_no_agency_or_provider_and_hides_small_counts(
    client: Client, known_data: dict[str, Any], provider: ProviderCredentials, settings: Any
) -> None:
    settings.PUBLIC_FIGURES_MIN_COUNT = 2
    response = client.get("/stats/public/", {"date_from": "2021-01-01", "date_to": "2021-12-31"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "fewer than 2" in page
    assert provider.provider.name not in page
    for name in Agency.objects.values_list("name", flat=True):
        assert name not in page
    assert 'id="referrals-by-agency"' not in page
    assert 'id="handling-times"' not in page
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    "/stats/public/reports-by-year.csv",
                    {"date_from": "2021-01-01", "date_to": "2021-12-31"},
                ).content.decode()
            )
        )
    )
    assert rows[1] == ["2021", "<2", "not shown", "5"]


def test_the_pages_read_the_rollups_in_a_fixed_number_of_queries(
    client: Client, known_data: dict[str, Any]
) -> None:
    signed_in = staff_client(client)
    signed_in.get("/stats/")
    with CaptureQueriesContext(connection) as first:
        signed_in.get("/stats/")
    for index in range(20):
        received(
            f"2021-08-{index + 1:02d}T00:00:00",
            country="BR",
            provider=None,
            files=((IMAGE, 0, False),),
        )
    figures_refresh()
    with CaptureQueriesContext(connection) as second:
        signed_in.get("/stats/")
    assert len(second) == len(first)


def test_a_page_asks_for_a_refresh_once_the_figures_are_older_than_allowed(
    client: Client, known_data: dict[str, Any], settings: Any
) -> None:
    settings.FIGURES_MAX_AGE_SECONDS = 60
    received("2021-09-01T00:00:00", country="BR", provider=None)

    def reports_in_2021() -> list[Any]:
        page = client.get("/stats/public/reports-by-year.csv", {"date_from": "2021-01-01"})
        return list(csv.reader(io.StringIO(page.content.decode())))[1]

    settings.PUBLIC_FIGURES_MIN_COUNT = 1
    assert reports_in_2021()[-1] == "5"  # refreshed a moment ago: read as they are
    FiguresRefresh.objects.update(refreshed_at=timezone.now() - dt.timedelta(seconds=61))
    # Tasks run in the web process here (the embedded mode), so the refresh comes first.
    assert reports_in_2021()[-1] == "6"


def test_the_refresh_command_builds_the_figures_of_an_existing_database(
    known_data: dict[str, Any],
) -> None:
    DailyReportFigures.objects.all().delete()
    FiguresRefresh.objects.all().delete()
    out = io.StringIO()
    call_command("refresh_figures", stdout=out)
    assert out.getvalue() == "7 day(s) rebuilt.\n"  # 5 in 2021, 2 in 2020
    assert tables_by_slug(FigureFilters())["reports-by-year"] == [[2020, 0, 2, 2], [2021, 1, 4, 5]]


MICROSECOND = dt.timedelta(microseconds=1)


def rollup_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup's rows, without their ids, in order."""
    return {
        model.__name__: sorted(
            model.objects.values_list(
                *(field.name for field in model._meta.concrete_fields if not field.primary_key)
            )
        )
        for model in (DailyReportFigures, DailyReferralFigures, DailyDurations)
    }


def durations_by_bucket() -> dict[tuple[str, bool, int], int]:
    return {
        (measure, urgent, bucket): count
        for measure, urgent, bucket, count in DailyDurations.objects.values_list(
            "measure", "priority_1", "bucket", "count"
        )
    }


def test_the_database_puts_each_wait_in_the_bucket_duration_bucket_gives(
    reference_data: None, provider: ProviderCredentials
) -> None:
    """A wait of exactly a bucket's bound is in that bucket, a microsecond more in the
    next, and a negative wait in the first, as bisect puts them."""
    waits = [dt.timedelta(0), -MICROSECOND, -dt.timedelta(days=1), dt.timedelta(days=365)]
    for bound in DURATION_BUCKETS[:-1]:
        exactly = dt.timedelta(seconds=bound)
        waits += [exactly - MICROSECOND, exactly, exactly + MICROSECOND]
    for wait in waits:
        report = received("2021-05-04T10:00:00.250000", country="DE", provider=provider)
        assert report.finished_at is not None
        Referral.objects.create(
            report=report,
            agency=Agency.objects.get(code="direct-de"),
            status=Referral.Status.ACKNOWLEDGED,
            created_at=report.finished_at,
            delivered_at=report.finished_at + wait,
            acknowledged_at=report.finished_at + wait + wait,
        )
    figures_refresh()

    expected = Counter(duration_bucket(wait.total_seconds()) for wait in waits)
    assert expected[0] == 5  # 0, -1 µs, -1 day, 1 s - 1 µs, 1 s
    assert expected[len(DURATION_BUCKETS) - 1] == 2  # 90 days + 1 µs, 365 days
    assert durations_by_bucket() == {
        (measure, False, bucket): count
        for measure in DailyDurations.Measure
        for bucket, count in expected.items()
    }


def test_the_wait_to_referral_is_to_the_first_delivery(
    reference_data: None, provider: ProviderCredentials
) -> None:
    """Of a report's referrals, only its first delivery counts (once, if two were
    delivered at the same moment); undelivered ones never do."""
    urgent = received("2021-05-04T10:00:00", country="DE", provider=provider, priority="1")
    referred(urgent, "direct-de", after=None)
    referred(urgent, "icac-ca", after=10 * 60 * SECONDS)
    referred(urgent, "direct-fr", after=3 * SECONDS, acknowledged_after=90 * SECONDS)
    tied = received("2021-05-04T11:00:00", country="FR", provider=provider)
    referred(tied, "direct-fr", after=20 * SECONDS)
    referred(tied, "direct-de", after=20 * SECONDS)
    undelivered = received("2021-05-04T12:00:00", country="PK", provider=provider)
    referred(undelivered, "attache-pk", after=None)
    figures_refresh()

    assert durations_by_bucket() == {
        (DailyDurations.Measure.TO_REFERRAL, True, duration_bucket(3)): 1,
        (DailyDurations.Measure.TO_REFERRAL, False, duration_bucket(20)): 1,
        (DailyDurations.Measure.TO_ACKNOWLEDGEMENT, True, duration_bucket(90)): 1,
    }


def test_a_run_of_days_rebuilt_at_once_equals_its_days_rebuilt_one_by_one(
    reference_data: None, provider: ProviderCredentials
) -> None:
    first, last = dt.date(2021, 5, 3), dt.date(2021, 5, 6)
    for when, country in (
        ("2021-05-02T23:59:59.999999", "DE"),  # the day before: never rebuilt here
        ("2021-05-03T00:00:00", "DE"),
        ("2021-05-03T23:59:59.999999", "FR"),
        ("2021-05-04T00:00:00", "FR"),
        ("2021-05-04T12:00:00", ""),
        ("2021-05-06T23:59:59.999999", "PK"),
        ("2021-05-07T00:00:00", "PK"),  # the day after
    ):
        report = received(
            when,
            country=country,
            provider=provider,
            priority="1" if country == "FR" else "3",
            content_status=Report.ContentStatus.CONTAINS_NEW,
            files=((IMAGE, 0, False), (VIDEO, 2, True)),
        )
        referred(report, "direct-de", after=2 * SECONDS, acknowledged_after=3600 * SECONDS)
        referred(report, "direct-fr", after=None)
    received("2021-05-04T13:00:00", country="DE", provider=None, status=Report.Status.OPEN)

    with transaction.atomic():
        figures_rebuild_days(first=first, last=last)
        at_once = rollup_rows()
        transaction.set_rollback(True)
    with transaction.atomic():
        for offset in range((last - first).days + 1):
            figures_rebuild_day(day=first + dt.timedelta(days=offset))
        one_by_one = rollup_rows()
        transaction.set_rollback(True)

    assert at_once == one_by_one
    report_rows = at_once["DailyReportFigures"]
    assert [(row[0], row[1], row[4], row[13]) for row in report_rows] == [
        # day, country, reports, files
        (dt.date(2021, 5, 3), "DE", 1, 2),
        (dt.date(2021, 5, 3), "FR", 1, 2),
        (dt.date(2021, 5, 4), "", 1, 2),
        (dt.date(2021, 5, 4), "FR", 1, 2),
        (dt.date(2021, 5, 6), "PK", 1, 2),
    ]
    assert len(at_once["DailyReferralFigures"]) == 2 * len(report_rows)
    assert sum(row[-1] for row in at_once["DailyDurations"]) == 2 * len(report_rows)


def test_the_changed_days_are_rebuilt_in_runs_of_consecutive_days() -> None:
    days = [dt.date(2021, 2, 27), dt.date(2021, 2, 28), dt.date(2021, 3, 1)]
    days += [dt.date(2021, 3, 3), dt.date(2021, 12, 31), dt.date(2022, 1, 1)]
    assert consecutive_days(days) == [
        (dt.date(2021, 2, 27), dt.date(2021, 3, 1)),
        (dt.date(2021, 3, 3), dt.date(2021, 3, 3)),
        (dt.date(2021, 12, 31), dt.date(2022, 1, 1)),
    ]
    assert consecutive_days([]) == []
