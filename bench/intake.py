"""Intake throughput: reports per second for single JSON submissions (open + file +
finish), single XML submissions (submit + upload + fileinfo + finish, as CyberTipline
clients send them), the public form (one POST) and bulk JSON (1,000 reports a request,
without files and with 3 each), against a bare Django view that parses a JSON body and inserts one row,
measured in the same run; and the web processes' peak memory.

    python -m bench.intake [--seconds N]
"""

import argparse
import base64
import http.client
import json
import re
import secrets
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from bench.harness import REPORT, Stack, call, machine_description, memory_line, run_load, stack
from tests.intake.xml_samples import MINIMAL_REPORT, file_details

REPORT_BODY = json.dumps(REPORT).encode()
BULK_SIZE = 1000
FILES_PER_REPORT = 3  # 85 million files in 29.4 million reports (2021): 2.9 a report


def new_file() -> dict[str, object]:
    return {
        "fileName": "holiday.jpg",
        "originalFileHash": [
            {"hashType": "MD5", "value": secrets.token_hex(16)},
            {"hashType": "SHA256", "value": secrets.token_hex(32)},
        ],
    }


FILE_BODY = json.dumps(new_file()).encode()
BULK_BODY = json.dumps({"reports": [REPORT] * BULK_SIZE}).encode()
BULK_WITH_FILES_BODY = json.dumps(
    {"reports": [{**REPORT, "files": [new_file()] * FILES_PER_REPORT}] * BULK_SIZE}
).encode()
UPLOAD_BOUNDARY = uuid.uuid4().hex
# A few synthetic bytes standing for a file: hashed in transit, never kept.
UPLOAD_BODY = (
    f"--{UPLOAD_BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="id"\r\n\r\n{report_id}\r\n'
    f"--{UPLOAD_BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n"
    f"{'x' * 1024}\r\n"
    f"--{UPLOAD_BOUNDARY}--\r\n"
)
PUBLIC_FORM = {
    "what_happened": "enticement",
    "incident_date": "2026-03-04",
    "description": "An adult asked a child for pictures in a game chat on example.com.",
    "country": "DE",
}


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

    upload_headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": f"multipart/form-data; boundary={UPLOAD_BOUNDARY}",
    }

    def json_single(connection: http.client.HTTPConnection) -> int:
        opened = json.loads(call(connection, "POST", "/api/v1/reports", REPORT_BODY, token, 201))
        path = f"/api/v1/reports/{opened['reportId']}"
        call(connection, "POST", f"{path}/files", FILE_BODY, token, 201)
        call(connection, "POST", f"{path}/finish", b"", token, 200)
        return 1

    def xml_single(connection: http.client.HTTPConnection) -> int:
        submitted = call(connection, "POST", "/ispws/submit", MINIMAL_REPORT, xml_headers, 200)
        report_id = re.search(rb"<reportId>(\d+)</reportId>", submitted).group(1).decode()  # type: ignore[union-attr]
        body = UPLOAD_BODY.format(report_id=report_id).encode()
        uploaded = call(connection, "POST", "/ispws/upload", body, upload_headers, 200)
        file_id = re.search(rb"<fileId>(\w+)</fileId>", uploaded).group(1).decode()  # type: ignore[union-attr]
        details = file_details(int(report_id), file_id)
        call(connection, "POST", "/ispws/fileinfo", details, xml_headers, 200)
        call(connection, "POST", "/ispws/finish", f"id={report_id}".encode(), form_headers, 200)
        return 1

    public_sessions: dict[int, dict[str, str]] = {}

    def public_form(connection: http.client.HTTPConnection) -> int:
        """A member of the public's report: one POST of the form (its page was read once,
        for the CSRF token, as a browser has it before posting)."""
        session = public_sessions.get(id(connection))
        if session is None:
            connection.request("GET", "/report/")
            response = connection.getresponse()
            page = response.read().decode()
            cookies = " ".join(response.headers.get_all("Set-Cookie") or [])
            found = re.search(r"csrftoken=([^;]+)", cookies)
            if response.status != 200 or found is None:
                raise RuntimeError(f"GET /report/: {response.status} {response.headers}")
            cookie = found.group(1)
            field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            session = public_sessions[id(connection)] = {"cookie": cookie, "token": field}
        body = urlencode({**PUBLIC_FORM, "csrfmiddlewaretoken": session["token"]}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={session['cookie']}",
        }
        received = call(connection, "POST", "/report/", body, headers, 200)
        if b'id="receipt-code"' not in received:
            raise RuntimeError("the public form did not give a receipt code")
        return 1

    def bulk_of(body: bytes) -> Unit:
        def bulk(connection: http.client.HTTPConnection) -> int:
            results = json.loads(
                call(connection, "POST", "/api/v1/reports/bulk", body, token, 200)
            )["results"]
            if not all("reportId" in result for result in results):
                raise RuntimeError(f"bulk refused items: {results[:2]}")
            return len(results)

        return bulk

    return {
        "bare insert": (bare, 8),
        "JSON single": (json_single, 8),
        "XML single": (xml_single, 8),
        "public form": (public_form, 8),
        "JSON bulk": (bulk_of(BULK_BODY), 2),
        "bulk, 3 files": (bulk_of(BULK_WITH_FILES_BODY), 2),
    }


REQUESTS_PER_REPORT = {
    "JSON single": 3,
    "XML single": 4,
    "public form": 1,
    "JSON bulk": 1 / BULK_SIZE,
    "bulk, 3 files": 1 / BULK_SIZE,
}
TARGETS = {
    "JSON single": ">= 0.5x",
    "XML single": ">= 0.5x",
    "public form": ">= 0.5x",
    "JSON bulk": ">= 2,000 r/s",
    "bulk, 3 files": ">= 2,000 r/s",
}


def met(name: str, rate: float, baseline: float) -> bool:
    return rate >= 2_000 if name.startswith(("JSON bulk", "bulk")) else rate / baseline >= 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    args = parser.parse_args()
    print(f"machine: {machine_description()}")
    with stack(extra_env={"PUBLIC_REPORTS_PER_HOUR": "0"}) as running:
        rates = {}
        for name, (unit, concurrency) in scenarios(running).items():
            run_load(running, unit, seconds=2, concurrency=concurrency)  # warm up
            rates[name] = run_load(running, unit, seconds=args.seconds, concurrency=concurrency)
        memory = memory_line("web (gunicorn master; workers)", running.server_pid)
    baseline = rates.pop("bare insert")
    print(
        f"{'benchmark':<14}{'ours':>14}{'requests':>14}{'baseline':>16}{'ratio':>8}"
        f"{'per request':>13}  target"
    )
    print(f"{'bare insert':<14}{baseline:>10.0f} r/s{baseline:>10.0f} q/s")
    for name, rate in rates.items():
        requests = rate * REQUESTS_PER_REPORT[name]
        print(
            f"{name:<14}{rate:>10.0f} r/s{requests:>10.0f} q/s{baseline:>12.0f} r/s"
            f"{rate / baseline:>7.2f}x{requests / baseline:>12.2f}x  {TARGETS[name]}: "
            + ("met" if met(name, rate, baseline) else "not met")
        )
    print(memory)


if __name__ == "__main__":
    main()
