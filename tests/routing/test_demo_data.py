"""generate_demo_data: a year of synthetic reports through the real services, routed at
their simulated times, worked by simulated agencies, the same again for the same seed."""

import datetime as dt
import json
import re
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import timezone

from config.errors import ApplicationError
from intake.models import Bundle, HashSighting, KnownHash, Report, ReportedFile
from routing.demo import DEMO_LABEL, DEMO_SOURCE, EU_27, demo_data_generate, demo_window
from routing.figures import figures_refresh
from routing.models import DailyReportFigures, Referral
from routing.tasks import route_report
from tests.factories import ReportFactory

# Transactions commit for real: each report is routed once its submission commits.
generates = pytest.mark.django_db(transaction=True)

YEAR = 2021
REPORTS = 300  # enough for every kind of report to occur, few enough for a quick test
START = dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(YEAR + 1, 1, 1, tzinfo=dt.UTC)
HOST = re.compile(r"""https?://([^/\s"'?#]+)|[\w.+-]+@([\w-]+(?:\.[\w-]+)+)""")


def hosts_in(value: Any) -> set[str]:
    """Every host of a web or email address anywhere in ``value`` (a JSON document)."""
    return {
        (match.group(1) or match.group(2)).lower() for match in HOST.finditer(json.dumps(value))
    }


def outside_example_com(value: Any) -> set[str]:
    return {
        host
        for host in hosts_in(value)
        if host != "example.com" and not host.endswith(".example.com")
    }


def share(part: int, whole: int) -> float:
    return part / whole


@generates
def test_a_generated_year_is_routed_and_shaped_like_the_cybertiplines(
    reference_data: None,
) -> None:
    summary = demo_data_generate(reports=REPORTS, year=YEAR, seed=5)

    reports = Report.objects.all()
    assert reports.count() == summary.reports == REPORTS
    # Every report finished and routed, with a referral.
    assert not reports.exclude(status=Report.Status.FINISHED).exists()
    assert not reports.filter(routed_at__isnull=True).exists()
    assert not reports.filter(referrals__isnull=True).exists()
    # Received during the year and never in the future; routed after receipt.
    now = timezone.now()
    for received_at, finished_at, routed_at in reports.values_list(
        "received_at", "finished_at", "routed_at"
    ):
        assert START <= received_at < END
        assert finished_at is not None
        assert routed_at is not None
        assert received_at <= finished_at <= routed_at <= now
    # The public send about 0.7%: their number is fixed (rounded) by the plan, so
    # the providers' share is exact up to that rounding; 0.97 leaves room for it.
    providers = reports.filter(source=Report.Source.PROVIDER).count()
    assert share(providers, REPORTS) > 0.97
    assert reports.filter(source=Report.Source.PUBLIC).exists()
    # One provider sends most, as in the CyberTipline.
    by_provider = Counter(
        reports.filter(source=Report.Source.PROVIDER).values_list("provider__name", flat=True)
    )
    assert len(by_provider) >= 4
    assert by_provider.most_common(1)[0][1] > providers / 2
    # 93.5% outside the U.S.: each report's country is drawn independently, so with 300
    # reports the share's standard deviation is about 1.4 points; 4.5 points is over 3.
    outside_us = reports.exclude(resolved_country="US").count()
    assert abs(share(outside_us, REPORTS) - 0.935) < 0.045
    assert reports.filter(resolved_country="US").exists()
    assert reports.filter(resolved_country__in=EU_27).exists()
    # About 2.9 files a report, heavy-tailed (most reports have one, a few dozens): the
    # mean of 300 varies by about 0.35, so 0.7 either side.
    files = ReportedFile.objects.all()
    assert abs(files.count() / REPORTS - 2.9) < 0.7
    images = files.filter(media_type=ReportedFile.MediaType.IMAGE)
    videos = files.filter(media_type=ReportedFile.MediaType.VIDEO)
    assert images.count() + videos.count() == files.count()
    assert abs(share(images.count(), files.count()) - 0.47) < 0.08
    # Unique (first ever seen) images about 42%, videos about 11%.
    assert abs(share(images.filter(times_seen_before=0).count(), images.count()) - 0.42) < 0.06
    assert abs(share(videos.filter(times_seen_before=0).count(), videos.count()) - 0.11) < 0.05
    # The demo known-hash list makes some reports known content only, others not.
    assert KnownHash.objects.filter(label=DEMO_LABEL, source=DEMO_SOURCE).exists()
    assert reports.filter(content_status=Report.ContentStatus.KNOWN_ONLY).exists()
    assert reports.filter(content_status=Report.ContentStatus.CONTAINS_NEW).exists()
    assert files.filter(known_hash__label=DEMO_LABEL).exists()
    # Viral content forms bundles of several reports.
    bundle = Bundle.objects.filter(report_count__gt=1).first()
    assert bundle is not None
    assert bundle.reports.count() == bundle.report_count
    assert len({report.resolved_country for report in bundle.reports.all()}) == 1
    assert reports.filter(priority=Report.Priority.IMMINENT).exists()
    # The agencies acknowledged most referrals, later than delivery and not in the future.
    acknowledged = Referral.objects.filter(acknowledged_at__isnull=False)
    assert acknowledged.count() > Referral.objects.count() / 2
    assert not acknowledged.filter(acknowledged_at__lt=F("delivered_at")).exists()
    assert acknowledged.filter(acknowledged_at__gt=F("delivered_at")).exists()
    assert not acknowledged.filter(acknowledged_at__gt=now).exists()
    # Some referrals went on to another agency, with a reason.
    referred_on = Referral.objects.filter(referred_from__isnull=False)
    assert referred_on.exists()
    assert not referred_on.filter(reason="").exists()
    assert summary.referred_on == referred_on.count()
    # Nothing points outside example.com.
    documents = list(reports.values_list("document", flat=True))
    assert any(hosts_in(document) for document in documents)
    assert not any(outside_example_com(document) for document in documents)
    assert not any(
        outside_example_com(details) for details in files.values_list("details", flat=True)
    )


def generated_reports() -> list[tuple[Any, ...]]:
    """What a run made, as a sorted multiset (ids left out)."""
    rows = [
        (
            report.received_at,
            report.incident_type,
            report.resolved_country,
            json.dumps(report.document, sort_keys=True),
            tuple(sorted(report.files.values_list("md5", "sha256"))),
        )
        for report in Report.objects.all()
    ]
    return sorted(rows)


def remove_generated_reports() -> None:
    """An empty database again, but for the reference data and the providers."""
    Referral.objects.filter(referred_from__isnull=False).delete()  # the later ones first
    Report.objects.all().delete()
    Bundle.objects.all().delete()
    HashSighting.objects.all().delete()
    KnownHash.objects.all().delete()


@generates
def test_the_same_seed_gives_the_same_reports_routed_here_even_with_a_broker(
    reference_data: None,
) -> None:
    # The figures were refreshed before: the next refresh still counts the simulated year.
    figures_refresh()
    out, err = StringIO(), StringIO()
    call_command(
        "generate_demo_data", "--reports", "20", "--year", str(YEAR), "--seed", "11",
        stdout=out, stderr=err,
    )  # fmt: skip
    figures_refresh()
    assert DailyReportFigures.objects.aggregate(reports=Sum("reports"))["reports"] == 20
    first = generated_reports()
    remove_generated_reports()
    conf = route_report.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False  # as with REDIS_URL set: tasks would go to a worker
    try:
        demo_data_generate(reports=20, year=YEAR, seed=11)
        assert conf.task_always_eager is False
    finally:
        conf.task_always_eager = eager
    # Routed in this process all the same, each report once.
    assert not Report.objects.filter(routed_at__isnull=True).exists()
    assert Referral.objects.filter(referred_from__isnull=True).count() == 20
    again = generated_reports()
    remove_generated_reports()
    # Another seed, and this year: only until now.
    this_year = timezone.now().year
    demo_data_generate(reports=20, year=this_year, seed=12)
    other = generated_reports()
    now = timezone.now()
    assert {received_at.year for received_at, *_ in other} == {this_year}
    assert max(received_at for received_at, *_ in other) < now
    assert not Report.objects.filter(routed_at__gt=now).exists()
    assert not Referral.objects.filter(acknowledged_at__gt=now).exists()

    assert len(first) == 20
    assert again == first
    assert other != first
    # One summary line on stdout; progress on stderr, a line each 10% when not a terminal.
    assert re.fullmatch(r"20 reports created \(.*\)\.\n", out.getvalue())
    assert "outside the U.S." in out.getvalue()
    assert err.getvalue().splitlines()[-1] == "Generating reports: 20/20 (100%)"
    assert 1 < len(err.getvalue().splitlines()) <= 10


@pytest.mark.django_db
def test_if_empty_leaves_a_database_that_has_reports_alone() -> None:
    ReportFactory.create(finished=True)
    out = StringIO()

    call_command(
        "generate_demo_data", "--reports", "10", "--year", str(YEAR), "--if-empty", stdout=out
    )

    assert "already has 1 report" in out.getvalue()
    assert Report.objects.count() == 1
    assert not KnownHash.objects.filter(source=DEMO_SOURCE).exists()


def test_a_year_to_come_is_refused() -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    with pytest.raises(ApplicationError, match="2000 to 2026"):
        demo_window(year=2027, now=now)
    assert demo_window(year=2026, now=now) == (
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        now - dt.timedelta(minutes=10),
    )
