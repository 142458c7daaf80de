"""Soak: reports offered at a steady rate for a long while (by default 50 a second for 10
minutes), mixing the three ways in: JSON single submissions (open, one file, finish), XML
submissions as CyberTipline clients send them (submit, upload, fileinfo, finish) and the
public form; then, once routing and delivery have drained, the counts that must agree.

    python -m bench.soak [--rate R] [--seconds S]

Served as in production: gunicorn (config/gunicorn.py), a 2-process Celery worker on every
queue, a 1-process worker on `urgent`, beat (the sweeps) and the simulated agency taking
webhooks for the agencies the reports resolve to, all on this machine against a scratch
PostgreSQL database and Redis prefix. Prints: requests answered by status (no 5xx
allowed), reports accepted against reports referred and delivered (none lost), latency
per kind, and each process kind's resident memory each minute (flat, not growing).
Not part of `make bench` or CI: it runs for as long as it is told to.
"""

import argparse
import http.client
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import psycopg

from bench.harness import PYTHON, Stack, machine_description, stack, wait_until
from bench.intake import scenarios
from bench.pipeline import manage, process

MIX = ["JSON single"] * 4 + ["XML single"] * 3 + ["public form"] * 3
# The agencies the offered reports resolve to: GB (the API's and XML's IP evidence) and
# DE (the public form's stated country).
WEBHOOK_AGENCIES = ["direct-gb", "direct-de"]
THREADS = 12
STATUS = re.compile(r": (\d{3}) ")


def resident_mib(pid: int) -> float:
    """Resident memory (VmRSS) of a process and its children, in MiB."""

    def rss(process_id: int) -> float:
        try:
            for line in Path(f"/proc/{process_id}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except FileNotFoundError:
            pass
        return 0.0

    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        children = []
    return rss(pid) + sum(rss(int(child)) for child in children)


class Offered:
    """What the load generator sent and what came back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.worst_lag = 0.0

    def record(self, kind: str, outcome: str, seconds: float, lag: float) -> None:
        with self.lock:
            self.statuses[outcome] += 1
            if outcome == "ok":
                self.accepted[kind] += 1
                self.seconds[kind].append(seconds)
            self.worst_lag = max(self.worst_lag, lag)


def offer(
    web: Stack, rate: float, seconds: float, offered: Offered, on_minute: Callable[[int], None]
) -> None:
    units = {name: unit for name, (unit, _) in scenarios(web).items() if name in set(MIX)}
    local = threading.local()
    started = time.monotonic()

    def submit(number: int) -> None:
        kind = MIX[number % len(MIX)]
        lag = time.monotonic() - (started + number / rate)
        connection = getattr(local, "connection", None) or web.connection()
        local.connection = connection
        began = time.monotonic()
        try:
            units[kind](connection)
            outcome = "ok"
        except RuntimeError as error:  # an answer other than the expected one
            found = STATUS.search(str(error))
            outcome = found.group(1) if found else f"unexpected: {str(error)[:80]}"
            local.connection = None
        except (OSError, http.client.HTTPException) as error:
            outcome = f"connection: {type(error).__name__}"
            local.connection = None
        offered.record(kind, outcome, time.monotonic() - began, lag)

    count = round(rate * seconds)
    next_minute = 60.0
    with ThreadPoolExecutor(THREADS) as pool:
        for number in range(count):
            due = started + number / rate
            if due - started >= next_minute:
                on_minute(int(next_minute // 60))
                next_minute += 60
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # pacing: the next report is not due yet
            pool.submit(submit, number)


def counts(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as db:
        row = db.execute(
            """
            SELECT
              (SELECT count(*) FROM intake_report WHERE status = 'finished'),
              (SELECT count(*) FROM intake_report WHERE status = 'finished'
                 AND routed_at IS NOT NULL),
              (SELECT count(DISTINCT report_id) FROM routing_referral),
              (SELECT count(*) FROM routing_referral),
              (SELECT count(*) FROM (SELECT report_id, agency_id FROM routing_referral
                 GROUP BY 1, 2 HAVING count(*) > 1) AS twice),
              (SELECT count(*) FROM routing_referral r JOIN routing_agency a
                 ON a.id = r.agency_id WHERE a.delivery_mode = 'webhook'),
              (SELECT count(*) FROM routing_referral r JOIN routing_agency a
                 ON a.id = r.agency_id WHERE a.delivery_mode = 'webhook'
                 AND r.delivered_at IS NOT NULL)
            """
        ).fetchone()
    assert row is not None
    names = [
        "finished",
        "routed",
        "referred",
        "referrals",
        "duplicate referrals",
        "webhook referrals",
        "delivered",
    ]
    return dict(zip(names, row, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="reports offered a second")
    parser.add_argument("--seconds", type=float, default=600.0, help="how long they are offered")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    print(f"machine: {machine_description()}", flush=True)
    quick_sweeps = {"ROUTING_SWEEP_INTERVAL_SECONDS": "15", "DELIVERY_SWEEP_INTERVAL_SECONDS": "15"}
    with (
        stack(extra_env={"PUBLIC_REPORTS_PER_HOUR": "0", **quick_sweeps}) as web,
        tempfile.TemporaryDirectory() as directory,
        ExitStack() as processes,
    ):
        env, logs = web.env, Path(directory)
        agency = [PYTHON, "manage.py", "run_agency_simulator", "--port", "0"]
        agency_log = logs / "agency.log"
        agency_pid = processes.enter_context(process(agency, env, agency_log))
        wait_until(lambda: "listening on" in agency_log.read_text(), 60, "the simulated agency")
        agency_url = agency_log.read_text().split("listening on ", 1)[1].split("/ ", 1)[0]
        for code in WEBHOOK_AGENCIES:
            manage(env, "configure_agency_webhook", code, f"{agency_url}/referrals")
        celery = [PYTHON, "-m", "celery", "-A", "config"]
        worker = [*celery, "worker", "-Q", "urgent,routing,delivery,default", "-c", "2"]
        urgent = [*celery, "worker", "-Q", "urgent", "-c", "1", "-n", "urgent@%h"]
        beat = [*celery, "beat", "--schedule", str(logs / "beat-schedule")]
        pids = {
            "gunicorn (master and workers)": web.server_pid,
            "Celery worker (main and 2 pool processes)": processes.enter_context(
                process([*worker, "--loglevel", "WARNING"], env, logs / "worker.log")
            ),
            "Celery urgent worker": processes.enter_context(
                process([*urgent, "--loglevel", "WARNING"], env, logs / "urgent.log")
            ),
            "Celery beat": processes.enter_context(
                process([*beat, "--loglevel", "WARNING"], env, logs / "beat.log")
            ),
            "simulated agency": agency_pid,
        }
        memory: dict[str, list[float]] = {name: [] for name in pids}

        def sample(minute: int) -> None:
            for name, pid in pids.items():
                memory[name].append(resident_mib(pid))
            print(
                f"  minute {minute}: {dict(zip(pids, (m[-1] for m in memory.values()), strict=True))}",
                flush=True,
            )

        offered = Offered()
        started = time.monotonic()
        sample(0)
        offer(web, args.rate, args.seconds, offered, sample)
        offer_seconds = time.monotonic() - started
        sample(int(offer_seconds // 60) + 1)

        accepted = sum(offered.accepted.values())

        def drained() -> bool:
            now = counts(env["DATABASE_URL"])
            return (
                now["referred"] >= now["finished"] and now["delivered"] >= now["webhook referrals"]
            )

        drain_started = time.monotonic()
        try:
            wait_until(drained, 600, "routing and delivery to drain")
        except RuntimeError as error:
            print(f"NOT DRAINED: {error}")
        drain_seconds = time.monotonic() - drain_started
        final = counts(env["DATABASE_URL"])

    print(
        f"\noffered {round(args.rate * args.seconds):,} reports at {args.rate:g}/s for {args.seconds:g} s "
        f"(sent in {offer_seconds:.0f} s; the worst start {offered.worst_lag:.2f} s late)"
    )
    print(f"answers: {dict(offered.statuses)}")
    server_errors = sum(n for status, n in offered.statuses.items() if status.startswith("5"))
    print(f"5xx: {server_errors}")
    for kind in sorted(offered.seconds):
        took = sorted(offered.seconds[kind])
        p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
        print(
            f"  {kind}: {offered.accepted[kind]:,} accepted; p50 {statistics.median(took):.3f} s, p99 {p99:.3f} s"
        )
    print(f"accepted {accepted:,}; in the database: {final}")
    print(
        f"lost (accepted, not referred): {final['finished'] - final['referred']}; "
        f"drained {drain_seconds:.0f} s after the last offer"
    )
    for name, samples in memory.items():
        settled = samples[1:] or samples
        print(
            f"memory, {name}: " + ", ".join(f"{value:.0f}" for value in samples) + " MiB "
            f"(growth after minute 1: {settled[-1] - settled[0]:+.0f} MiB)"
        )


if __name__ == "__main__":
    main()
