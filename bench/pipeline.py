"""Pipeline: finished reports (3 files each) categorized, routed and delivered per second
by 2 worker processes (and by 1), against no-op Celery tasks, one routing and one delivery
message a report, through the same processes; the time from finish to delivered at a
steady offered load; a priority-1 report's, while a backlog of 100,000 drains; and each
process kind's peak memory.

    python -m bench.pipeline [--reports N] [--rate R] [--seconds S] [--backlog N]

One `celery worker --concurrency 2` (production's worker: prefork, INFO log to a file)
serves every queue; the agency the reports go to (direct-gb) delivers by webhook to the
simulated agency (`manage.py run_agency_simulator`), all on this machine. The worker
starts on an idle queue; each measurement queues its whole backlog first, then has the
worker consume the real queues (Celery's `add_consumer`) and ends when the last item is
done, by the time recorded where it was done (`Referral.delivered_at`, or the no-op
delivery's own clock).
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import redis
from celery import Celery

from bench.harness import (
    PYTHON,
    ROOT,
    call,
    machine_description,
    memory_line,
    scratch_database,
    wait_until,
)

QUEUES = ["urgent", "routing", "delivery", "default"]
IDLE_QUEUE = "bench-idle"
AGENCY = "direct-gb"


class Pipeline:
    """The scratch environment, the worker (by its Celery hostname) and the simulator."""

    def __init__(self, env: dict[str, str], hostname: str, agency_url: str) -> None:
        self.env = env
        self.hostname = hostname
        self.agency_url = agency_url
        self.pids: dict[str, int] = {}
        self.prefix = env["CELERY_KEY_PREFIX"]
        self.app = Celery(
            "bench-control",
            broker=env["REDIS_URL"],
            broker_transport_options={"global_keyprefix": self.prefix},
            set_as_current=False,
        )
        self.control = self.app.control
        self.redis = redis.Redis.from_url(env["REDIS_URL"])
        self.db = psycopg.connect(env["DATABASE_URL"], autocommit=True)

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.db.close()
        self.redis.close()
        self.app.close()

    def feed(self, *args: str | int | float) -> dict[str, Any]:
        output = subprocess.run(
            [PYTHON, "-m", "bench.pipeline_feed", *map(str, args)],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

    def consume(self, on: bool) -> float:
        """Start (or stop) consuming the real queues; returns when routing messages began
        to be consumed (the routing queue is added last)."""
        started = 0.0
        for queue in sorted(QUEUES, key=lambda queue: queue == "routing"):
            started = time.time()
            if on:
                replies = self.control.add_consumer(
                    queue, destination=[self.hostname], reply=True, timeout=10
                )
            else:
                replies = self.control.cancel_consumer(
                    queue, destination=[self.hostname], reply=True, timeout=10
                )
            if not replies:
                raise RuntimeError(f"the worker did not answer {'add' if on else 'cancel'} {queue}")
        return started

    def pool_size(self) -> int:
        stats = self.control.inspect(destination=[self.hostname], timeout=5).stats() or {}
        return len(stats[self.hostname]["pool"]["processes"])

    def processes(self, count: int) -> None:
        """Grow or shrink the worker's pool to ``count`` processes."""
        current = self.pool_size()
        if count < current:
            self.control.pool_shrink(current - count, destination=[self.hostname], reply=True)
        elif count > current:
            self.control.pool_grow(count - current, destination=[self.hostname], reply=True)
        wait_until(lambda: self.pool_size() == count, 30, f"{count} worker processes")

    def queued(self) -> int:
        return sum(int(self.redis.llen(f"{self.prefix}{queue}")) for queue in QUEUES)

    def referrals(self, first: int, last: int) -> tuple[int, int, float | None]:
        """Referrals of reports first..last: how many, how many delivered, the last
        delivery's time."""
        row = self.db.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'delivered'),"
            " extract(epoch FROM max(delivered_at))::float8"
            " FROM routing_referral WHERE report_id BETWEEN %s AND %s",
            [first, last],
        ).fetchone()
        assert row is not None
        return row[0], row[1], row[2]

    def wait_delivered(self, first: int, last: int, timeout: float) -> float:
        """Waits until every report first..last is delivered; returns when the last was."""
        expected = last - first + 1
        deadline = time.monotonic() + timeout
        while True:
            referred, delivered, last_delivery = self.referrals(first, last)
            if delivered == expected:
                assert last_delivery is not None
                return last_delivery
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"after {timeout:.0f} s, {referred:,} of {expected:,} reports were referred "
                    f"and {delivered:,} delivered"
                )
            time.sleep(0.2)

    def received(self) -> dict[str, Any]:
        address = urlsplit(self.agency_url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        try:
            return json.loads(call(connection, "GET", "/received", b"", {}, 200))
        finally:
            connection.close()

    def check_received(self, first: int, last: int) -> str:
        """Every referral of reports first..last arrived at the agency, and none twice."""
        summary = self.received()
        ids = {
            str(referral_id)
            for (referral_id,) in self.db.execute(
                "SELECT id FROM routing_referral WHERE report_id BETWEEN %s AND %s", [first, last]
            ).fetchall()
        }
        missing = ids - summary["received"].keys()
        twice = [key for key in ids if summary["received"].get(key, 0) > 1]
        problems = {key: summary[key] for key in ("duplicates", "failed", "rejected")}
        if missing or twice or any(problems.values()):
            raise RuntimeError(
                f"the simulated agency is missing {len(missing)} referrals, received "
                f"{len(twice)} twice; {problems}"
            )
        return f"{len(ids):,} referrals received once each, duplicates 0"


def throughput(pipeline: Pipeline, reports: int, shape: str = "bulk") -> tuple[float, str]:
    """Reports a second through routing and delivery, from a backlog of ``reports`` whose
    routing messages are one per 100 reports (``bulk``, as a bulk submission sends them)
    or one per report (``single``)."""
    fed = pipeline.feed("backlog", reports, shape)
    first, last = fed["first"], fed["last"]
    expected = reports if shape == "single" else -(-reports // 100)
    assert pipeline.queued() == expected, "the worker consumed before it was told to"
    started = pipeline.consume(True)
    finished = pipeline.wait_delivered(first, last, timeout=300)
    # A report routed in another's batch leaves its own message to be consumed (as a
    # no-op): the work is done when the queues are empty too.
    deadline = time.monotonic() + 120
    while pipeline.queued():
        if time.monotonic() > deadline:
            raise RuntimeError("the queues did not empty")
        time.sleep(0.02)
    finished = max(finished, time.time())
    pipeline.consume(False)
    return reports / (finished - started), pipeline.check_received(first, last)


def noop_throughput(pipeline: Pipeline, messages: int) -> float:
    done = f"{pipeline.prefix}bench-noop-done"
    pipeline.redis.delete(done, f"{done}-last")
    pipeline.feed("noop-backlog", messages)
    assert pipeline.queued() == messages, "the worker consumed before it was told to"
    started = pipeline.consume(True)
    wait_until(lambda: int(pipeline.redis.get(done) or 0) == messages, 120, "the no-op deliveries")
    pipeline.consume(False)
    finished = pipeline.redis.zscore(f"{done}-last", "last")
    assert finished is not None
    return messages / (finished - started)


def latency(pipeline: Pipeline, rate: float, seconds: float) -> dict[str, float]:
    pipeline.consume(True)
    fed = pipeline.feed("offer", rate, seconds)
    first, last = fed["first"], fed["last"]
    pipeline.wait_delivered(first, last, timeout=60 + (last - first) / 5)
    pipeline.consume(False)
    return waits(pipeline, fed)


def urgent_under_backlog(
    pipeline: Pipeline, backlog: int, rate: float, seconds: float
) -> tuple[dict[str, float], float]:
    """Priority-1 reports offered while a backlog of ``backlog`` reports drains (as after
    a provider's outage); returns their waits and the backlog's drain rate meanwhile. What
    is left of the backlog is dropped afterwards."""
    fed = pipeline.feed("backlog", backlog, "bulk")
    first, last = fed["first"], fed["last"]
    pipeline.consume(True)
    wait_until(lambda: pipeline.referrals(first, last)[1] >= 500, 120, "the backlog to drain")
    before, started = pipeline.referrals(first, last)[1], time.monotonic()
    urgent = pipeline.feed("offer", rate, seconds, "urgent")
    pipeline.wait_delivered(urgent["first"], urgent["last"], timeout=60)
    drained = (pipeline.referrals(first, last)[1] - before) / (time.monotonic() - started)
    pipeline.consume(False)
    for queue in ("routing", "delivery"):
        pipeline.redis.delete(f"{pipeline.prefix}{queue}")
    return waits(pipeline, urgent), drained


def waits(pipeline: Pipeline, fed: dict[str, Any]) -> dict[str, float]:
    """Finish -> delivered (and its two legs) of the offered reports."""
    first, last = fed["first"], fed["last"]
    row = pipeline.db.execute(
        """
        SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY total),
               max(total),
               percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY to_routed),
               percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY to_delivered)
        FROM (
            SELECT extract(epoch FROM f.delivered_at - r.finished_at) AS total,
                   extract(epoch FROM r.routed_at - r.finished_at) AS to_routed,
                   extract(epoch FROM f.delivered_at - r.routed_at) AS to_delivered
            FROM routing_referral f JOIN intake_report r ON r.id = f.report_id
            WHERE r.id BETWEEN %s AND %s
        ) AS waits
        """,
        [first, last],
    ).fetchone()
    assert row is not None
    total, worst, to_routed, to_delivered = row
    pipeline.check_received(first, last)
    return {
        "p50": total[0],
        "p99": total[1],
        "max": worst,
        "routed_p50": to_routed[0],
        "routed_p99": to_routed[1],
        "delivered_p50": to_delivered[0],
        "delivered_p99": to_delivered[1],
        "offered": fed["rate"],
        "reports": last - first + 1,
        "worst_lag": fed["worst_lag"],
    }


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    """A subprocess in a process group of its own, stopped (its group killed if it does
    not stop) on the way out."""
    with log.open("wb") as out:
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield child.pid
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


@contextmanager
def pipeline_running() -> Iterator[Pipeline]:
    """A scratch database with reference data and a provider, the simulated agency that
    direct-gb delivers to, and the worker; all stopped and removed afterwards."""
    with (
        scratch_database() as scratch_env,
        tempfile.TemporaryDirectory() as directory,
        ExitStack() as stack,
    ):
        # Under the scratch prefix (which is removed afterwards), and this run's own.
        env = {
            **scratch_env,
            "CELERY_KEY_PREFIX": f"{scratch_env['CELERY_KEY_PREFIX']}pipeline-{secrets.token_hex(4)}:",
        }
        logs = Path(directory)
        worker_log, agency_log = logs / "worker.log", logs / "agency.log"
        try:
            manage(env, "load_reference_data")
            manage(env, "create_provider", "Bench Provider")
            agency = [PYTHON, "manage.py", "run_agency_simulator", "--port", "0"]
            agency_pid = stack.enter_context(process(agency, env, agency_log))
            wait_until(lambda: "listening on" in agency_log.read_text(), 60, "the simulated agency")
            agency_url = agency_log.read_text().split("listening on ", 1)[1].split("/ ", 1)[0]
            manage(env, "configure_agency_webhook", AGENCY, f"{agency_url}/referrals")
            hostname = f"bench{os.getpid()}@{socket.gethostname()}"
            # As production's worker (docker-compose.yml): prefork, 2 processes, INFO log;
            # it starts on an idle queue and is told when to consume the real ones.
            worker = [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", IDLE_QUEUE]
            worker += ["--concurrency", "2", "--pool", "prefork", "--include", "bench.noop_tasks"]
            worker += ["--loglevel", "INFO", "--logfile", str(worker_log), "--hostname", hostname]
            worker_pid = stack.enter_context(process(worker, env, logs / "worker.out"))
            # As production's worker-urgent: one process serving only the urgent queue.
            urgent = [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "urgent"]
            urgent += ["--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO"]
            urgent += ["--logfile", str(logs / "urgent.log"), "--hostname", f"urgent-{hostname}"]
            urgent_pid = stack.enter_context(process(urgent, env, logs / "urgent.out"))
            pipeline = stack.enter_context(Pipeline(env, hostname, agency_url))
            pipeline.pids = {
                "Celery worker (main process; pool processes)": worker_pid,
                "Celery urgent worker (main process; pool process)": urgent_pid,
                "simulated agency": agency_pid,
            }
            for name in (hostname, f"urgent-{hostname}"):
                wait_until(
                    lambda name=name: bool(pipeline.control.ping(destination=[name], timeout=0.5)),  # type: ignore[misc]
                    60,
                    "the workers",
                )
            yield pipeline
        except BaseException:
            for log in (worker_log, logs / "worker.out", agency_log):
                if log.exists():
                    print(f"--- {log.name} (last lines)")
                    print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
            raise


def latency_line(name: str, waits: dict[str, float], target: float | None) -> list[str]:
    verdict = (
        f"< {target:g} s: {'met' if waits['p99'] < target else 'not met'}"
        if target
        else "(for reference)"
    )
    return [
        f"{name + ' p50':<44}{waits['p50']:>9.3f} s",
        f"{name + ' p99':<44}{waits['p99']:>9.3f} s{'':>26}{verdict}",
        f"  ({waits['reports']:,} reports offered at {waits['offered']:.1f}/s; max {waits['max']:.3f} s; "
        f"finish -> routed p50 {waits['routed_p50']:.3f} s, p99 {waits['routed_p99']:.3f} s; "
        f"routed -> delivered p50 {waits['delivered_p50']:.3f} s, p99 {waits['delivered_p99']:.3f} s; "
        f"offered up to {waits['worst_lag'] * 1000:.0f} ms late)",
    ]


def throughput_line(name: str, ours: float, baseline: float, target: str) -> str:
    return f"{name:<44}{ours:>7.1f} r/s{baseline:>10.1f} r/s{ours / baseline:>7.2f}x  {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=3_000, help="backlog for throughput")
    parser.add_argument("--rate", type=float, default=50.0, help="offered reports a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long they are offered")
    parser.add_argument(
        "--light-rate",
        type=float,
        default=5.0,
        help="a second, light offered load (reports a second; 0 to skip), for reference",
    )
    parser.add_argument(
        "--backlog", type=int, default=100_000, help="backlog behind priority-1 reports"
    )
    args = parser.parse_args()
    # Stopped with SIGTERM, still stop the worker and simulator and drop the database.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    print(f"machine: {machine_description()}")
    started = time.monotonic()
    single_reports = max(args.reports // 2, 100)
    with pipeline_running() as pipeline:
        throughput(pipeline, 200)  # warm-up: each worker process loads what routing needs
        # The baseline before and after ours, to even out a machine that changes under us.
        baselines = [noop_throughput(pipeline, single_reports)]
        bulk, received = throughput(pipeline, args.reports)
        single, _ = throughput(pipeline, single_reports, "single")
        baselines.append(noop_throughput(pipeline, single_reports))
        pipeline.processes(1)
        one_baseline = noop_throughput(pipeline, single_reports // 2)
        one_process, _ = throughput(pipeline, args.reports // 2)
        pipeline.processes(2)
        light = latency(pipeline, args.light_rate, args.seconds / 4) if args.light_rate else None
        steady = latency(pipeline, args.rate, args.seconds)
        urgent, drained = urgent_under_backlog(pipeline, args.backlog, 1.0, 10.0)
        memory = [memory_line(kind, pid) for kind, pid in pipeline.pids.items()]
    baseline = sum(baselines) / len(baselines)
    lines = [
        f"{'benchmark':<44}{'ours':>11}{'baseline':>14}{'ratio':>8}  target",
        throughput_line(
            "routed + delivered, bulk backlog, 2 processes",
            bulk,
            baseline,
            f">= 0.5x: {'met' if bulk / baseline >= 0.5 else 'not met'}; "
            f">= 500 r/s: {'met' if bulk >= 500 else 'not met'}",
        ),
        throughput_line(
            "routed + delivered, single backlog, 2 proc.",
            single,
            baseline,
            f">= 0.5x: {'met' if single / baseline >= 0.5 else 'not met'}",
        ),
        throughput_line(
            "routed + delivered, bulk backlog, 1 process", one_process, one_baseline, ""
        ),
        f"  (bulk: {args.reports:,} queued reports, routing messages of 100 as a bulk submission "
        f"sends them; single: {single_reports:,}, one message a report as single submissions "
        f"send them; 2 processes: {bulk / one_process:.2f}x 1 process; baseline: no-op tasks, "
        f"one routing and one delivery message a report, {baselines[0]:.1f} r/s before ours "
        f"and {baselines[1]:.1f} r/s after, {one_baseline:.1f} r/s with 1 process; simulated "
        f"agency: {received})",
    ]
    if light:
        lines += latency_line(f"at {args.light_rate:g}/s: finish -> delivered", light, None)
    lines += latency_line(f"at {args.rate:g}/s: finish -> delivered", steady, 1.0)
    lines += latency_line(f"priority 1, {args.backlog:,} backlog: finish -> delivered", urgent, 2.0)
    lines.append(f"  (the backlog drained at {drained:.0f} reports/s meanwhile)")
    lines += memory
    lines.append(f"(pipeline benchmark took {time.monotonic() - started:.0f} s)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
