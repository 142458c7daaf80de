"""Run inside the bench environment (bench.settings, a scratch database, Redis): puts work
in front of the pipeline benchmark's workers.

    python -m bench.pipeline_feed backlog N        N finished reports, one routing message each
    python -m bench.pipeline_feed noop-backlog N   N no-op routing messages (the baseline)
    python -m bench.pipeline_feed offer RATE SECONDS
                                                   open and finish reports at RATE a second

Each prints one JSON line about what it did."""

import json
import sys
import time
from typing import Any
from unittest import mock

import django

from bench.harness import REPORT


def document() -> dict[str, Any]:
    from intake.documents import ReportSerializer, validated_document

    return validated_document(ReportSerializer, REPORT)


def backlog(count: int) -> dict[str, Any]:
    """Finished reports written in bulk, then one routing message per report, as
    `report_finish` sends it (a bulk submission would send one per 100)."""
    from intake.models import Provider
    from intake.services import reports_submit_bulk
    from routing.tasks import enqueue_routing

    provider = Provider.objects.get()
    item: tuple[dict[str, Any], list[dict[str, Any]]] = (document(), [])
    report_ids: list[int] = []
    with mock.patch("intake.services.enqueue_routing"):
        for start in range(0, count, 1_000):
            reports = reports_submit_bulk(
                provider=provider, items=[item] * min(1_000, count - start)
            )
            report_ids += [report.pk for report in reports]
    started = time.perf_counter()
    for report_id in report_ids:
        enqueue_routing([report_id])
    return {
        "first": report_ids[0],
        "last": report_ids[-1],
        "publish_seconds": time.perf_counter() - started,
    }


def noop_backlog(count: int) -> dict[str, Any]:
    from bench.noop_tasks import enqueue_noop_routing

    started = time.perf_counter()
    enqueue_noop_routing(count)
    return {"messages": count, "publish_seconds": time.perf_counter() - started}


def offer(rate: float, seconds: float) -> dict[str, Any]:
    """Open and finish one report every 1/RATE s, on a fixed schedule (a late report does
    not push back the ones after it), through the services the API calls."""
    from intake.models import Provider
    from intake.services import report_finish, report_open

    provider = Provider.objects.get()
    content = document()
    count = round(rate * seconds)
    worst_lag = 0.0
    report_ids: list[int] = []
    started = time.monotonic()
    for number in range(count):
        lag = time.monotonic() - (started + number / rate)
        if lag < 0:
            time.sleep(-lag)  # pacing: the next report is not due yet
        worst_lag = max(worst_lag, lag)
        report = report_open(document=content, provider=provider)
        report_finish(report_id=report.pk, provider=provider)
        report_ids.append(report.pk)
    elapsed = time.monotonic() - started
    return {
        "first": report_ids[0],
        "last": report_ids[-1],
        "rate": count / elapsed,
        "worst_lag": worst_lag,
    }


def main() -> None:
    django.setup()
    command, *args = sys.argv[1:]
    if command == "backlog":
        result = backlog(int(args[0]))
    elif command == "noop-backlog":
        result = noop_backlog(int(args[0]))
    elif command == "offer":
        result = offer(float(args[0]), float(args[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
