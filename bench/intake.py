"""Intake throughput: reports per second for single JSON submissions (open + finish),
single XML submissions (submit + finish) and bulk JSON (1,000 a request), against a bare
Django view that parses a JSON body and inserts one row, measured in the same run.

    python -m bench.intake [--seconds N]
"""

import argparse
import base64
import http.client
import json
import re
from collections.abc import Callable

from bench.harness import REPORT, Stack, call, machine_description, run_load, stack
from tests.intake.xml_samples import MINIMAL_REPORT

REPORT_BODY = json.dumps(REPORT).encode()
BULK_SIZE = 1000
BULK_BODY = json.dumps({"reports": [REPORT] * BULK_SIZE}).encode()


Unit = Callable[[http.client.HTTPConnection], int]


def scenarios(stack: Stack) -> dict[str, tuple[Unit, int]]:
    token = {
        "Authorization": f"Token {stack.provider['token']}",
        "Content-Type": "application/json",
    }
    basic = base64.b64encode(
        f"{stack.provider['username']}:{stack.provider['password']}".encode()
    ).decode()
    xml_headers = {"Authorization": f"Basic {basic}", "Content-Type": "text/xml; charset=utf-8"}
    form_headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }

    def bare(connection: http.client.HTTPConnection) -> int:
        call(
            connection,
            "POST",
            "/bench/bare",
            REPORT_BODY,
            {"Content-Type": "application/json"},
            201,
        )
        return 1

    def json_single(connection: http.client.HTTPConnection) -> int:
        opened = json.loads(call(connection, "POST", "/api/v1/reports", REPORT_BODY, token, 201))
        call(connection, "POST", f"/api/v1/reports/{opened['reportId']}/finish", b"", token, 200)
        return 1

    def xml_single(connection: http.client.HTTPConnection) -> int:
        submitted = call(connection, "POST", "/ispws/submit", MINIMAL_REPORT, xml_headers, 200)
        report_id = re.search(rb"<reportId>(\d+)</reportId>", submitted).group(1)  # type: ignore[union-attr]
        call(connection, "POST", "/ispws/finish", b"id=" + report_id, form_headers, 200)
        return 1

    def bulk(connection: http.client.HTTPConnection) -> int:
        results = json.loads(
            call(connection, "POST", "/api/v1/reports/bulk", BULK_BODY, token, 200)
        )["results"]
        if not all("reportId" in result for result in results):
            raise RuntimeError(f"bulk refused items: {results[:2]}")
        return len(results)

    return {
        "bare insert": (bare, 8),
        "JSON single": (json_single, 8),
        "XML single": (xml_single, 8),
        "JSON bulk": (bulk, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each measurement")
    args = parser.parse_args()
    print(f"machine: {machine_description()}")
    with stack() as running:
        rates = {}
        for name, (unit, concurrency) in scenarios(running).items():
            run_load(running, unit, seconds=2, concurrency=concurrency)  # warm up
            rates[name] = run_load(running, unit, seconds=args.seconds, concurrency=concurrency)
    baseline = rates.pop("bare insert")
    print(f"{'benchmark':<14}{'ours':>14}{'baseline':>16}{'ratio':>8}  target")
    print(f"{'bare insert':<14}{baseline:>10.0f} r/s{'':>16}{'':>8}")
    targets = {"JSON single": ">= 0.5x", "XML single": ">= 0.5x", "JSON bulk": ">= 2000 r/s"}
    for name, rate in rates.items():
        print(
            f"{name:<14}{rate:>10.0f} r/s{baseline:>12.0f} r/s{rate / baseline:>7.2f}x  {targets[name]}"
        )


if __name__ == "__main__":
    main()
