"""The figures: what the CyberTipline publishes about what it receives, kept in daily
rollups (routing/models.py) so that the statistics pages read a few thousand rows per year
instead of every report and file.

Each day's rollups are a function of the reports received that day (UTC): their source,
incident type, resolved country, priority, content, files and referrals. A refresh rebuilds
the days whose reports or referrals changed since the last refresh, found from
``Report.updated_at`` and ``ReferralEvent.at``; the beat schedule runs one a minute, and the
pages ask for one when the last is older than FIGURES_MAX_AGE_SECONDS (so the figures also
follow the reports where no beat runs).

Handling times are histograms over DURATION_BUCKETS, so a percentile over any range of days
is exact to the bucket: "the median is within 5 minutes".

The database does the counting: a run of consecutive days is rebuilt with one
INSERT ... SELECT a rollup, grouped by day, each wait put in its bucket by a CASE over the
bounds; no report, wait or rollup row passes through Python.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from intake.models import Report, ReportedFile
from routing.models import (
    DailyDurations,
    DailyReferralFigures,
    DailyReportFigures,
    FiguresRefresh,
    Referral,
    ReferralEvent,
)

UTC = dt.UTC
# A transaction that began before a refresh may commit after it with earlier timestamps:
# each refresh looks this far back past the last one.
CHANGES_OVERLAP = dt.timedelta(minutes=10)

MINUTE, HOUR, DAY = 60, 3600, 86400
# The upper bounds, in seconds, of the handling-time buckets; the last is open.
DURATION_BUCKETS: tuple[float, ...] = (
    1, 2, 5, 10, 30,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR,
    DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY,
    float("inf"),
)  # fmt: skip
ONE_DAY = dt.timedelta(days=1)


def duration_bucket(seconds: float) -> int:
    """The index of the smallest bucket that holds a wait of ``seconds``."""
    return bisect.bisect_left(DURATION_BUCKETS, max(seconds, 0))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    return start, start + ONE_DAY


# Refreshing


def figures_refresh(*, now: dt.datetime | None = None) -> list[dt.date] | None:
    """Bring the daily figures up to date with the reports: rebuild every day whose reports
    or referrals changed since the last refresh (every day, the first time), and return the
    days rebuilt. Runs one at a time: while another refresh holds the lock, returns None
    at once and changes nothing."""
    now = now or timezone.now()
    FiguresRefresh.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = FiguresRefresh.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if state is None:
            return None
        days = sorted(days_changed_since(state.changes_seen_until))
        # A run of days at once, however long: the database counts the first build's
        # (every day) reading each table once, where parts of it would each read them.
        for first, last in consecutive_days(days):
            figures_rebuild_days(first=first, last=last)
        state.changes_seen_until = now
        state.refreshed_at = now
        state.save(update_fields=["changes_seen_until", "refreshed_at"])
        return days


def figures_refreshed_at() -> dt.datetime | None:
    return FiguresRefresh.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()


def days_changed_since(since: dt.datetime | None) -> set[dt.date]:
    """The days (of receipt) of the reports changed, or whose referrals changed, since
    ``since``; every day with a report when ``since`` is None."""
    reports = Report.objects.all()
    events = ReferralEvent.objects.none()
    if since is not None:
        reports = reports.filter(updated_at__gte=since - CHANGES_OVERLAP)
        events = ReferralEvent.objects.filter(at__gte=since - CHANGES_OVERLAP)
    days = set(
        reports.annotate(day=TruncDate("received_at", tzinfo=UTC))
        .values_list("day", flat=True)
        .distinct()
    )
    days.update(
        events.annotate(day=TruncDate("referral__report__received_at", tzinfo=UTC))
        .values_list("day", flat=True)
        .distinct()
    )
    return days


def consecutive_days(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The sorted ``days`` as runs of consecutive days: (first, last) of each."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and day == runs[-1][1] + ONE_DAY:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def wait_bucket(began: Any, ended: Any) -> Case:
    """duration_bucket() in SQL, of the wait from ``began`` to ``ended`` (expressions of
    two times): the first bucket whose bound is at least the wait, and the first for a
    negative wait."""
    wait = ExpressionWrapper(ended - began, output_field=DurationField())
    return Case(
        *(
            When(LessThanOrEqual(wait, dt.timedelta(seconds=bound)), then=Value(index))
            for index, bound in enumerate(DURATION_BUCKETS[:-1])
        ),
        default=Value(len(DURATION_BUCKETS) - 1),
    )


REPORT_COUNTS = {
    "reports": Count("pk"),
    "priority_1": Count("pk", filter=Q(priority=Report.Priority.IMMINENT)),
    "priority_2": Count("pk", filter=Q(priority=Report.Priority.HIGH)),
    "priority_3": Count("pk", filter=Q(priority=Report.Priority.NORMAL)),
    "priority_informational": Count("pk", filter=Q(priority=Report.Priority.INFORMATIONAL)),
    "known_content_only": Count("pk", filter=Q(content_status=Report.ContentStatus.KNOWN_ONLY)),
    "new_content": Count("pk", filter=Q(content_status=Report.ContentStatus.CONTAINS_NEW)),
    "no_files": Count("pk", filter=Q(content_status=Report.ContentStatus.NO_FILES)),
    "bundled": Count("pk", filter=Q(bundle__isnull=False)),
}
# Of reports joined to their files, each as "file" (not "files", the name of a count).
IMAGE, VIDEO = ReportedFile.MediaType.IMAGE, ReportedFile.MediaType.VIDEO
FIRST_SEEN = Q(file__times_seen_before=0)
FILE_COUNTS = {
    "files": Count("file"),
    "unique_files": Count("file", filter=FIRST_SEEN),
    "images": Count("file", filter=Q(file__media_type=IMAGE)),
    "unique_images": Count("file", filter=Q(file__media_type=IMAGE) & FIRST_SEEN),
    "videos": Count("file", filter=Q(file__media_type=VIDEO)),
    "unique_videos": Count("file", filter=Q(file__media_type=VIDEO) & FIRST_SEEN),
    "known_files": Count("file", filter=Q(file__known_hash__isnull=False)),
}
REFERRAL_COUNTS = {
    "referrals": Count("pk"),
    "acknowledged": Count("pk", filter=Q(acknowledged_at__isnull=False)),
    "referred_on": Count("pk", filter=Q(status=Referral.Status.RE_REFERRED)),
    "dead_lettered": Count("pk", filter=Q(dead_lettered_at__isnull=False)),
}
REPORT_KEY = ("day", "country", "source", "incident_type")


def figures_rebuild_day(*, day: dt.date) -> None:
    """Replace the rollups of ``day`` with ones counted from the finished reports received
    that day. Call inside a transaction."""
    figures_rebuild_days(first=day, last=day)


def figures_rebuild_days(*, first: dt.date, last: dt.date) -> None:
    """Replace the rollups of the days from ``first`` to ``last`` (inclusive) with ones
    counted from the finished reports received on them, by the database: a few queries
    for all the days, whose rows never leave it. Call inside a transaction."""
    for rollup in (DailyReportFigures, DailyReferralFigures, DailyDurations):
        rollup.objects.filter(day__range=(first, last)).delete()
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    reports = Report.objects.filter(
        status=Report.Status.FINISHED, received_at__gte=start, received_at__lt=end
    )
    referrals = Referral.objects.filter(
        report__status=Report.Status.FINISHED,
        report__received_at__gte=start,
        report__received_at__lt=end,
    )
    day = TruncDate("received_at", tzinfo=UTC)
    report_day = TruncDate("report__received_at", tzinfo=UTC)

    # The reports' counts and their files' are counted apart (a report has many files),
    # with the same keys, and joined.
    by_report_key = {"day": day, "country": F("resolved_country")}
    insert_rows(
        DailyReportFigures,
        reports.values("source", "incident_type", **by_report_key).annotate(**REPORT_COUNTS),
        reports.alias(file=FilteredRelation("files"))
        .values("source", "incident_type", **by_report_key)
        .annotate(**FILE_COUNTS),
        key=REPORT_KEY,
    )
    insert_rows(
        DailyReferralFigures,
        referrals.values(
            "agency_id",
            day=report_day,
            country=F("report__resolved_country"),
            channel=F("agency__channel"),
        ).annotate(**REFERRAL_COUNTS),
    )

    # A report waited for its first delivery: one with no delivery before it (nor one at
    # the same time made before it).
    delivered = referrals.filter(delivered_at__isnull=False)
    delivered_before = Referral.objects.filter(
        Q(delivered_at__lt=OuterRef("delivered_at"))
        | Q(delivered_at=OuterRef("delivered_at"), pk__lt=OuterRef("pk")),
        report=OuterRef("report"),
    )
    first_deliveries = delivered.filter(
        ~Exists(delivered_before), report__finished_at__isnull=False
    )
    acknowledged = delivered.filter(acknowledged_at__isnull=False)
    for measure, rows, bucket in (
        (
            DailyDurations.Measure.TO_REFERRAL,
            first_deliveries,
            wait_bucket(F("report__finished_at"), F("delivered_at")),
        ),
        (
            DailyDurations.Measure.TO_ACKNOWLEDGEMENT,
            acknowledged,
            wait_bucket(F("delivered_at"), F("acknowledged_at")),
        ),
    ):
        insert_rows(
            DailyDurations,
            rows.values(
                day=report_day,
                country=F("report__resolved_country"),
                measure=Value(measure),
                priority_1=Q(report__priority=Report.Priority.IMMINENT),
                bucket=bucket,
            ).annotate(count=Count("pk")),
        )


def insert_rows(rollup: type[Model], *parts: QuerySet[Any, Any], key: Sequence[str] = ()) -> None:
    """Add to ``rollup``, with one INSERT ... SELECT, the rows of ``parts``: values()
    queries whose names are the rollup's columns. With several parts, each row of the
    first is joined to the row of each other part with the same ``key`` (every part has
    the same keys)."""
    quote = connection.ops.quote_name
    columns: dict[str, str] = {}
    tables: list[str] = []
    params: list[Any] = []
    for index, part in enumerate(parts):
        select, part_params = part.query.sql_with_params()
        alias = f"part_{index}"
        table = f"({select}) AS {alias}"
        if index:
            joined = " AND ".join(f"{alias}.{quote(name)} = part_0.{quote(name)}" for name in key)
            table = f"JOIN {table} ON {joined}"
        tables.append(table)
        params.extend(part_params)
        for name in [*part.query.values_select, *part.query.annotation_select]:
            columns.setdefault(name, f"{alias}.{quote(name)}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(rollup._meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608 (names from the models, values as parameters)
            f"SELECT {', '.join(columns.values())} FROM {' '.join(tables)}",
            params,
        )


# Reading

Rollup = TypeVar("Rollup", DailyReportFigures, DailyReferralFigures, DailyDurations)


@dataclass(frozen=True)
class FigureFilters:
    """Which reports the figures count: received from ``date_from`` to ``date_to``
    (inclusive, UTC days; either may be open), resolving to ``country`` when given."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    country: str = ""

    def applied_to(self, rows: QuerySet[Rollup]) -> QuerySet[Rollup]:
        if self.date_from:
            rows = rows.filter(day__gte=self.date_from)
        if self.date_to:
            rows = rows.filter(day__lte=self.date_to)
        if self.country:
            rows = rows.filter(country=self.country)
        return rows


def percentile_bucket(counts: Sequence[int], fraction: float) -> int | None:
    """The bucket holding the nearest-rank ``fraction`` percentile of a histogram whose
    bucket ``i`` holds ``counts[i]`` values, or None for an empty one."""
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, -(-total * fraction // 1))  # ceil(total * fraction), at least the first
    seen = 0
    for bucket, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return bucket
    raise AssertionError("unreachable: the ranks end at the total")


def histogram(rows: Iterable[tuple[int, int]]) -> list[int]:
    counts = [0] * len(DURATION_BUCKETS)
    for bucket, count in rows:
        counts[bucket] += count
    return counts
