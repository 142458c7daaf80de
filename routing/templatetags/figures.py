"""The statistics pages' cells and charts. Charts are SVG drawn here on the server: no
script and nothing from another site, each beside the table of its numbers."""

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

from routing.statistics import Cell, Table, Withheld, count_in

register = template.Library()

CHART_WIDTH = 720
LABEL_WIDTH = 230
VALUE_WIDTH = 90
BAR_HEIGHT = 18
BAR_GAP = 6
COLUMNS_HEIGHT = 200
AXIS_HEIGHT = 22


def cell_text(
    table: Table, column: int, value: Cell, *, threshold: int | None, for_csv: bool = False
) -> str:
    """A cell as the page (or the CSV file) shows it: counts grouped by thousands in the
    reader's language, shares as percentages, changes as an increase or decrease, and a
    suppressed count as "fewer than N"."""
    kind = table.formats.get(column)
    if value is None:
        return ""
    if value is Withheld.SMALL:
        return f"<{threshold}" if for_csv else _("fewer than %(count)s") % {"count": threshold}
    if value is Withheld.DERIVABLE:
        return _("not shown")
    if isinstance(value, float) and kind in ("share", None):
        # Rounded half up to hundredths (number_format would cut the rest off).
        percent = (Decimal(value) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if for_csv:
            return str(percent)
        return f"{formats.number_format(percent, 2, use_l10n=True, force_grouping=True)}%"
    if kind == "change":
        if for_csv:
            return str(value)
        change = int(value)  # type: ignore[arg-type]
        if change > 0:
            return _("%(percent)s%% increase") % {"percent": change}
        if change < 0:
            return _("%(percent)s%% decrease") % {"percent": -change}
        return _("no change")
    if isinstance(value, int) and not isinstance(value, bool):
        if for_csv:
            return str(value)
        return formats.number_format(value, 0, use_l10n=True, force_grouping=True)
    return str(value)


@register.simple_tag
def figure_cell(table: Table, column: int, value: Cell, threshold: int | None = None) -> str:
    return cell_text(table, column, value, threshold=threshold)


@register.inclusion_tag("figures/chart.svg")
def figure_chart(table: Table, threshold: int | None = None) -> dict[str, Any]:
    """The geometry of ``table``'s chart: horizontal bars largest first, or columns in
    order of time."""
    chart = table.chart
    if chart is None:
        return {"chart": None}
    rows = table.rows[: chart.limit] if chart.limit else table.rows
    values = [count_in(row[chart.value_column]) for row in rows]
    largest = max(values, default=0) or 1
    common = {"chart": chart, "slug": table.slug, "title": table.title, "width": CHART_WIDTH}
    if chart.kind == "bars":
        plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
        bars = [
            {
                "label": str(row[chart.label_column]),
                "value": cell_text(
                    table, chart.value_column, row[chart.value_column], threshold=threshold
                ),
                "y": index * (BAR_HEIGHT + BAR_GAP),
                "text_y": index * (BAR_HEIGHT + BAR_GAP) + BAR_HEIGHT - 4,
                "width": round(plot * value / largest, 1),
                "value_x": LABEL_WIDTH + round(plot * value / largest, 1) + 6,
            }
            for index, (row, value) in enumerate(zip(rows, values, strict=True))
        ]
        return {
            **common,
            "bars": bars,
            "height": max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP),
            "label_width": LABEL_WIDTH,
            "label_x": LABEL_WIDTH - 8,
        }
    step = (CHART_WIDTH - 20) / max(len(rows), 1)
    every = max(1, math.ceil(len(rows) / 12))
    columns = [
        {
            "label": str(row[chart.label_column]),
            "value": cell_text(
                table, chart.value_column, row[chart.value_column], threshold=threshold
            ),
            "x": round(10 + index * step + step * 0.1, 1),
            "width": round(step * 0.8, 1),
            "height": round(COLUMNS_HEIGHT * value / largest, 1),
            "y": round(COLUMNS_HEIGHT - COLUMNS_HEIGHT * value / largest, 1),
            "label_x": round(10 + index * step + step / 2, 1),
            "labelled": index % every == 0,
        }
        for index, (row, value) in enumerate(zip(rows, values, strict=True))
    ]
    return {
        **common,
        "columns": columns,
        "height": COLUMNS_HEIGHT + AXIS_HEIGHT,
        "axis_y": COLUMNS_HEIGHT,
        "label_y": COLUMNS_HEIGHT + 16,
        "largest": cell_text(table, chart.value_column, largest, threshold=threshold),
    }
