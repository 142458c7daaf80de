"""Faults survived: Redis killed under load, a worker killed in the middle of routing and
in the middle of a delivery, PostgreSQL restarted under load, an agency down for an hour.
Each fault is made on servers of the test's own (spare ports), never on the machine's."""

import base64
import http.cookiejar
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

import config.settings.base as deployed_settings
from intake.models import Report
from routing.delivery import urgency
from routing.models import Referral
from routing.tasks import enqueue_due_deliveries
from tests.intake.xml_samples import MINIMAL_REPORT
from tests.routing.processes import (
    ALL_QUEUES,
    PROJECT_ROOT,
    QUICK_SWEEPS,
    OwnPostgres,
    OwnRedis,
    Workers,
    database_url_of_test_database,
    finished_reports,
    free_port,
    own_postgres_fixture,  # noqa: F401 (a fixture)
    own_redis_fixture,  # noqa: F401 (a fixture)
    project_env,
    report_body,
    start_worker_fixture,  # noqa: F401 (a fixture)
    wait_for,
)
from tests.routing.test_delivery import Simulator, routed_report, start_simulator, webhook_agency

# A request answers within this many seconds, even while a service is down: it never hangs.
ANSWERS_WITHIN_SECONDS = 10


@pytest.fixture
def simulated_agency() -> Iterator[Simulator]:
    """The simulated agency, served in this process: a worker process POSTs to it."""
    yield from start_simulator()


@dataclass
class Answer:
    status: int | None  # None: no answer (refused, or timed out)
    headers: Message
    body: bytes
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def call(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> Answer:
    """One HTTP request and whatever its answer, timed; a client that waited 30 s gave up."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310
    started = time.monotonic()
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            answer = Answer(response.status, response.headers, response.read(), 0.0)
    except urllib.error.HTTPError as error:
        answer = Answer(error.code, error.headers, error.read(), 0.0)
    except OSError as error:
        answer = Answer(None, Message(), b"", 0.0, error=repr(error))
    answer.seconds = time.monotonic() - started
    return answer


@dataclass
class Submission:
    """A report opened and finished through the JSON API by a provider's client."""

    started: float
    ended: float = 0.0
    report_id: int | None = None
    answers: list[Answer] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return len(self.answers) == 2 and all(answer.ok for answer in self.answers)


def submit(base_url: str, token: str, country: str) -> Submission:
    submission = Submission(started=time.monotonic())
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    body = json.dumps(report_body(country)).encode()
    opened = call("POST", f"{base_url}/api/v1/reports", body=body, headers=headers)
    submission.answers.append(opened)
    if opened.ok:
        submission.report_id = json.loads(opened.body)["reportId"]
        finish = f"{base_url}/api/v1/reports/{submission.report_id}/finish"
        submission.answers.append(call("POST", finish, body=b"{}", headers=headers))
    submission.ended = time.monotonic()
    return submission


# 1. Redis killed during 500 submissions ------------------------------------------------

SUBMISSIONS = 500
KILLED_AFTER = 150  # submissions
ANSWERED_WHILE_DOWN = 100


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_redis_killed_during_500_submissions_each_accepted_report_is_referred_and_delivered_once(
    live_server: Any,
    provider: Any,
    start_worker: Workers,
    own_redis: OwnRedis,
    simulated_agency: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING")
    webhook_agency("direct-de", simulated_agency)
    start_worker(*ALL_QUEUES, beat=True, env={"REDIS_URL": own_redis.url, **QUICK_SWEEPS})
    submissions: list[Submission] = []
    outage: dict[str, float] = {}

    def answered_since(moment: float) -> int:
        return sum(1 for s in list(submissions) if s.ended > moment)

    def one() -> None:
        submissions.append(submit(live_server.url, provider.token, "DE"))

    # The web process's cache (the providers' rate limits) is this Redis too, as deployed.
    cache = {**deployed_settings.CACHES["default"], "LOCATION": own_redis.url}
    assert cache["BACKEND"] == "config.unavailable.FailOpenRedisCache"
    with override_settings(CACHES={"default": cache}), ThreadPoolExecutor(4) as clients:
        sent = [clients.submit(one) for _ in range(SUBMISSIONS)]
        wait_for(lambda: answered_since(0) >= KILLED_AFTER, timeout=120, what="submissions")
        own_redis.kill()
        outage["killed"] = time.monotonic()
        wait_for(
            lambda: answered_since(outage["killed"]) >= ANSWERED_WHILE_DOWN,
            timeout=180,
            what="submissions while Redis is down",
        )
        outage["ended"] = time.monotonic()
        own_redis.start()
        for each in sent:
            each.result()

    refused = [(s.report_id, [a.status for a in s.answers]) for s in submissions if not s.accepted]
    assert refused == [], "a submission was refused"
    while_down = [
        s for s in submissions if outage["killed"] < s.started and s.ended < outage["ended"]
    ]
    assert len(while_down) >= ANSWERED_WHILE_DOWN - 4  # 4 clients were mid-submission
    # Accepted without Redis: finishing a report commits it, and its routing message, which
    # could not be sent, is left to the outbox sweep; the rate limit counted nothing.
    unsent = [r for r in caplog.records if "Could not enqueue routing" in r.getMessage()]
    assert len(unsent) >= len(while_down)
    assert any("The cache (Redis) is unavailable" in r.getMessage() for r in caplog.records)

    report_ids = [s.report_id for s in submissions if s.report_id is not None]
    assert Report.objects.filter(provider=provider.provider).count() == SUBMISSIONS
    wait_for(
        lambda: (
            Referral.objects.filter(
                report_id__in=report_ids, status=Referral.Status.DELIVERED
            ).count()
            >= SUBMISSIONS
        ),
        timeout=240,
        what="every accepted report to be referred and delivered",
    )
    referrals = list(
        Referral.objects.filter(report_id__in=report_ids).values_list(
            "pk", "report_id", "agency__code", "status"
        )
    )
    per_report = Counter(report_id for _, report_id, _, _ in referrals)
    assert set(per_report) == set(report_ids)
    assert set(per_report.values()) == {1}, "a report was referred twice"
    assert {(code, status) for _, _, code, status in referrals} == {("direct-de", "delivered")}
    received = simulated_agency.received()
    assert received["received"] == {str(pk): 1 for pk, _, _, _ in referrals}
    assert received["duplicates"] == 0


# 2. A worker killed in the middle of routing, and of delivery ---------------------------


def waiting_on_a_lock(statement_start: str) -> int | None:
    """The database session (another process's) blocked on a lock in a statement that
    starts with ``statement_start``, if there is one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE %s",
            [statement_start + "%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("held", "waiting_in", "committed"),
    [
        # Killed before its COMMIT: the transaction is rolled back, the message is lost
        # with the worker, and the batch must be routed again.
        pytest.param("a report", "SELECT", False, id="before-its-commit"),
        # Killed with its COMMIT sent: the batch is committed, but the worker never knew:
        # its message is not acknowledged and the referrals' delivery messages not sent.
        pytest.param("the agency", "COMMIT", True, id="during-its-commit"),
    ],
)
def test_a_worker_killed_in_the_middle_of_routing_loses_no_report_and_refers_none_twice(
    provider: Any,
    start_worker: Workers,
    own_redis: OwnRedis,
    simulated_agency: Simulator,
    held: str,
    waiting_in: str,
    committed: bool,
) -> None:
    webhook_agency("direct-ke", simulated_agency)
    # A Redis of its own: the first message the worker takes is the first batch's.
    broker = {"REDIS_URL": own_redis.url}
    report_ids = finished_reports(provider, "KE", 300)  # three messages of 100 reports
    first_batch = report_ids[:100]
    # The test holds a row to stop the worker's routing transaction where it is: a report
    # of its first batch (its SELECT ... FOR UPDATE of the batch waits, the reports before
    # it locked), or the agency's row (its COMMIT waits, as it checks the referrals'
    # foreign keys: the batch routed and its referrals written, not yet committed).
    with psycopg.connect(database_url_of_test_database()) as holder:
        if held == "a report":
            holder.execute(
                "SELECT 1 FROM intake_report WHERE id = %s FOR UPDATE", [first_batch[50]]
            )
        else:
            holder.execute("SELECT 1 FROM routing_agency WHERE code = 'direct-ke' FOR UPDATE")
        worker = start_worker(settings.ROUTING_QUEUE, env=broker)
        blocked = wait_for(
            lambda: waiting_on_a_lock(waiting_in),
            timeout=60,
            what="the worker to be in the middle of routing",
        )
        with pytest.raises(DatabaseError), transaction.atomic():
            Report.objects.select_for_update(nowait=True).get(pk=first_batch[0])  # held by it

        start_worker.kill(worker)
    # The test lets go; the worker's session carries on with the statement it was given,
    # then ends, finding the worker gone.
    wait_for(lambda: not session_alive(blocked), timeout=60, what="the session to end")
    routed = Report.objects.filter(pk__in=report_ids, routed_at__isnull=False)
    assert set(routed.values_list("pk", flat=True)) == (set(first_batch) if committed else set())
    referrals = Referral.objects.filter(report_id__in=report_ids)
    assert referrals.count() == (len(first_batch) if committed else 0)
    assert not referrals.exclude(status=Referral.Status.PENDING).exists()

    start_worker(
        *ALL_QUEUES, beat=True, env={**broker, **QUICK_SWEEPS, "CELERY_VISIBILITY_TIMEOUT": "5"}
    )

    wait_for(
        lambda: referrals.filter(status=Referral.Status.DELIVERED).count() == len(report_ids),
        timeout=120,
        what="every report to be referred and delivered",
    )
    per_report = Counter(referrals.values_list("report_id", flat=True))
    assert set(per_report) == set(report_ids), "a report was lost"
    assert set(per_report.values()) == {1}, "a report was referred twice"
    received = simulated_agency.received()
    assert received["received"] == {str(pk): 1 for pk in referrals.values_list("pk", flat=True)}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_its_post_is_at_the_agency_leaves_each_referral_once_there(
    provider: Any, start_worker: Workers, own_redis: OwnRedis, simulated_agency: Simulator
) -> None:
    webhook_agency("direct-gb", simulated_agency)
    # The sixth referral arrives, and the agency keeps it, but its answer never leaves.
    simulated_agency.state.silent_after = 5
    report_ids = finished_reports(provider, "GB", 20)  # one routing batch, one delivery batch
    # A Redis of its own, and a short timeout, so that the killed worker's claim (three
    # timeouts and 30 s) expires soon.
    env = {"REDIS_URL": own_redis.url, "DELIVERY_TIMEOUT_SECONDS": "3"}
    worker = start_worker(settings.ROUTING_QUEUE, settings.DELIVERY_QUEUE, env=env)
    assert simulated_agency.state.holding.wait(timeout=60), "no delivery reached the agency"

    start_worker.kill(worker)
    [held_id] = simulated_agency.state.held
    held = Referral.objects.get(pk=int(held_id))
    # Killed mid-POST: the agency has the referral, the database knows of no attempt.
    assert (held.status, held.attempts) == (Referral.Status.PENDING, 0)
    assert held.claimed_until is not None
    referrals = Referral.objects.filter(report_id__in=report_ids)
    assert referrals.filter(status=Referral.Status.DELIVERED).count() == 5
    simulated_agency.state.silent_after = None
    simulated_agency.state.answering.set()

    start_worker(
        settings.ROUTING_QUEUE,
        settings.DELIVERY_QUEUE,
        settings.CELERY_TASK_DEFAULT_QUEUE,
        beat=True,
        env={**env, **QUICK_SWEEPS, "CELERY_VISIBILITY_TIMEOUT": "5"},
    )

    wait_for(
        lambda: referrals.filter(status=Referral.Status.DELIVERED).count() == len(report_ids),
        timeout=150,
        what="every referral to be delivered once the claim expired",
    )
    referral_ids = {str(pk) for pk in referrals.values_list("pk", flat=True)}
    received = simulated_agency.received()
    # Delivery is at least once: the referral whose POST the kill cut off was sent again,
    # with the same id, and the agency kept it once.
    assert sorted(received["queue"]) == sorted(referral_ids)
    assert received["received"][held_id] == 2
    assert received["duplicates"] == 1
    assert set(received["received"].values()) <= {1, 2}
    assert sum(referrals.values_list("attempts", flat=True)) == len(report_ids)


# 3. PostgreSQL restarted under load -------------------------------------------------------


def manage(env: dict[str, str], *arguments: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_ROOT,
        env=project_env(**env),
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout


# As deployed (Dockerfile), without the control socket, whose default path is one per user.
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--no-control-socket"]
WSGI_APPLICATION = "config.wsgi:application"


class WebServer:
    """The web app under gunicorn (config/gunicorn.py), as deployed, on a spare port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        environment = project_env(
            # One process, so that what it remembers (a provider's login) is known.
            **env,
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="1",
            GUNICORN_THREADS="4",
        )
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*GUNICORN, WSGI_APPLICATION],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            lambda: call("GET", f"{self.url}/healthz").status == 200,
            timeout=60,
            what="the web server to start",
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)

    def processes_booted(self) -> int:
        return self.log_path.read_text().count("Booting worker")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[Any]:
    servers: list[WebServer] = []

    def start(env: dict[str, str]) -> WebServer:
        servers.append(WebServer(env, tmp_path / f"web-{len(servers)}.log"))
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def referrals_per_finished_report(database_url: str) -> dict[int, int]:
    with psycopg.connect(database_url) as database:
        rows = database.execute(
            "SELECT report.id, count(referral.id) FROM intake_report report"
            " LEFT JOIN routing_referral referral ON referral.report_id = report.id"
            " WHERE report.status = 'finished' GROUP BY report.id"
        ).fetchall()
    return dict(rows)


def basic_auth(credentials: dict[str, str]) -> dict[str, str]:
    login = f"{credentials['username']}:{credentials['password']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(login).decode()}


OUTAGE_SECONDS = 3


@pytest.mark.worker
def test_postgresql_restarted_under_load_requests_fail_fast_with_503_and_all_recover_alone(
    own_postgres: OwnPostgres, start_worker: Workers, web_server: Any
) -> None:
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    env = {"DATABASE_URL": own_postgres.url, "CELERY_KEY_PREFIX": f"{prefix}postgres-restart:"}
    manage(env, "migrate", "--noinput")
    manage(env, "load_reference_data")
    provider = json.loads(manage(env, "create_provider", "Example Chat"))
    other_provider = json.loads(manage(env, "create_provider", "Example Photos"))
    web = web_server(env)
    worker = start_worker(*ALL_QUEUES, beat=True, env={**env, **QUICK_SWEEPS})
    api_headers = {
        "Authorization": f"Token {provider['token']}",
        "Content-Type": "application/json",
    }
    # The web process remembers this provider's XML login (its view meets the outage, and
    # answers 500 in its own shape), not the other's (its login meets the outage).
    assert call("GET", f"{web.url}/ispws/status", headers=basic_auth(provider)).status == 200
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form = call("GET", f"{web.url}/report/status/", opener=browser).body.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert csrf is not None
    status_lookup = f"csrfmiddlewaretoken={csrf[1]}&report_number=1&receipt_code=1234567890123456"

    submissions: list[Submission] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            submissions.append(submit(web.url, provider["token"], "DE"))

    def accepted_after(moment: float) -> int:
        return sum(1 for s in list(submissions) if s.accepted and s.started > moment)

    clients = [threading.Thread(target=load) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        wait_for(lambda: accepted_after(0) >= 20, timeout=60, what="submissions")
        own_postgres.stop()
        stopped = time.monotonic()
        probes = {
            "api": call(
                "POST",
                f"{web.url}/api/v1/reports",
                body=json.dumps(report_body("DE")).encode(),
                headers=api_headers,
            ),
            "page": call(
                "POST",
                f"{web.url}/report/status/",
                body=status_lookup.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                opener=browser,
            ),
            **{
                f"ispws as {who}": call(
                    "POST",
                    f"{web.url}/ispws/submit",
                    body=MINIMAL_REPORT,
                    headers={**basic_auth(login), "Content-Type": "application/xml"},
                )
                for who, login in (("remembered", provider), ("new", other_provider))
            },
            "health": call("GET", f"{web.url}/healthz"),
        }
        wait_for(
            lambda: time.monotonic() - stopped >= OUTAGE_SECONDS,
            timeout=60,
            what="the outage to last a few seconds",
        )
        restarting = time.monotonic()
        own_postgres.start()
        wait_for(
            lambda: accepted_after(restarting) >= 20,
            timeout=120,
            what="submissions to be accepted again",
        )
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)

    for name, probe in probes.items():
        assert probe.status == 503, (name, probe)
        assert probe.seconds < ANSWERS_WITHIN_SECONDS, name
    api, page, health = probes["api"], probes["page"], probes["health"]
    assert json.loads(api.body) == {
        "code": "unavailable",
        "message": "The service is briefly unavailable. Please try again in a minute.",
        "fields": {},
    }
    assert api.headers["Retry-After"] == "30"
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Retry-After"] == "30"
    assert b"briefly unavailable" in page.body
    assert len(page.body) < 1000
    for ispws in (probes["ispws as remembered"], probes["ispws as new"]):
        assert ispws.headers["Content-Type"].startswith("application/xml")
        assert b"<reportResponse>" in ispws.body
        assert b"<responseCode>1000</responseCode>" in ispws.body
        assert ispws.headers["Retry-After"] == "30"
    assert json.loads(health.body)["failing"] == ["database"]

    answers = [answer for s in submissions for answer in s.answers]
    assert {answer.status for answer in answers} <= {200, 201, 503}, "neither served nor 503"
    assert max(answer.seconds for answer in answers) < ANSWERS_WITHIN_SECONDS
    during = [s for s in submissions if stopped < s.started and s.ended < restarting]
    assert len(during) >= 10, "hardly a submission was made during the outage"
    for submission in during:
        assert [answer.status for answer in submission.answers] == [503]
        assert json.loads(submission.answers[0].body)["code"] == "unavailable"
        assert submission.answers[0].headers["Retry-After"] == "30"
    # Recovered by themselves: the same web and worker processes, none started again.
    assert web.process.poll() is None
    assert web.processes_booted() == 1
    assert start_worker.processes[worker].poll() is None

    accepted = {s.report_id for s in submissions if s.accepted}
    wait_for(
        lambda: 0 not in referrals_per_finished_report(own_postgres.url).values(),
        timeout=120,
        what="every finished report to be referred",
    )
    per_report = referrals_per_finished_report(own_postgres.url)
    assert accepted <= set(per_report)
    assert set(per_report.values()) == {1}, "a report was referred twice"


# 4. An agency down for an hour of simulated time -------------------------------------------


def referral_made(priority: str, capture_on_commit: Any) -> int:
    """A report routed to the agency at ``priority``; its first delivery attempt is made
    at once, as a worker would on the message sent when the referral is committed."""
    with capture_on_commit(execute=True):
        referral = routed_report("GB")
        Report.objects.filter(pk=referral.report_id).update(priority=priority)
    return referral.pk


@pytest.mark.django_db
def test_an_agency_down_for_an_hour_then_gets_each_referral_once_most_urgent_first(
    reference_data: None,
    simulated_agency: Simulator,
    django_capture_on_commit_callbacks: Any,
) -> None:
    webhook_agency("direct-gb", simulated_agency)
    simulated_agency.state.fail_share = 1.0  # down: every delivery answered 503
    sweep = timedelta(seconds=settings.DELIVERY_SWEEP_INTERVAL_SECONDS)
    made: list[int] = []

    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        down_since = timezone.now()
        # Every five minutes for an hour, a report of each priority, the most urgent last;
        # the delivery sweep runs as beat runs it.
        while timezone.now() < down_since + timedelta(hours=1):
            if (timezone.now() - down_since) % timedelta(minutes=5) == timedelta(0):
                made += [referral_made(p, django_capture_on_commit_callbacks) for p in "3I21"]
            enqueue_due_deliveries()
            clock.shift(sweep)

        waiting = Referral.objects.filter(pk__in=made)
        assert simulated_agency.received()["queue"] == []
        assert not waiting.exclude(status=Referral.Status.PENDING).exists()
        assert waiting.filter(attempts=0).count() == 0
        failed = simulated_agency.received()["failed"]
        assert failed == sum(waiting.values_list("attempts", flat=True))

        simulated_agency.state.fail_share = 0.0
        back_at = timezone.now()
        while waiting.filter(status=Referral.Status.PENDING).exists():
            assert timezone.now() < back_at + timedelta(hours=1), "still not delivered"
            enqueue_due_deliveries()
            clock.shift(sweep)

    received = simulated_agency.received()
    assert received["received"] == {str(pk): 1 for pk in made}
    assert received["duplicates"] == 0
    referrals = {r.pk: r for r in waiting.select_related("report")}
    # The first referral due after the agency's return finds it back; every other one
    # goes at once, most urgent first: priority 1, 2, 3, then informational, oldest first.
    probe, *after = (referrals[int(pk)] for pk in received["queue"])
    assert after == sorted(after, key=lambda r: urgency(r.report.priority, r))
    assert [r.report.priority for r in after[:3]] == ["1", "1", "1"]
    assert {r.delivered_at for r in after} == {probe.delivered_at}
    assert probe.delivered_at is not None
    assert probe.delivered_at - back_at < timedelta(minutes=10)
