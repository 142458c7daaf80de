"""Run inside the bench environment (bench.settings, a scratch database): the statistics
benchmark's measurements that need the app itself.

    python -m bench.figures_probe refresh        one figures_refresh(), timed
    python -m bench.figures_probe profile QUERY  the staff page's figure queries for QUERY
                                                 (a query string), each timed, and the plan
                                                 of the slowest

Each prints one JSON line about what it did."""

import json
import sys
import time
from typing import Any

import django


def rollup_rows() -> dict[str, int]:
    from routing.models import DailyDurations, DailyReferralFigures, DailyReportFigures

    return {
        "daily report figures": DailyReportFigures.objects.count(),
        "daily referral figures": DailyReferralFigures.objects.count(),
        "daily durations": DailyDurations.objects.count(),
    }


def refresh() -> dict[str, Any]:
    from routing.figures import figures_refresh

    started = time.perf_counter()
    days = figures_refresh()
    seconds = time.perf_counter() - started
    if days is None:
        raise RuntimeError("another refresh held the lock")
    return {"seconds": seconds, "days": len(days), "rows": rollup_rows()}


def profile(query: str) -> dict[str, Any]:
    """What the staff page asks the database for QUERY, query by query (the figures only:
    not the session, the admin's context or the template)."""
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from routing.forms import FiguresForm
    from routing.selectors import country_names
    from routing.statistics import REGIONS, figure_years, region_snapshot, staff_tables

    names = country_names("en")
    form = FiguresForm(QueryDict(query), country_names=names)
    if not form.is_valid():
        raise RuntimeError(f"not a valid figures query: {query!r}: {form.errors}")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        staff_tables(form.filters(), names=names)
        region_name, countries = REGIONS["EU"]
        region_snapshot(
            region=region_name, countries=countries, years=form.snapshot_years(figure_years())
        )
    seconds = time.perf_counter() - started
    queries = sorted(
        ((float(query["time"]) * 1000, query["sql"]) for query in captured), reverse=True
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {queries[0][1]}")
        plan = [row[0] for row in cursor.fetchall()]
    return {
        "seconds": seconds,
        "queries": len(queries),
        "database_ms": sum(ms for ms, _ in queries),
        "slowest": [{"ms": ms, "sql": text} for ms, text in queries[:3]],
        "plan": plan,
    }


if __name__ == "__main__":
    django.setup()
    command, *args = sys.argv[1:]
    if command == "refresh":
        result = refresh()
    elif command == "profile":
        result = profile(*args)
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))
