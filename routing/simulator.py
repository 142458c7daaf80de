"""A simulated law-enforcement agency that receives webhook referrals: it checks each
delivery's signature against the agency's secret, can be told to fail a share of
requests, and counts what it received, so a test (or a person) can see that every
referral arrived, and none twice.

    POST /<any path>   a delivery: 401 for a bad signature, 503 for a simulated failure,
                       otherwise 200 ({"status": "received"} or "duplicate")
    GET  /received     {"received": {"<referral id>": times accepted, ...},
                        "queue": ["<referral id>", ...] in the order first received,
                        "accepted": n, "duplicates": n, "failed": n, "rejected": n}

Delivery is at least once, and this is how an agency must receive it: a referral may
arrive more than once (a worker that died after its POST reached the agency, before the
answer came back, leaves the referral to be sent again), always with the same
X-Tipline-Referral id (the payload's referralId). An agency keeps a referral the first
time its id arrives and answers 2xx to every copy, which it drops: the agency's queue
holds each referral once.
"""

import contextlib
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import close_old_connections

from routing.models import Agency
from routing.signing import (
    AGENCY_HEADER,
    REFERRAL_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_problem,
)

MAX_BODY_BYTES = 16 * 1024**2


@dataclass
class SimulatedAgencies:
    """What the simulator has received; shared by its request threads."""

    fail_share: float = 0.0
    seed: int | None = None
    # Agency code -> secret. None: each agency's current secret is read from the database.
    secrets: dict[str, str] | None = None
    received: Counter[str] = field(default_factory=Counter)
    # The agency's queue: each referral once, in the order it first arrived.
    queue: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # After this many referrals the agency falls silent: it keeps each later one but holds
    # its answer until `answering` is set, as when its answers stop reaching the sender.
    silent_after: int | None = None
    answering: threading.Event = field(default_factory=threading.Event)
    # Set once an answer is held; `held` names the referrals whose answers were.
    holding: threading.Event = field(default_factory=threading.Event)
    held: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)  # noqa: S311 (simulated failures)

    def should_fail(self) -> bool:
        with self.lock:
            return self.random.random() < self.fail_share

    def accept(self, referral_id: str) -> bool:
        """Count a delivery; True the first time this referral arrives (it joins the
        queue), False for a copy of one already received."""
        with self.lock:
            self.received[referral_id] += 1
            first = self.received[referral_id] == 1
            self.counts["accepted" if first else "duplicates"] += 1
            if first:
                self.queue.append(referral_id)
            return first

    def hold_answer(self, referral_id: str) -> bool:
        """Whether to hold the answer to this delivery (see silent_after)."""
        with self.lock:
            if self.silent_after is None or len(self.queue) <= self.silent_after:
                return False
            self.held.append(referral_id)
        self.holding.set()
        return True

    def count(self, outcome: str) -> None:
        with self.lock:
            self.counts[outcome] += 1

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "received": dict(self.received),
                "queue": list(self.queue),
                **{
                    key: self.counts[key]
                    for key in ("accepted", "duplicates", "failed", "rejected")
                },
            }

    def secret_for(self, code: str) -> str | None:
        """The agency's secret: as given, or read from the database each time, so a
        rotated secret takes effect at once."""
        if self.secrets is not None:
            return self.secrets.get(code)
        close_old_connections()
        agency = Agency.objects.filter(code=code).only("webhook_secret").first()
        return agency.webhook_secret if agency else None


def handler_for(state: SimulatedAgencies) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, the body of a response
        # on a busy keep-alive connection waits for the client's delayed ACK.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/received":
                self.answer(200, state.summary())
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                state.count("rejected")
                self.answer(413, {"error": "body too large"}, close=True)
                return
            body = self.rfile.read(length)
            code = self.headers.get(AGENCY_HEADER, "")
            secret = state.secret_for(code) if code else None
            problem = (
                f"unknown agency {code!r}"
                if secret is None
                else signature_problem(
                    secret=secret,
                    timestamp=self.headers.get(TIMESTAMP_HEADER),
                    signature_value=self.headers.get(SIGNATURE_HEADER),
                    body=body,
                )
            )
            referral_id = self.headers.get(REFERRAL_HEADER, "")
            if problem is None and not referral_id:
                problem = f"{REFERRAL_HEADER} is required"
            if problem is not None:
                state.count("rejected")
                self.answer(401, {"error": problem})
                return
            if state.should_fail():
                state.count("failed")
                self.answer(503, {"error": "simulated failure"})
                return
            first = state.accept(referral_id)
            if state.hold_answer(referral_id):
                state.answering.wait()
                with contextlib.suppress(OSError):  # the sender may be gone by now
                    self.answer(200, {"status": "received" if first else "duplicate"})
                return
            self.answer(200, {"status": "received" if first else "duplicate"})

        def answer(self, status: int, body: dict[str, Any], *, close: bool = False) -> None:
            content = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would drown the output under load

    return Handler


def simulator_server(*, host: str, port: int, state: SimulatedAgencies) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler_for(state))
    server.daemon_threads = True
    return server
