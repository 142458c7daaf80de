"""Statistics pages with a million reports: /stats/public/ (anonymous, without and with
filters) and /stats/ (an analyst signed in with password and authenticator code), through
gunicorn, against the same figures counted straight from the report tables; and the
refresh of the daily rollups the pages read, in full and for one changed day.

    python -m bench.figures [--reports N] [--requests N] [--port N]

The reports are written by SQL inside PostgreSQL (synthetic: two years, 2020 and 2021,
with the CyberTipline's shape: providers' reports, countries, incident types, files,
bundles, referrals), not through the app: the benchmark is about reading them.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import statistics
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from bench.harness import PYTHON, ROOT, Stack, machine_description, stack
from routing.demo_shape import (
    EU_WEIGHTS,
    OTHER_WEIGHTS,
    PUBLIC_SHARE,
    TAIL_WEIGHT,
    US_STATE_WEIGHTS,
    US_TERRITORIES,
    US_WEIGHT,
)

# The shape of the reports, as routing/demo.py draws it (illustrative approximations of the
# CyberTipline's 2020 and 2021 figures, not NCMEC's numbers).
SHARE_2020 = 0.425  # 21.7 million reports in 2020, 29.4 million in 2021
SLOTS = 100_000  # a weighted choice is a slot drawn uniformly from this many

UNKNOWN_WEIGHT = 2.0  # resolving to no known country: the analyst queue has them
PROVIDERS = {
    "Example Social": 0.72,
    "Example Photos": 0.10,
    "Example Chat": 0.08,
    "Example Video": 0.05,
    "Example Cloud": 0.03,
    "Example Mail": 0.02,
}
CSAM = "Child Pornography (possession, manufacture, and distribution)"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
HANDS_ON = (
    ENTICEMENT,
    "Child Sex Trafficking",
    "Child Sexual Molestation",
    "Child Sex Tourism",
)
PROVIDER_INCIDENTS = {
    CSAM: 9900,
    ENTICEMENT: 45,
    "Unsolicited Obscene Material Sent to a Child": 15,
    "Child Sex Trafficking": 12,
    "Child Sexual Molestation": 10,
    "Misleading Words or Digital Images on the Internet": 9,
    "Misleading Domain Name": 5,
    "Child Sex Tourism": 4,
}
PUBLIC_INCIDENTS = {
    CSAM: 45,
    ENTICEMENT: 25,
    "Child Sexual Molestation": 10,
    "Unsolicited Obscene Material Sent to a Child": 7,
    "Child Sex Trafficking": 6,
    "Misleading Words or Digital Images on the Internet": 3,
    "Misleading Domain Name": 2,
    "Child Sex Tourism": 2,
}
# Files of apparent child pornography reports: (fewest, most, share); about 2.9 a report.
FILE_COUNTS = (
    (1, 1, 0.574),
    (2, 2, 0.15),
    (3, 3, 0.08),
    (4, 5, 0.08),
    (6, 10, 0.08),
    (11, 25, 0.03),
    (26, 60, 0.006),
)
VIDEO_SHARE = 0.53
KNOWN_ONLY_SHARE = 0.62  # reports whose every file is on the known-hash list
KNOWN_IN_NEW_SHARE = 0.3  # files after the first in a report with new content that are known
# Files seen for the first time (times_seen_before = 0), by whether they are on the list:
# about 42% of images and 11% of videos overall.
FIRST_SEEN = {("known", "image"): 0.21, ("known", "video"): 0.05}
FIRST_SEEN |= {("new", "image"): 0.9, ("new", "video"): 0.25}
KNOWN_HASHES = 1_000
BUNDLED_SHARE = 0.05  # of the reports with known content only: about 3% of all
VIRAL_ITEMS = 4  # viral items a country and day; a bundle is one item, country and day
IMMINENT_SHARE = 0.004
DEAD_LETTER_SHARE = 0.004
RETRIED_SHARE = 0.03  # referrals delivered after retries: minutes to hours late
ACKNOWLEDGE_HOURS = {"1": (0.05, 2.5), "2": (1.0, 120.0), "3": (4.0, 504.0), "I": (24.0, 1008.0)}
NEVER_ACKNOWLEDGED = {"1": 0.0, "2": 0.06, "3": 0.1, "I": 0.25}

FILLED_TABLES = ("intake_report", "intake_reportedfile", "routing_referral")
CHANGED_DAY = "2021-06-15"
PAGES = {
    "/stats/public/ (anonymous)": ("/stats/public/", "Reports by the country they resolve to"),
    "/stats/public/, 2021, India": (
        "/stats/public/?date_from=2021-01-01&date_to=2021-12-31&country=IN",
        "Reports by the country they resolve to",
    ),
    "/stats/ (analyst, signed in)": ("/stats/", "Referrals by agency"),
}
TARGET_SECONDS = 2.0

# The baseline: the same figures counted from the report tables.
RAW = {
    "reports by country": (
        "SELECT resolved_country, count(*) FROM intake_report WHERE status = 'finished' GROUP BY 1"
    ),
    "files by country": (
        "SELECT r.resolved_country, count(*) FROM intake_reportedfile f"
        " JOIN intake_report r ON r.id = f.report_id WHERE r.status = 'finished' GROUP BY 1"
    ),
    "reports, 2021, India": (
        "SELECT count(*) FROM intake_report WHERE status = 'finished' AND resolved_country = 'IN'"
        " AND received_at >= '2021-01-01' AND received_at < '2022-01-01'"
    ),
    "files, 2021, India": (
        "SELECT count(*) FROM intake_reportedfile f JOIN intake_report r ON r.id = f.report_id"
        " WHERE r.status = 'finished' AND r.resolved_country = 'IN'"
        " AND r.received_at >= '2021-01-01' AND r.received_at < '2022-01-01'"
    ),
    "referrals by agency": (
        "SELECT agency_id, count(*), count(acknowledged_at), count(dead_lettered_at)"
        " FROM routing_referral GROUP BY 1"
    ),
}
ROLLUP = {
    "reports and files by country": (
        "SELECT country, sum(reports), sum(files) FROM routing_dailyreportfigures GROUP BY 1"
    ),
    "reports and files, 2021, India": (
        "SELECT sum(reports), sum(files) FROM routing_dailyreportfigures"
        " WHERE day BETWEEN '2021-01-01' AND '2021-12-31' AND country = 'IN'"
    ),
    "referrals by agency": (
        "SELECT agency_id, sum(referrals), sum(acknowledged), sum(dead_lettered)"
        " FROM routing_dailyreferralfigures GROUP BY 1"
    ),
}
# Which raw queries each page's baseline adds up.
PAGE_BASELINES = {
    "/stats/public/ (anonymous)": ("reports by country", "files by country"),
    "/stats/public/, 2021, India": ("reports, 2021, India", "files, 2021, India"),
    "/stats/ (analyst, signed in)": (
        "reports by country",
        "files by country",
        "referrals by agency",
    ),
}
QUERY_BASELINES = {
    "reports and files by country": ("reports by country", "files by country"),
    "reports and files, 2021, India": ("reports, 2021, India", "files, 2021, India"),
    "referrals by agency": ("referrals by agency",),
}


# Filling the database


def slot_ranges(weights: dict[str, float]) -> list[tuple[str, int, int]]:
    """Each value's slots [lo, hi) out of SLOTS, in proportion to its weight."""
    total, seen, ranges = sum(weights.values()), 0.0, []
    for value, weight in weights.items():
        lo = round(seen / total * SLOTS)
        seen += weight
        hi = round(seen / total * SLOTS)
        if hi > lo:
            ranges.append((value, lo, hi))
    return ranges


def choices(conn: psycopg.Connection, providers: dict[str, int]) -> None:
    """bench_slot (dim, slot) -> value: the weighted choices the reports draw from."""
    codes = [row[0] for row in conn.execute("SELECT code FROM routing_country ORDER BY code")]
    named = {"US", *EU_WEIGHTS, *OTHER_WEIGHTS}
    tail = [code for code in codes if code not in named and code not in US_TERRITORIES]
    countries = {"US": US_WEIGHT, "": UNKNOWN_WEIGHT, **EU_WEIGHTS, **OTHER_WEIGHTS}
    countries |= {code: TAIL_WEIGHT / len(tail) for code in tail}
    missing = set(countries) - set(codes) - {""}
    if missing:
        raise RuntimeError(f"countries missing from the reference data: {sorted(missing)}")
    states = [
        row[0]
        for row in conn.execute(
            "SELECT us_state FROM routing_routingrule WHERE country_id = 'US' AND us_state <> ''"
            " ORDER BY us_state"
        )
    ]
    dims: dict[str, dict[str, float]] = {
        "country": countries,
        "state": {state: US_STATE_WEIGHTS.get(state, 1) for state in states},
        "provider": {str(providers[name]): share for name, share in PROVIDERS.items()},
        "incident-provider": dict(PROVIDER_INCIDENTS),
        "incident-public": dict(PUBLIC_INCIDENTS),
    }
    conn.execute("CREATE TEMP TABLE bench_choice (dim text, value text, lo int, hi int)")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_choice VALUES (%s, %s, %s, %s)",
            [(dim, *slots) for dim, weights in dims.items() for slots in slot_ranges(weights)],
        )
    conn.execute(
        "CREATE UNLOGGED TABLE bench_slot AS"
        " SELECT dim, generate_series(lo, hi - 1) AS slot, value FROM bench_choice"
    )
    conn.execute("ALTER TABLE bench_slot ADD PRIMARY KEY (dim, slot)")
    conn.execute("ANALYZE bench_slot")


def scalar(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def providers_create(conn: psycopg.Connection) -> dict[str, int]:
    """The synthetic providers (each with its user, who cannot sign in), by name."""
    made = {}
    for index, name in enumerate(PROVIDERS, start=1):
        user = scalar(
            conn,
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined)"
            " VALUES ('!', false, %s, '', '', '', false, true, '2019-12-01') RETURNING id",
            [f"bench-provider-{index}"],
        )
        made[name] = scalar(
            conn,
            "INSERT INTO intake_provider (name, is_active, created_at, user_id)"
            " VALUES (%s, true, '2019-12-01', %s) RETURNING id",
            [name, user],
        )
    return made


def files_case(column: str) -> str:
    """How many files a report with the draw ``column`` has, by FILE_COUNTS."""
    cases, seen = [], 0.0
    for fewest, most, share in FILE_COUNTS:
        cases.append(
            f"WHEN {column} < {seen + share} THEN {fewest} + "
            f"floor(({column} - {seen}) / {share} * {most - fewest + 1})::int"
        )
        seen += share
    return f"CASE {' '.join(cases)} ELSE {FILE_COUNTS[-1][0]} END"


def by_priority(values: dict[str, Any], expression: Callable[[Any], str]) -> str:
    """A SQL expression of a report's ``priority``: ``expression`` of its entry in ``values``."""
    cases = " ".join(
        f"WHEN '{priority}' THEN {expression(value)}" for priority, value in values.items()
    )
    return f"(CASE priority {cases} END)"


# Finished within seconds of opening (the public's form: minutes), routed a moment later.
FINISHED_AT = (
    "received_at + interval '1 second'"
    " * (CASE WHEN public THEN 60 + 600 * u_finish ELSE 0.2 + 3 * u_finish END)"
)
PLAN = f"""
CREATE UNLOGGED TABLE bench_plan AS
SELECT p.*,
  CASE
    WHEN p.u_priority < {IMMINENT_SHARE} THEN '1'
    WHEN p.bundle_key IS NOT NULL THEN 'I'
    WHEN p.content_status = 'contains_new' THEN '2'
    WHEN p.content_status = 'known_only' THEN CASE WHEN p.u_priority > 0.75 THEN 'I' ELSE '3' END
    WHEN p.incident_type IN ({", ".join(f"'{name}'" for name in HANDS_ON)}) THEN '2'
    ELSE '3'
  END AS priority,
  {FINISHED_AT} AS finished_at,
  {FINISHED_AT} + interval '1 millisecond' * (20 + 400 * u_deliver) AS routed_at,
  (received_at AT TIME ZONE 'UTC')::date AS day
FROM (
  SELECT q.*,
    CASE WHEN q.content_status = 'known_only' AND q.u_bundle < {BUNDLED_SHARE}
      THEN 'md5:' || md5('viral-' || floor(q.u_item * {VIRAL_ITEMS})::int) END AS bundle_key
  FROM (
    SELECT d.*,
      country.value AS country,
      CASE WHEN country.value = 'US' THEN state.value ELSE '' END AS us_state,
      CASE WHEN d.public THEN NULL ELSE provider.value::bigint END AS provider_id,
      incident.value AS incident_type,
      CASE WHEN incident.value = %(csam)s THEN {files_case("d.u_files")} ELSE 0 END AS nfiles,
      CASE
        WHEN incident.value <> %(csam)s THEN 'no_files'
        WHEN d.u_content < {KNOWN_ONLY_SHARE} THEN 'known_only'
        ELSE 'contains_new'
      END AS content_status
    FROM (
      SELECT g AS id,
        (CASE WHEN g <= %(n2020)s
          THEN timestamptz '2020-01-01 00:00+00' + (g - 1) * (interval '366 days' / %(n2020)s)
          ELSE timestamptz '2021-01-01 00:00+00'
            + (g - %(n2020)s - 1) * (interval '365 days' / %(n2021)s)
        END) AS received_at,
        random() < {PUBLIC_SHARE} AS public,
        floor(random() * {SLOTS})::int AS s_country,
        floor(random() * {SLOTS})::int AS s_state,
        floor(random() * {SLOTS})::int AS s_provider,
        floor(random() * {SLOTS})::int AS s_incident,
        random() AS u_files, random() AS u_content, random() AS u_bundle, random() AS u_item,
        random() AS u_priority, random() AS u_finish, random() AS u_deliver,
        random() AS u_referral, random() AS u_ack, random() AS u_ack_wait
      FROM generate_series(1, %(reports)s) AS g
      OFFSET 0
    ) d
    JOIN bench_slot country ON country.dim = 'country' AND country.slot = d.s_country
    JOIN bench_slot state ON state.dim = 'state' AND state.slot = d.s_state
    JOIN bench_slot provider ON provider.dim = 'provider' AND provider.slot = d.s_provider
    JOIN bench_slot incident
      ON incident.dim = CASE WHEN d.public THEN 'incident-public' ELSE 'incident-provider' END
      AND incident.slot = d.s_incident
  ) q
) p
"""

BUNDLES = """
INSERT INTO intake_bundle (content_key, country, day, report_count, created_at)
SELECT bundle_key, country, day, count(*), min(finished_at)
FROM bench_plan WHERE bundle_key IS NOT NULL GROUP BY 1, 2, 3
"""

KNOWN = """
INSERT INTO intake_knownhash (hash_type, value, label, source, is_active, created_at)
SELECT 'md5', md5('known-' || g), 'synthetic', 'bench', true, '2019-12-01'
FROM generate_series(1, %(known)s) AS g
"""

REPORTS = """
INSERT INTO intake_report (
  id, source, provider_id, status, incident_type, incident_datetime,
  incident_datetime_description, escalate_to_high_priority, description, document,
  reporter_name, reporter_email, reporter_phone, stated_country, resolved_country,
  country_confidence, us_state, location, content_status, priority, provisional_priority,
  priority_reasons, priority_overrides, bundle_id, received_at, updated_at, finished_at,
  routed_at, reviewed_by
)
SELECT
  p.id, CASE WHEN p.public THEN 'public' ELSE 'provider' END, p.provider_id, 'finished',
  p.incident_type, p.received_at - interval '1 minute' * floor(p.u_item * 2880), '', '', '',
  jsonb_build_object(
    'incidentSummary', jsonb_build_object(
      'incidentType', p.incident_type,
      'incidentDateTime', to_char(p.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    ),
    'personOrUserReported', jsonb_build_object(
      'screenName', 'user-' || (p.id::bigint * 7919 %% 1000003),
      'ipCaptureEvent', jsonb_build_array(jsonb_build_object(
        'ipAddress', '198.51.100.' || (p.id %% 250), 'eventName', 'Upload'
      ))
    )
  ),
  -- No reporter: contact details are encrypted by the application, and the figures
  -- never read them.
  '', '', '', '',
  p.country, CASE WHEN p.country = '' THEN '' ELSE 'high' END, p.us_state, '{}',
  p.content_status, p.priority, CASE WHEN p.priority = '1' THEN '1' ELSE '' END, '[]', '[]',
  b.id, p.received_at, p.routed_at, p.finished_at, p.routed_at, ''
FROM bench_plan p
LEFT JOIN intake_bundle b
  ON p.bundle_key IS NOT NULL
  AND b.content_key = p.bundle_key AND b.country = p.country AND b.day = p.day
WHERE p.id BETWEEN %(first)s AND %(last)s
"""

# A file's id is 32 hex digits like production's uuid4().hex, but in the order the files
# are written, so that its unique index is built from presorted input.
FILES = f"""
INSERT INTO intake_reportedfile (
  file_id, source, file_name, media_type, mime_type, size_bytes, md5, sha1, sha256, pdq,
  created_at, report_id, match_distance, times_seen_before, known_hash_id
)
SELECT
  lpad(to_hex(f.report_id), 10, '0') || lpad(to_hex(f.k), 2, '0')
    || left(md5('file-' || f.report_id || '-' || f.k), 20),
  CASE WHEN f.upload THEN 'upload' ELSE 'metadata' END,
  CASE WHEN f.video THEN 'VID_' || f.k || '.mp4' ELSE 'IMG_' || f.k || '.jpg' END,
  CASE WHEN f.video THEN 'video' ELSE 'image' END,
  CASE WHEN f.video THEN 'video/mp4' ELSE 'image/jpeg' END,
  CASE WHEN f.video THEN 2000000 + floor(f.u_size * 200000000)
    ELSE 20000 + floor(f.u_size * 4000000) END,
  CASE WHEN f.known IS NOT NULL THEN md5('known-' || f.known)
    ELSE md5('new-' || f.report_id || '-' || f.k) END,
  '',
  CASE WHEN f.upload THEN encode(sha256(('file-' || f.report_id || '-' || f.k)::bytea), 'hex')
    ELSE '' END,
  '',
  f.received_at, f.report_id,
  CASE WHEN f.known IS NOT NULL THEN 0 END,
  CASE WHEN f.u_seen < (CASE
      WHEN f.known IS NOT NULL AND f.video THEN {FIRST_SEEN["known", "video"]}
      WHEN f.known IS NOT NULL THEN {FIRST_SEEN["known", "image"]}
      WHEN f.video THEN {FIRST_SEEN["new", "video"]}
      ELSE {FIRST_SEEN["new", "image"]}
    END) THEN 0 ELSE 1 + floor(-ln(1 - f.u_size) * 20)::int END,
  CASE WHEN f.known IS NOT NULL THEN %(first_known)s + f.known - 1 END
FROM (
  SELECT p.id AS report_id, k, p.received_at,
    random() < {VIDEO_SHARE} AS video,
    random() < 0.3 AS upload,
    CASE WHEN p.content_status = 'known_only'
        OR (k > 1 AND random() < {KNOWN_IN_NEW_SHARE})
      THEN 1 + floor(power(random(), 3) * {KNOWN_HASHES})::int END AS known,
    random() AS u_seen, random() AS u_size
  FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.nfiles) AS k
  WHERE p.nfiles > 0 AND p.id BETWEEN %(first)s AND %(last)s
  OFFSET 0
) f
"""

ACK_WAIT = by_priority(
    ACKNOWLEDGE_HOURS,
    lambda hours: f"interval '1 hour' * {hours[0]} * exp(u_ack_wait * ln({hours[1] / hours[0]}))",
)
REFERRALS = f"""
INSERT INTO routing_referral (
  status, created_at, delivered_at, acknowledged_at, agency_id, report_id, attempts,
  dead_lettered_at, last_error, next_attempt_at, reason, case_status
)
SELECT
  CASE WHEN dead THEN 'dead_lettered' WHEN acknowledged THEN 'acknowledged' ELSE 'delivered' END,
  routed_at,
  CASE WHEN NOT dead THEN delivered_at END,
  CASE WHEN acknowledged THEN delivered_at + {ACK_WAIT} END,
  agency_id, id,
  CASE WHEN dead THEN 8 WHEN retried THEN 3 ELSE 1 END,
  CASE WHEN dead THEN routed_at + interval '2 days' END,
  CASE WHEN dead THEN 'HTTP 503 from the agency''s endpoint' ELSE '' END,
  NULL, '',
  CASE WHEN acknowledged AND u_ack > 0.7 THEN 'investigating' ELSE 'open' END
FROM (
  SELECT p.id, p.priority, p.routed_at, p.u_ack, p.u_ack_wait,
    coalesce(rule.agency_id, %(analyst)s) AS agency_id,
    p.u_referral < {DEAD_LETTER_SHARE} AS dead,
    p.u_referral >= {DEAD_LETTER_SHARE} AND p.u_referral < {DEAD_LETTER_SHARE + RETRIED_SHARE}
      AS retried,
    p.u_referral >= {DEAD_LETTER_SHARE}
      AND p.u_ack >= {by_priority(NEVER_ACKNOWLEDGED, str)} AS acknowledged,
    p.routed_at + CASE
      WHEN p.u_referral < {DEAD_LETTER_SHARE + RETRIED_SHARE}
        THEN interval '1 minute' * (1 + 240 * p.u_deliver)
      ELSE interval '1 millisecond' * (20 + 800 * power(p.u_deliver, 4))
    END AS delivered_at
  FROM bench_plan p
  LEFT JOIN routing_routingrule rule ON rule.country_id = p.country AND rule.us_state = p.us_state
  WHERE p.id BETWEEN %(first)s AND %(last)s
) r
"""


def secondary_indexes_drop(conn: psycopg.Connection) -> dict[str, list[sql.SQL | sql.Composed]]:
    """Drops the filled tables' indexes other than their primary keys; returns, by table,
    the statements that build them again. Building an index once the rows are in is a
    bulk load's usual order, much faster than keeping it up to date row by row."""
    rows = conn.execute(
        """
        SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,
               pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
        FROM pg_index i
        LEFT JOIN pg_constraint c
          ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype = 'u'
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
        """,
        [list(FILLED_TABLES)],
    ).fetchall()
    rebuild: dict[str, list[sql.SQL | sql.Composed]] = {}
    for table, index, definition, constraint, constraint_definition in rows:
        if constraint:
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(constraint)
                )
            )
            statement: sql.SQL | sql.Composed = sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {} {}"
            ).format(
                sql.Identifier(table), sql.Identifier(constraint), sql.SQL(constraint_definition)
            )
        else:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            statement = sql.SQL(definition)
        rebuild.setdefault(table, []).append(statement)
    return rebuild


def bulk_session(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    # The loads run two at a time already, one a core.
    conn.execute("SET max_parallel_maintenance_workers = 0")
    conn.execute("SET synchronous_commit = off")
    # Every row is consistent by construction: skip the foreign keys' per-row triggers
    # (superuser only; without it the load is slower, not different).
    with suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("SET session_replication_role = replica")


def in_parallel(work: Callable[[Any], None], items: Sequence[Any], *, threads: int = 2) -> None:
    """``work(item)`` for every item, from ``threads`` threads that each take the next
    item when done with the last (give the longest first). The first error stops them."""
    pending = list(items)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run() -> None:
        while True:
            with lock:
                if not pending or errors:
                    return
                item = pending.pop(0)
            try:
                work(item)
            except BaseException as error:
                errors.append(error)
                return

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]


SHAPE = """
SELECT r.reports, f.files, x.referrals, (SELECT count(*) FROM intake_bundle) AS bundles,
  r.providers, r.outside_us, r.eu, r.csam, r.bundled, f.videos, f.unique_images,
  f.unique_videos, f.known, x.acknowledged, x.dead_lettered
FROM (
  SELECT count(*) AS reports,
    avg((source = 'provider')::int) AS providers,
    avg((resolved_country NOT IN ('US', ''))::int) AS outside_us,
    avg((resolved_country = ANY(%(eu)s))::int) AS eu,
    avg((incident_type LIKE 'Child Pornography%%')::int) AS csam,
    avg((bundle_id IS NOT NULL)::int) AS bundled
  FROM intake_report
) r, (
  SELECT count(*) AS files,
    avg((media_type = 'video')::int) AS videos,
    sum((times_seen_before = 0 AND media_type = 'image')::int)::float
      / nullif(sum((media_type = 'image')::int), 0) AS unique_images,
    sum((times_seen_before = 0 AND media_type = 'video')::int)::float
      / nullif(sum((media_type = 'video')::int), 0) AS unique_videos,
    avg((known_hash_id IS NOT NULL)::int) AS known
  FROM intake_reportedfile
) f, (
  SELECT count(*) AS referrals,
    avg((status = 'acknowledged')::int) AS acknowledged,
    avg((status = 'dead_lettered')::int) AS dead_lettered
  FROM routing_referral
) x
"""


def fill(url: str, *, reports: int) -> dict[str, Any]:
    """Writes ``reports`` finished reports with their files, bundles and one referral each;
    returns the time taken and the rows written."""
    started = time.perf_counter()
    steps: dict[str, float] = {}

    def step(name: str) -> None:
        steps[name] = time.perf_counter() - started - sum(steps.values())

    n2020 = round(reports * SHARE_2020)
    params = {"reports": reports, "n2020": n2020, "n2021": reports - n2020, "csam": CSAM}
    with psycopg.connect(url, autocommit=True) as conn:
        bulk_session(conn)
        conn.execute("SELECT setseed(0.2021)")
        providers = providers_create(conn)
        choices(conn, providers)
        conn.execute(KNOWN, {"known": KNOWN_HASHES})
        first_known = scalar(conn, "SELECT min(id) FROM intake_knownhash")
        analyst = scalar(conn, "SELECT id FROM routing_agency WHERE code = 'ANALYST'")
        conn.execute(PLAN, params)
        conn.execute("ANALYZE bench_plan")
        conn.execute(BUNDLES)
        step("plan")
        rebuild = secondary_indexes_drop(conn)

    # Two connections, one a core, each taking the next piece of work when done: reports,
    # files and referrals in ranges of reports; then every index.
    statements = {"intake_report": REPORTS, "intake_reportedfile": FILES}
    statements["routing_referral"] = REFERRALS
    ranges = {"intake_report": 2, "intake_reportedfile": 4, "routing_referral": 1}
    pieces = [
        (table, index, first, min(first + reports // count, reports))
        for table, count in ranges.items()
        for index, first in enumerate(range(1, reports + 1, reports // count + 1))
    ]

    def load(piece: tuple[str, int, int, int]) -> None:
        table, index, first, last = piece
        with psycopg.connect(url, autocommit=True) as loader:
            bulk_session(loader)
            # A seed of its own for each piece: the same pieces give the same rows.
            loader.execute("SELECT setseed(%s)", [(len(table) * 10 + index) / 1000])
            loader.execute(
                statements[table],
                {"first": first, "last": last, "first_known": first_known, "analyst": analyst},
            )

    def index(statement: sql.SQL | sql.Composed) -> None:
        with psycopg.connect(url, autocommit=True) as builder:
            bulk_session(builder)
            builder.execute(statement)

    in_parallel(load, pieces)
    step("rows")
    in_parallel(index, [statement for table in ranges for statement in rebuild.get(table, [])])
    step("indexes")
    with psycopg.connect(url, autocommit=True) as conn:
        for table in FILLED_TABLES:
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({table}, 'id'), max(id)) FROM {name}"
                ).format(table=sql.Literal(table), name=sql.Identifier(table))
            )
        conn.execute("DROP TABLE bench_plan, bench_slot")

    def vacuum(table: str) -> None:
        with psycopg.connect(url, autocommit=True) as vacuumer:
            vacuumer.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))

    in_parallel(vacuum, [*FILLED_TABLES, "intake_bundle", "intake_knownhash"])
    step("vacuum")
    with psycopg.connect(url) as counter, counter.cursor(row_factory=dict_row) as cursor:
        shape = cursor.execute(SHAPE, {"eu": list(EU_WEIGHTS)}).fetchone()
    assert shape is not None
    return {"seconds": time.perf_counter() - started, "steps": steps, **shape}


# Measuring


def probe(running: Stack, *args: str) -> dict[str, Any]:
    output = subprocess.run(
        [PYTHON, "-m", "bench.figures_probe", *args],
        cwd=ROOT,
        env=running.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def totp_now(otpauth: str) -> str:
    """The code an authenticator app shows now for an otpauth:// address (RFC 6238)."""
    params = parse_qs(urlsplit(otpauth).query)
    secret = params["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digits = int(params.get("digits", ["6"])[0])
    period = int(params.get("period", ["30"])[0])
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // period), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def cookies_set(response: http.client.HTTPResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def staff_cookie(running: Stack) -> str:
    """Signs a new analyst in to the admin, as a browser does (password and the current
    authenticator code, with the CSRF cookie and token); returns its Cookie header."""
    credentials = json.loads(
        subprocess.run(
            [PYTHON, "manage.py", "create_staff_user", "bench-analyst", "--role", "analyst"],
            cwd=ROOT,
            env=running.env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    connection = running.connection()
    connection.request("GET", "/admin/login/?next=/stats/")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = cookies_set(response)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if response.status != 200 or token is None or "csrftoken" not in cookies:
        raise RuntimeError(f"the admin's sign-in page: {response.status} {page[:300]!r}")
    form = {
        "csrfmiddlewaretoken": token.group(1),
        "username": credentials["username"],
        "password": credentials["password"],
        "otp_token": totp_now(credentials["totp"]),
        "next": "/stats/",
    }
    connection.request(
        "POST",
        "/admin/login/?next=/stats/",
        body=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
        },
    )
    response = connection.getresponse()
    answer = response.read().decode()
    cookies |= cookies_set(response)
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"signing in: {response.status} {answer[:300]!r}")
    connection.close()
    return f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}"


def page_times(
    running: Stack, path: str, expect: str, headers: dict[str, str], *, requests: int
) -> list[float]:
    """Seconds each of ``requests`` GETs of ``path`` took (after 2 to warm up), one after
    the other on one keep-alive connection; each must be the page with its figures."""
    connection = running.connection()
    times = []
    for index in range(2 + requests):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        elapsed = time.perf_counter() - started
        if response.status != 200 or expect not in body:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        if index >= 2:
            times.append(elapsed)
    connection.close()
    return times


def query_times(url: str, queries: dict[str, str], *, runs: int = 5) -> dict[str, float]:
    """The median seconds of each query over ``runs`` runs (after one to warm up)."""
    medians = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, query in queries.items():
            times = []
            for index in range(runs + 1):
                started = time.perf_counter()
                conn.execute(query).fetchall()
                if index:
                    times.append(time.perf_counter() - started)
            medians[name] = statistics.median(times)
    return medians


def rollups_analyze(url: str) -> None:
    """Statistics for the planner on the rollups just written, as autovacuum would gather
    within a minute of the refresh's commit."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "ANALYZE routing_dailyreportfigures, routing_dailyreferralfigures,"
            " routing_dailydurations"
        )


def changed_day(url: str) -> int:
    """Marks the reports received on CHANGED_DAY as changed now, as routing or triage
    would; returns how many."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "UPDATE intake_report SET updated_at = now()"
            " WHERE received_at >= %(day)s::date AND received_at < %(day)s::date + 1",
            {"day": CHANGED_DAY},
        ).rowcount


# Reporting


SHARES = (
    "providers",
    "outside_us",
    "eu",
    "csam",
    "bundled",
    "videos",
    "unique_images",
    "unique_videos",
    "known",
    "acknowledged",
    "dead_lettered",
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def row(name: str, ours: str, baseline: str = "", ratio: str = "", target: str = "") -> None:
    print(f"{name:<46}{ours:>28}{baseline:>30}{ratio:>9}  {target}")


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000, help="reports to write")
    parser.add_argument("--requests", type=int, default=20, help="timed requests a page")
    parser.add_argument("--port", type=int, default=8781, help="the port gunicorn listens on")
    args = parser.parse_args()
    print(f"machine: {machine_description()}")
    began = time.perf_counter()
    # The pages refresh the figures themselves when the last refresh is older than this:
    # here the refresh is measured on its own, and the pages only read.
    with (
        environment(FIGURES_MAX_AGE_SECONDS="3600"),
        stack(port=args.port) as running,
    ):
        url = running.env["DATABASE_URL"]
        filled = fill(url, reports=args.reports)
        first = probe(running, "refresh")
        rollups_analyze(url)
        changed = changed_day(url)
        incremental = probe(running, "refresh")
        cookie = staff_cookie(running)
        pages = {}
        for name, (path, expect) in PAGES.items():
            headers = {"Cookie": cookie} if path == "/stats/" else {}
            pages[name] = page_times(running, path, expect, headers, requests=args.requests)
        profile = probe(running, "profile", "")
        raw = query_times(url, RAW)
        rollup = query_times(url, ROLLUP)

    print(
        f"{filled['reports']:,} reports, {filled['files']:,} files, "
        f"{filled['referrals']:,} referrals, {filled['bundles']:,} bundles, written in "
        f"{filled['seconds']:.1f} s ("
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in filled["steps"].items())
        + ")"
    )
    print(
        "shape: "
        + ", ".join(f"{name.replace('_', ' ')} {float(filled[name]):.1%}" for name in SHARES)
    )
    rows = first["rows"]
    row("benchmark", "ours", "baseline", "ratio", "target")
    row(
        f"first full refresh ({first['days']} days)",
        f"{first['seconds']:.1f} s",
        target=f"stated: {sum(rows.values()):,} rollup rows ("
        + ", ".join(f"{count:,} {name}" for name, count in rows.items())
        + ")",
    )
    row(
        f"incremental refresh ({changed:,} reports changed)",
        f"{ms(incremental['seconds'])}",
        target=f"< 60 s (the beat's period): "
        f"{'met' if incremental['seconds'] < 60 else 'NOT MET'}; {incremental['days']} day rebuilt",
    )
    for name, times in pages.items():
        median = statistics.median(times)
        baseline = sum(raw[query] for query in PAGE_BASELINES[name])
        row(
            name,
            f"p50 {ms(median)}, max {ms(max(times))}",
            ms(baseline),
            f"{median / baseline:.2f}x",
            f"< 2 s: {'met' if max(times) < TARGET_SECONDS else 'NOT MET'}",
        )
    for name, seconds in rollup.items():
        baseline = sum(raw[query] for query in QUERY_BASELINES[name])
        row(f"query: {name}", ms(seconds), ms(baseline), f"{seconds / baseline:.3f}x", "stated")
    print("raw baselines (median of 5):")
    for name, seconds in raw.items():
        print(f"  {name}: {ms(seconds)}")
    print(
        f"staff page's figures: {profile['queries']} queries, {profile['database_ms']:,.0f} ms "
        f"in the database, {ms(profile['seconds'])} in all; slowest:"
    )
    for query in profile["slowest"]:
        print(f"  {query['ms']:,.0f} ms: {query['sql'][:160]}")
    print("  EXPLAIN (ANALYZE, BUFFERS) of the slowest:")
    for line in profile["plan"]:
        print(f"    {line}")
    print(f"whole benchmark: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
