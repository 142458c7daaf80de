"""The tables of the statistics pages, read from the daily rollups (routing/figures.py):
for staff, every figure; for the public, the aggregate ones with small counts suppressed.

A table is what a page shows and what its CSV download holds: a title, column headings and
rows, a cell being a number, a text, None where there is nothing to show (a share of
nothing), or Withheld where the public page suppresses a count."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, Sum
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from intake.models import Bundle, IncidentType, Report
from routing.figures import (
    DAY,
    DURATION_BUCKETS,
    HOUR,
    MINUTE,
    FigureFilters,
    histogram,
    percentile_bucket,
)
from routing.models import Channel, DailyDurations, DailyReferralFigures, DailyReportFigures
from routing.notices import notice_figures


class Withheld(enum.Enum):
    """A figure the public page does not show: a count under the threshold, or one that
    would give such a count away."""

    SMALL = "small"
    DERIVABLE = "derivable"


Cell = int | float | str | Promise | Withheld | None

# The 27 member states of the European Union (since 2020), as the seeds' EU snapshot counts.
EU_27 = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip
REGIONS: dict[str, tuple[Promise, tuple[str, ...]]] = {"EU": (_("the European Union"), EU_27)}
UNITED_STATES = "US"


@dataclass
class Chart:
    """Bars of one column against the labels of another: ``columns`` for a time series,
    ``bars`` for categories (horizontal, largest first)."""

    kind: str
    label_column: int
    value_column: int
    limit: int | None = None


@dataclass
class Table:
    slug: str
    title: Promise | str
    columns: list[Promise | str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    note: Promise | str = ""
    # How a column other than a count or a text reads: "share" (0..1, shown as a
    # percentage), "change" (a whole percentage, shown as an increase or decrease) or
    # "hours" (a number of hours, shown as it is).
    formats: dict[int, str] = field(default_factory=dict)

    def with_shares(
        self,
        *,
        of_column: int,
        into_column: int,
        total: int | None,
        rows: Iterable[int] | None = None,
    ) -> Table:
        """Fill ``into_column`` with each row's ``of_column`` as a share of ``total``."""
        for index in range(len(self.rows)) if rows is None else rows:
            value = self.rows[index][of_column]
            self.rows[index][into_column] = share(value if isinstance(value, int) else None, total)
        return self

    def with_ratios(self, *, part_column: int, whole_column: int, into_column: int) -> Table:
        """Fill ``into_column`` with ``part_column`` as a share of ``whole_column``."""
        for row in self.rows:
            part, whole = row[part_column], row[whole_column]
            row[into_column] = (
                share(part, whole) if isinstance(part, int) and isinstance(whole, int) else None
            )
        return self


def count_in(cell: Cell) -> int:
    """A cell's count, 0 for a text or a hidden count."""
    return cell if isinstance(cell, int) else 0


def share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def summed(rows: Any, *names: str) -> dict[str, int]:
    totals = rows.aggregate(**{name: Sum(name) for name in names})
    return {name: totals[name] or 0 for name in names}


def report_rows(filters: FigureFilters) -> Any:
    return filters.applied_to(DailyReportFigures.objects.all())


# The tables


def reports_by_year(filters: FigureFilters) -> Table:
    rows = (
        report_rows(filters)
        .annotate(year=ExtractYear("day"))
        .values("year", "source")
        .annotate(reports=Sum("reports"))
        .order_by("year")
    )
    by_year: dict[int, dict[str, int]] = {}
    for row in rows:
        by_year.setdefault(row["year"], {})[row["source"]] = row["reports"]
    return Table(
        slug="reports-by-year",
        title=_("Reports by year and source"),
        columns=[_("Year"), _("From the public"), _("From providers"), _("All reports")],
        rows=[
            [
                year,
                sources.get(Report.Source.PUBLIC, 0),
                sources.get(Report.Source.PROVIDER, 0),
                sum(sources.values()),
            ]
            for year, sources in by_year.items()
        ],
    )


def reports_by_month(filters: FigureFilters) -> Table:
    rows = (
        report_rows(filters)
        .annotate(month=TruncMonth("day"))
        .values("month", "source")
        .annotate(reports=Sum("reports"))
        .order_by("month")
    )
    by_month: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        by_month.setdefault(row["month"], {})[row["source"]] = row["reports"]
    return Table(
        slug="reports-by-month",
        title=_("Reports by month and source"),
        columns=[_("Month"), _("From the public"), _("From providers"), _("All reports")],
        rows=[
            [
                month.strftime("%Y-%m"),
                sources.get(Report.Source.PUBLIC, 0),
                sources.get(Report.Source.PROVIDER, 0),
                sum(sources.values()),
            ]
            for month, sources in by_month.items()
        ],
        chart=Chart("columns", label_column=0, value_column=3),
    )


def reports_by_incident_type(filters: FigureFilters) -> Table:
    rows = (
        report_rows(filters)
        .values("incident_type")
        .annotate(reports=Sum("reports"))
        .order_by("-reports", "incident_type")
    )
    total = sum(row["reports"] for row in rows)
    labels = dict(IncidentType.choices)
    return Table(
        slug="reports-by-incident-type",
        title=_("Reports by incident type"),
        columns=[_("Incident type"), _("Reports"), _("Share of reports")],
        rows=[
            [labels.get(row["incident_type"], row["incident_type"]), row["reports"], None]
            for row in rows
        ],
        chart=Chart("bars", label_column=0, value_column=1),
        formats={2: "share"},
    ).with_shares(of_column=1, into_column=2, total=total)


def reports_by_priority(filters: FigureFilters) -> Table:
    counts = summed(
        report_rows(filters),
        "reports",
        "priority_1",
        "priority_2",
        "priority_3",
        "priority_informational",
    )
    labels = dict(Report.Priority.choices)
    rows: list[list[Cell]] = [
        [labels[Report.Priority.IMMINENT], counts["priority_1"]],
        [labels[Report.Priority.HIGH], counts["priority_2"]],
        [labels[Report.Priority.NORMAL], counts["priority_3"]],
        [labels[Report.Priority.INFORMATIONAL], counts["priority_informational"]],
    ]
    return Table(
        slug="reports-by-priority",
        title=_("Reports by priority"),
        columns=[_("Priority"), _("Reports"), _("Share of reports")],
        rows=[[*row, None] for row in rows],
        formats={2: "share"},
    ).with_shares(of_column=1, into_column=2, total=counts["reports"])


def reports_by_country(filters: FigureFilters, *, names: dict[str, str]) -> Table:
    rows = (
        report_rows(filters)
        .values("country")
        .annotate(reports=Sum("reports"), files=Sum("files"))
        .order_by("-reports", "country")
    )
    total = sum(row["reports"] for row in rows)
    return Table(
        slug="reports-by-country",
        title=_("Reports by the country they resolve to"),
        columns=[_("Country"), _("Code"), _("Reports"), _("Share of reports"), _("Files")],
        rows=[
            [
                names.get(row["country"], row["country"]) if row["country"] else _("Unknown"),
                row["country"],
                row["reports"],
                None,
                row["files"],
            ]
            for row in rows
        ],
        chart=Chart("bars", label_column=0, value_column=2, limit=15),
        formats={3: "share"},
    ).with_shares(of_column=2, into_column=3, total=total)


def reports_by_location(filters: FigureFilters) -> Table:
    """How many reports resolve to the United States, outside it, or nowhere known."""
    rows = report_rows(filters)
    total = summed(rows, "reports")["reports"]
    us = summed(rows.filter(country=UNITED_STATES), "reports")["reports"]
    unknown = summed(rows.filter(country=""), "reports")["reports"]
    return Table(
        slug="reports-outside-the-us",
        title=_("Reports resolving outside the United States"),
        columns=[_("Resolving to"), _("Reports"), _("Share of reports")],
        rows=[
            [_("Outside the United States"), total - us - unknown, None],
            [_("The United States"), us, None],
            [_("No known country"), unknown, None],
        ],
        formats={2: "share"},
    ).with_shares(of_column=1, into_column=2, total=total)


def files_by_kind(filters: FigureFilters) -> Table:
    counts = summed(
        report_rows(filters),
        "files",
        "unique_files",
        "images",
        "unique_images",
        "videos",
        "unique_videos",
    )
    other = counts["files"] - counts["images"] - counts["videos"]
    unique_other = counts["unique_files"] - counts["unique_images"] - counts["unique_videos"]
    return Table(
        slug="files",
        title=_("Files: all and unique"),
        columns=[_("Files"), _("All"), _("Unique"), _("Share unique")],
        rows=[
            [_("Images"), counts["images"], counts["unique_images"], None],
            [_("Videos"), counts["videos"], counts["unique_videos"], None],
            [_("Other files"), other, unique_other, None],
            [_("All files"), counts["files"], counts["unique_files"], None],
        ],
        chart=Chart("bars", label_column=0, value_column=1, limit=3),
        note=_("A unique file is one whose hash had never been reported before."),
        formats={3: "share"},
    ).with_ratios(part_column=2, whole_column=1, into_column=3)


def content_known_and_new(filters: FigureFilters) -> Table:
    counts = summed(
        report_rows(filters),
        "reports",
        "known_content_only",
        "new_content",
        "no_files",
        "files",
        "known_files",
    )
    labels = dict(Report.ContentStatus.choices)
    return (
        Table(
            slug="known-and-new-content",
            title=_("Known and new content"),
            columns=[_("Content"), _("Count"), _("Share")],
            rows=[
                [labels[Report.ContentStatus.KNOWN_ONLY], counts["known_content_only"], None],
                [labels[Report.ContentStatus.CONTAINS_NEW], counts["new_content"], None],
                [labels[Report.ContentStatus.NO_FILES], counts["no_files"], None],
                [_("Files on the known-hash list"), counts["known_files"], None],
                [_("Files not on the list"), counts["files"] - counts["known_files"], None],
            ],
            note=_(
                "Report shares are of all reports, file shares of all files. Known content is "
                "not shown to analysts again."
            ),
            formats={2: "share"},
        )
        .with_shares(of_column=1, into_column=2, total=counts["reports"], rows=range(3))
        .with_shares(of_column=1, into_column=2, total=counts["files"], rows=range(3, 5))
    )


def bundles(filters: FigureFilters) -> Table:
    counts = summed(report_rows(filters), "reports", "bundled")
    made = Bundle.objects.all()
    if filters.date_from:
        made = made.filter(day__gte=filters.date_from)
    if filters.date_to:
        made = made.filter(day__lte=filters.date_to)
    if filters.country:
        made = made.filter(country=filters.country)
    return Table(
        slug="bundles",
        title=_("Bundles of viral content"),
        columns=[_("Bundles"), _("Count"), _("Share of reports")],
        rows=[
            [_("Bundles"), made.count(), None],
            [
                _("Reports in a bundle"),
                counts["bundled"],
                share(counts["bundled"], counts["reports"]),
            ],
        ],
        formats={2: "share"},
    )


REFERRAL_COUNTS = ("referrals", "acknowledged", "referred_on", "dead_lettered")


def referral_sums(filters: FigureFilters, *by: str) -> Any:
    """The referral counts of the filtered days, summed by the columns ``by``."""
    return (
        filters.applied_to(DailyReferralFigures.objects.all())
        .values(*by)
        .annotate(**{name: Sum(name) for name in REFERRAL_COUNTS})
    )


def referrals_by_channel(filters: FigureFilters) -> Table:
    rows = referral_sums(filters, "channel").order_by("-referrals", "channel")
    labels = dict(Channel.choices)
    return Table(
        slug="referrals-by-channel",
        title="Referrals by channel",
        columns=["Channel", "Referrals", "Acknowledged", "Referred on", "Dead-lettered"],
        rows=[
            [
                labels.get(row["channel"], row["channel"]),
                row["referrals"],
                row["acknowledged"],
                row["referred_on"],
                row["dead_lettered"],
            ]
            for row in rows
        ],
        chart=Chart("bars", label_column=0, value_column=1),
    )


def referrals_by_agency(filters: FigureFilters) -> Table:
    rows = referral_sums(filters, "agency__name", "agency__code", "channel").order_by(
        "-referrals", "agency__code"
    )
    labels = dict(Channel.choices)
    return Table(
        slug="referrals-by-agency",
        title="Referrals by agency",
        columns=[
            "Agency",
            "Code",
            "Channel",
            "Referrals",
            "Acknowledged",
            "Referred on",
            "Dead-lettered",
        ],
        rows=[
            [
                row["agency__name"],
                row["agency__code"],
                labels.get(row["channel"], row["channel"]),
                row["referrals"],
                row["acknowledged"],
                row["referred_on"],
                row["dead_lettered"],
            ]
            for row in rows
        ],
        chart=Chart("bars", label_column=0, value_column=3, limit=15),
    )


def duration_label(bucket: int | None) -> str:
    """A bucket as a person reads it: "within 5 minutes", "over 90 days"."""
    if bucket is None:
        return "-"
    bound = DURATION_BUCKETS[bucket]
    if bound == float("inf"):
        return f"over {duration_text(DURATION_BUCKETS[-2])}"
    return f"within {duration_text(bound)}"


def duration_text(seconds: float) -> str:
    for unit, name in ((DAY, "day"), (HOUR, "hour"), (MINUTE, "minute"), (1, "second")):
        if seconds >= unit and seconds % unit == 0:
            count = int(seconds // unit)
            return f"{count} {name}{'' if count == 1 else 's'}"
    return f"{seconds:g} seconds"


def handling_times(filters: FigureFilters) -> Table:
    """Median and 90th percentile of the wait from receipt to referral (the first referral
    delivered) and from each referral's delivery to its acknowledgement, for all reports
    and for priority-1 reports."""
    rows = (
        filters.applied_to(DailyDurations.objects.all())
        .values("measure", "priority_1", "bucket")
        .annotate(n=Sum("count"))
    )
    found: dict[tuple[str, bool], list[tuple[int, int]]] = {}
    for row in rows:
        found.setdefault((row["measure"], row["priority_1"]), []).append((row["bucket"], row["n"]))
    table_rows: list[list[Cell]] = []
    for measure in DailyDurations.Measure:
        for urgent_only in (False, True):
            counts = histogram(
                pair
                for (kind, urgent), pairs in found.items()
                if kind == measure and (urgent or not urgent_only)
                for pair in pairs
            )
            table_rows.append(
                [
                    f"{measure.label}{' (priority 1)' if urgent_only else ''}",
                    sum(counts),
                    duration_label(percentile_bucket(counts, 0.5)),
                    duration_label(percentile_bucket(counts, 0.9)),
                ]
            )
    return Table(
        slug="handling-times",
        title="Handling times",
        columns=["Wait", "Counted", "Median", "90th percentile"],
        rows=table_rows,
        note=(
            "Receipt is when the report was finished; referral is when the first agency had "
            "it. Percentiles are read from buckets (1 s, 2 s, 5 s, … 90 days): the wait is "
            "within the bucket shown."
        ),
    )


# The region snapshot, as the seeds' "European Union CyberTipline Data Snapshot"


def percent_change(first: int | float | None, second: int | float | None) -> int | None:
    """The change from ``first`` to ``second`` as a whole percentage of ``first``, rounded
    half up (29,397,681 against 21,751,085 is 35); None when it has no meaning."""
    if first is None or second is None or not first:
        return None
    change = (Decimal(str(second)) - Decimal(str(first))) / Decimal(str(first)) * 100
    return int(change.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def snapshot_table(
    *,
    region: Promise | str,
    years: tuple[int, int],
    totals: dict[int, tuple[int, int]],
    in_region: dict[int, tuple[int, int]],
) -> Table:
    """The snapshot of ``region`` comparing two years, from the reports and files of all
    reports (``totals``) and of the reports resolving to the region (``in_region``), each
    by year as (reports, files)."""
    first, second = years

    def pair(values: dict[int, tuple[int, int]], index: int) -> tuple[int | None, int | None]:
        return (values.get(first, (0, 0))[index], values.get(second, (0, 0))[index])

    def row(label: Promise | str, values: tuple[Any, Any]) -> list[Cell]:
        return [label, values[0], values[1], percent_change(*values)]

    reports, files = pair(totals, 0), pair(totals, 1)
    region_reports, region_files = pair(in_region, 0), pair(in_region, 1)
    return Table(
        slug="region-snapshot",
        title=_("Snapshot: %(region)s") % {"region": region},
        columns=[
            "",
            _("Reports received in %(year)s") % {"year": first},
            _("Reports received in %(year)s") % {"year": second},
            pgettext_lazy("the difference between two years", "Change"),
        ],
        rows=[
            row(_("Reports received"), reports),
            row(_("Files in all reports"), files),
            row(_("Reports resolving to %(region)s") % {"region": region}, region_reports),
            row(_("Files in reports resolving to %(region)s") % {"region": region}, region_files),
            row(
                _("Share of all reports resolving to %(region)s") % {"region": region},
                (share(region_reports[0], reports[0]), share(region_reports[1], reports[1])),
            ),
            row(
                _("Share of all files in reports resolving to %(region)s") % {"region": region},
                (share(region_files[0], files[0]), share(region_files[1], files[1])),
            ),
        ],
        formats={3: "change"},
        note=_(
            "A report resolves to the region when the country it resolves to is one of its "
            "members. Changes are of the first year's figure, rounded to a whole percent."
        ),
    )


def region_snapshot(
    *, region: Promise | str, countries: Sequence[str], years: tuple[int, int]
) -> Table:
    def by_year(rows: Any) -> dict[int, tuple[int, int]]:
        return {
            row["year"]: (row["reports"] or 0, row["files"] or 0)
            for row in rows.filter(in_years)
            .annotate(year=ExtractYear("day"))
            .values("year")
            .annotate(reports=Sum("reports"), files=Sum("files"))
        }

    # Day ranges rather than the year of each day, so that the index on day serves them.
    in_years = Q()
    for year in years:
        in_years |= Q(day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31))
    rows = DailyReportFigures.objects.all()
    return snapshot_table(
        region=region,
        years=years,
        totals=by_year(rows),
        in_region=by_year(rows.filter(country__in=countries)),
    )


def figure_years() -> list[int]:
    """The years that have figures, oldest first."""
    return sorted(
        DailyReportFigures.objects.annotate(year=ExtractYear("day"))
        .values_list("year", flat=True)
        .distinct()
    )


# Small counts on the public page


def suppressed_parts(values: Sequence[Cell], *, threshold: int) -> list[Cell]:
    """Counts that together make a shown total, with each count under ``threshold`` (but
    not zero) suppressed; where that hides only one, the next smallest is hidden as well,
    so that the total cannot give the hidden one away."""
    kept: list[Cell] = [
        Withheld.SMALL if isinstance(value, int) and 0 < value < threshold else value
        for value in values
    ]
    if kept.count(Withheld.SMALL) == 1:
        others = [
            (value, index)
            for index, value in enumerate(kept)
            if isinstance(value, int) and not isinstance(value, bool) and value
        ]
        if others:
            kept[min(others)[1]] = Withheld.DERIVABLE
    return kept


def small_withheld(value: Cell, threshold: int) -> Cell:
    """``value``, or Withheld.SMALL for a count under ``threshold`` (but not zero)."""
    return Withheld.SMALL if isinstance(value, int) and 0 < value < threshold else value


def folded_small_rows(
    rows: list[list[Cell]], *, value_column: int, other: list[Cell], threshold: int
) -> list[list[Cell]]:
    """The rows (largest first) with those under ``threshold`` folded into ``other``
    (whose count column is filled in). Where the folded rows add up to less than the
    threshold too, the smallest row shown is withheld as well, since the total would give
    the "other" count away."""
    shown = sorted(rows, key=lambda row: -count_in(row[value_column]))
    folded = 0
    while shown and count_in(shown[-1][value_column]) < threshold:
        folded += count_in(shown.pop()[value_column])
    if not folded:
        return shown
    other = list(other)
    other[value_column] = folded
    if folded < threshold:
        other[value_column] = Withheld.SMALL
        if shown:
            shown[-1] = [*shown[-1]]
            shown[-1][value_column] = Withheld.DERIVABLE
    return [*shown, other]


def public_table(table: Table, *, threshold: int) -> Table:
    """``table`` as the public page shows it: counts under ``threshold`` suppressed (and
    the shares and changes they would give away)."""
    table = replace(table, rows=[list(row) for row in table.rows])
    if table.slug == "reports-by-year":
        table.rows = [
            [
                row[0],
                *suppressed_parts(row[1:3], threshold=threshold),
                small_withheld(row[3], threshold),
            ]
            for row in table.rows
        ]
    elif table.slug == "reports-by-month":
        totals = suppressed_parts([row[3] for row in table.rows], threshold=threshold)
        table.columns = table.columns[:1] + table.columns[3:]
        table.rows = [[row[0], total] for row, total in zip(table.rows, totals, strict=True)]
        table.chart = Chart("columns", label_column=0, value_column=1)
    elif table.slug == "reports-by-incident-type":
        total = sum(count_in(row[1]) for row in table.rows)
        table.rows = folded_small_rows(
            table.rows,
            value_column=1,
            other=[_("Other incident types"), 0, None],
            threshold=threshold,
        )
        table.with_shares(of_column=1, into_column=2, total=total)
    elif table.slug == "reports-by-country":
        total = sum(count_in(row[2]) for row in table.rows)
        table.columns = table.columns[:4]
        table.rows = folded_small_rows(
            [row[:4] for row in table.rows],
            value_column=2,
            other=[_("Other countries"), "", 0, None],
            threshold=threshold,
        )
        table.with_shares(of_column=2, into_column=3, total=total)
    elif table.slug in ("reports-outside-the-us", "files", "known-and-new-content"):
        groups = {"files": [range(3)], "known-and-new-content": [range(3), range(3, 5)]}.get(
            table.slug, [range(len(table.rows))]
        )
        for column in range(1, len(table.columns)):
            if table.formats.get(column):
                continue
            for group in groups:
                kept = suppressed_parts(
                    [table.rows[index][column] for index in group], threshold=threshold
                )
                for index, value in zip(group, kept, strict=True):
                    table.rows[index][column] = value
            if table.slug == "files":  # the row of all files is their total
                table.rows[3][column] = small_withheld(table.rows[3][column], threshold)
    elif table.slug == "region-snapshot":
        for row in table.rows[:4]:
            row[1:3] = [
                Withheld.SMALL if isinstance(value, int) and 0 < value < threshold else value
                for value in row[1:3]
            ]
        for count_row, share_row in (
            (table.rows[2], table.rows[4]),
            (table.rows[3], table.rows[5]),
        ):
            for column in (1, 2):
                if isinstance(count_row[column], Withheld):
                    share_row[column] = Withheld.DERIVABLE
    else:
        raise ValueError(f"{table.slug} is not a public figure")
    # A share or a change of a withheld count would give it away.
    for row in table.rows:
        if any(isinstance(cell, Withheld) for cell in row):
            for column in table.formats:
                row[column] = None
    return table


# The pages


def hours(value: float | None) -> Cell:
    return None if value is None else round(value, 1)


def notices_by_provider(filters: FigureFilters) -> Table:
    """Per provider, the notices sent in the chosen days: answered, median and 90th
    percentile hours to answer, open past their deadline now."""
    since = (
        dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=dt.UTC)
        if filters.date_from
        else None
    )
    until = (
        dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        if filters.date_to
        else None
    )
    rows: list[list[Cell]] = [
        [
            line.provider,
            line.sent,
            line.answered,
            hours(line.median_hours_to_answer),
            hours(line.p90_hours_to_answer),
            line.open_past_deadline,
        ]
        for line in notice_figures(since=since, until=until)
    ]
    return Table(
        slug="notices",
        title="Notices to providers",
        columns=[
            "Provider",
            "Sent",
            "Answered",
            "Median hours to answer",
            "90th percentile hours",
            "Open past deadline",
        ],
        rows=rows,
        note="Notices sent on the chosen days (UTC), whatever the country; open past deadline "
        "is as of now.",
        formats={3: "hours", 4: "hours"},
    )


def staff_tables(filters: FigureFilters, *, names: dict[str, str]) -> list[Table]:
    return [
        reports_by_year(filters),
        reports_by_month(filters),
        reports_by_incident_type(filters),
        reports_by_priority(filters),
        reports_by_location(filters),
        reports_by_country(filters, names=names),
        files_by_kind(filters),
        content_known_and_new(filters),
        bundles(filters),
        referrals_by_channel(filters),
        referrals_by_agency(filters),
        handling_times(filters),
        notices_by_provider(filters),
    ]


def public_tables(filters: FigureFilters, *, names: dict[str, str], threshold: int) -> list[Table]:
    return [
        public_table(table, threshold=threshold)
        for table in (
            reports_by_year(filters),
            reports_by_month(filters),
            reports_by_incident_type(filters),
            reports_by_location(filters),
            reports_by_country(filters, names=names),
            files_by_kind(filters),
            content_known_and_new(filters),
        )
    ]
