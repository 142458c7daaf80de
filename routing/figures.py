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
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import TruncDate
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


def duration_bucket(seconds: float) -> int:
    """The index of the smallest bucket that holds a wait of ``seconds``."""
    return bisect.bisect_left(DURATION_BUCKETS, max(seconds, 0))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


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
        for day in days:
            figures_rebuild_day(day=day)
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
IMAGE, VIDEO = ReportedFile.MediaType.IMAGE, ReportedFile.MediaType.VIDEO
FIRST_SEEN = Q(times_seen_before=0)
FILE_COUNTS = {
    "files": Count("pk"),
    "unique_files": Count("pk", filter=FIRST_SEEN),
    "images": Count("pk", filter=Q(media_type=IMAGE)),
    "unique_images": Count("pk", filter=Q(media_type=IMAGE) & FIRST_SEEN),
    "videos": Count("pk", filter=Q(media_type=VIDEO)),
    "unique_videos": Count("pk", filter=Q(media_type=VIDEO) & FIRST_SEEN),
    "known_files": Count("pk", filter=Q(known_hash__isnull=False)),
}
REFERRAL_COUNTS = {
    "referrals": Count("pk"),
    "acknowledged": Count("pk", filter=Q(acknowledged_at__isnull=False)),
    "referred_on": Count("pk", filter=Q(status=Referral.Status.RE_REFERRED)),
    "dead_lettered": Count("pk", filter=Q(dead_lettered_at__isnull=False)),
}


def keyed(
    row: Mapping[str, Any], key: tuple[str, str, str]
) -> tuple[tuple[str, str, str], dict[str, int]]:
    """A row of counts split into its key (country, source, incident type), read from the
    columns named ``key``, and its counts."""
    counts = {name: value for name, value in row.items() if name not in key}
    return (row[key[0]], row[key[1]], row[key[2]]), counts


REPORT_KEY = ("resolved_country", "source", "incident_type")
FILE_KEY = ("report__resolved_country", "report__source", "report__incident_type")


def figures_rebuild_day(*, day: dt.date) -> None:
    """Replace the rollups of ``day`` with ones counted from the finished reports received
    that day. Call inside a transaction."""
    start, end = day_bounds(day)
    reports = Report.objects.filter(
        status=Report.Status.FINISHED, received_at__gte=start, received_at__lt=end
    )
    DailyReportFigures.objects.filter(day=day).delete()
    DailyReferralFigures.objects.filter(day=day).delete()
    DailyDurations.objects.filter(day=day).delete()

    rows: dict[tuple[str, str, str], DailyReportFigures] = {}
    for row in reports.values(*REPORT_KEY).annotate(**REPORT_COUNTS):
        key, counts = keyed(row, REPORT_KEY)
        rows[key] = DailyReportFigures(
            day=day, country=key[0], source=key[1], incident_type=key[2], **counts
        )
    files = ReportedFile.objects.filter(report__in=reports).values(*FILE_KEY)
    for row in files.annotate(**FILE_COUNTS):
        key, counts = keyed(row, FILE_KEY)
        for name, value in counts.items():
            setattr(rows[key], name, value)
    DailyReportFigures.objects.bulk_create(rows.values())

    referrals = Referral.objects.filter(report__in=reports)
    DailyReferralFigures.objects.bulk_create(
        DailyReferralFigures(day=day, **counts)
        for counts in referrals.values(
            "agency_id", country=F("report__resolved_country"), channel=F("agency__channel")
        ).annotate(**REFERRAL_COUNTS)
    )

    waits: Counter[tuple[str, str, bool, int]] = Counter()
    to_referral = (
        reports.annotate(referred_at=Min("referrals__delivered_at"))
        .filter(referred_at__isnull=False)
        .values_list("resolved_country", "priority", "finished_at", "referred_at")
    )
    to_acknowledgement = referrals.filter(
        delivered_at__isnull=False, acknowledged_at__isnull=False
    ).values_list("report__resolved_country", "report__priority", "delivered_at", "acknowledged_at")
    for measure, rows_of_waits in (
        (DailyDurations.Measure.TO_REFERRAL, to_referral),
        (DailyDurations.Measure.TO_ACKNOWLEDGEMENT, to_acknowledgement),
    ):
        for country, priority, began, ended in rows_of_waits:
            if began is None or ended is None:
                continue
            bucket = duration_bucket((ended - began).total_seconds())
            waits[(country, measure, priority == Report.Priority.IMMINENT, bucket)] += 1
    DailyDurations.objects.bulk_create(
        DailyDurations(
            day=day, country=country, measure=measure, priority_1=urgent, bucket=bucket, count=n
        )
        for (country, measure, urgent, bucket), n in waits.items()
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
