"""Run inside the bench environment (bench.settings, a scratch database, Redis): puts work
in front of the pipeline benchmark's workers.

    python -m bench.pipeline_feed backlog N SHAPE  N finished reports with 3 files each, and
                                                   their routing messages: one per report
                                                   (SHAPE single, as `report_finish` sends
                                                   them) or one per 100 (bulk, as a bulk
                                                   submission does)
    python -m bench.pipeline_feed noop-backlog N   N no-op routing messages (the baseline)
    python -m bench.pipeline_feed offer RATE SECONDS [urgent]
                                                   open and finish reports at RATE a second
                                                   (priority 1 ones with `urgent`)

Each prints one JSON line about what it did."""

import json
import random
import sys
import time
from typing import Any, cast
from unittest import mock

import django

from bench.harness import REPORT

FILES_PER_REPORT = 3  # 85 million files in 29.4 million reports (2021): 2.9 a report
URGENT = "The user appears to be in ongoing contact with a child."
hashes = random.Random(1)  # synthetic hashes: every file new content


def document(*, urgent: bool = False) -> dict[str, Any]:
    from intake.documents import ReportSerializer, validated_document

    summary = dict(cast(dict[str, Any], REPORT["incidentSummary"]))
    if urgent:
        summary["escalateToHighPriority"] = URGENT
    return validated_document(ReportSerializer, {**REPORT, "incidentSummary": summary})


def file_details(number: int) -> dict[str, Any]:
    return {
        "fileName": f"file-{number}.jpg",
        "originalFileHash": [
            {"hashType": "MD5", "value": f"{hashes.getrandbits(128):032x}"},
            {"hashType": "SHA256", "value": f"{hashes.getrandbits(256):064x}"},
        ],
    }


def backlog(count: int, shape: str) -> dict[str, Any]:
    """Finished reports with their files written in bulk, then their routing messages: one
    per report, as `report_finish` sends it (shape `single`), or one per 100, as a bulk
    submission does (shape `bulk`)."""
    from intake.models import Provider
    from intake.services import reports_submit_bulk
    from routing.tasks import enqueue_routing

    provider = Provider.objects.get()
    content = document()
    report_ids: list[int] = []
    with mock.patch("intake.services.enqueue_routing"):
        for start in range(0, count, 1_000):
            items = [
                (content, [file_details(number) for number in range(FILES_PER_REPORT)])
                for _ in range(min(1_000, count - start))
            ]
            reports = reports_submit_bulk(provider=provider, items=items)
            report_ids += [report.pk for report in reports]
    started = time.perf_counter()
    if shape == "single":
        for report_id in report_ids:
            enqueue_routing([report_id])
    else:
        enqueue_routing(report_ids)
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


def offer(rate: float, seconds: float, urgent: bool = False) -> dict[str, Any]:
    """Open and finish one report every 1/RATE s, on a fixed schedule (a late report does
    not push back the ones after it), through the services the API calls."""
    from intake.models import Provider
    from intake.services import report_file_add, report_finish, report_open

    provider = Provider.objects.get()
    content = document(urgent=urgent)
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
        for file_number in range(FILES_PER_REPORT):
            report_file_add(report=report, details=file_details(file_number))
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
        result = backlog(int(args[0]), args[1])
    elif command == "noop-backlog":
        result = noop_backlog(int(args[0]))
    elif command == "offer":
        result = offer(float(args[0]), float(args[1]), urgent=args[2:] == ["urgent"])
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
