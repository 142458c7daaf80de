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
from concurrent.futures import ThreadPoolExecutor
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
    """Finished reports with their files, and their routing messages: one per report, as
    `report_finish` sends it (shape `single`), or one per 100, as a bulk submission does
    (shape `bulk`). The first thousand are submitted through the bulk intake service; the
    rest are copies of them made by SQL, each file with new hashes."""
    from intake.models import Provider
    from intake.services import reports_submit_bulk
    from routing.tasks import enqueue_routing

    provider = Provider.objects.get()
    content = document()
    with mock.patch("intake.services.enqueue_routing"):
        items = [
            (content, [file_details(number) for number in range(FILES_PER_REPORT)])
            for _ in range(min(count, SUBMITTED))
        ]
        submitted = [report.pk for report in reports_submit_bulk(provider=provider, items=items)]
    report_ids = submitted + copies_of(submitted, count - len(submitted))
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


SUBMITTED = 1_000


def copies_of(report_ids: list[int], count: int) -> list[int]:
    """``count`` copies of the reports ``report_ids`` (consecutive ids), with their files
    and report-level IP events, by SQL: a round copies them all once."""
    from django.db import connection, transaction

    from intake.models import IpCaptureEvent, Report, ReportedFile

    def columns(model: Any, *skipped: str) -> list[str]:
        return [
            field.column
            for field in model._meta.concrete_fields
            if not field.primary_key and field.column not in skipped
        ]

    first, last = report_ids[0], report_ids[-1]
    assert last - first + 1 == len(report_ids), "the reports' ids are consecutive"
    report_columns = ", ".join(columns(Report))
    file_columns = columns(ReportedFile, "report_id", "file_id", "md5", "sha256")
    event_columns = columns(IpCaptureEvent, "report_id")
    copied: list[int] = []
    with connection.cursor() as cursor:
        while len(copied) < count:
            size = min(len(report_ids), count - len(copied))
            with transaction.atomic():
                cursor.execute(
                    f"INSERT INTO intake_report ({report_columns}) SELECT {report_columns} "
                    "FROM intake_report WHERE id BETWEEN %s AND %s ORDER BY id RETURNING id",
                    [first, first + size - 1],
                )
                new_ids = sorted(row[0] for row in cursor.fetchall())
                assert new_ids[-1] - new_ids[0] + 1 == size, "the copies' ids are consecutive"
                shift = new_ids[0] - first
                cursor.execute(
                    f"INSERT INTO intake_reportedfile (report_id, file_id, md5, sha256, "
                    f"{', '.join(file_columns)}) SELECT report_id + %s, md5(random()::text), "
                    "md5(random()::text), md5(random()::text) || md5(random()::text), "
                    f"{', '.join(file_columns)} FROM intake_reportedfile "
                    "WHERE report_id BETWEEN %s AND %s",
                    [shift, first, first + size - 1],
                )
                cursor.execute(
                    f"INSERT INTO intake_ipcaptureevent (report_id, {', '.join(event_columns)}) "
                    f"SELECT report_id + %s, {', '.join(event_columns)} FROM intake_ipcaptureevent "
                    "WHERE report_id BETWEEN %s AND %s AND file_id IS NULL",
                    [shift, first, first + size - 1],
                )
            copied += new_ids
    return copied


def noop_backlog(count: int) -> dict[str, Any]:
    from bench.noop_tasks import enqueue_noop_routing

    started = time.perf_counter()
    enqueue_noop_routing(count)
    return {"messages": count, "publish_seconds": time.perf_counter() - started}


OFFERING_THREADS = 4


def offer(rate: float, seconds: float, urgent: bool = False) -> dict[str, Any]:
    """Open, describe 3 files of and finish one report every 1/RATE s, on a fixed schedule
    (a late report does not push back the ones after it), through the services the API
    calls, from a few threads (as a few web processes would)."""
    from django.db import connection

    from intake.models import Provider
    from intake.services import report_file_add, report_finish, report_open

    provider = Provider.objects.get()
    content = document(urgent=urgent)
    count = round(rate * seconds)
    started = time.monotonic()

    def submit(number: int) -> tuple[int, float]:
        lag = time.monotonic() - (started + number / rate)
        report = report_open(document=content, provider=provider)
        for file_number in range(FILES_PER_REPORT):
            report_file_add(report=report, details=file_details(file_number))
        report_finish(report_id=report.pk, provider=provider)
        return report.pk, lag

    def close_connection() -> None:
        connection.close()

    with ThreadPoolExecutor(OFFERING_THREADS) as pool:
        submitted = []
        for number in range(count):
            wait = started + number / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # pacing: the next report is not due yet
            submitted.append(pool.submit(submit, number))
        results = [future.result() for future in submitted]
        for _ in range(OFFERING_THREADS):
            pool.submit(close_connection)
    elapsed = time.monotonic() - started
    report_ids = sorted(report_id for report_id, _ in results)
    assert report_ids[-1] - report_ids[0] + 1 == count, "the offered reports' ids are consecutive"
    return {
        "first": report_ids[0],
        "last": report_ids[-1],
        "rate": count / elapsed,
        "worst_lag": max(lag for _, lag in results),
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
