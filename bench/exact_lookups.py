"""Run inside the bench environment, in a fresh process for each measurement: exact
lookups per second and the resident memory they take, either through the known-hash
matcher (intake.hashes), loaded from the database as a worker loads it, or (``set``) for
the baseline, a Python set of the same active MD5 values.

    python -m bench.exact_lookups matcher|set < values-expected-to-be-hits

Prints one JSON object: entries, lookups per second, and resident memory in bytes from
/proc/self/status: ``held`` (VmRSS after loading less VmRSS before) and ``peak`` (VmHWM
after loading less VmRSS before).
"""

import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import django

BATCH = 1_000
SET_LOAD_CHUNK = 250_000


def memory(field: str) -> int:
    """VmRSS (resident now) or VmHWM (resident at the peak so far), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def load_matcher() -> tuple[int, Callable[[Sequence[str]], int]]:
    from intake.hashes import exact_index_from_database

    index = exact_index_from_database()

    def hits(values: Sequence[str]) -> int:
        return sum(
            sum(1 for found in index.lookup("md5", values[start : start + BATCH]) if found)
            for start in range(0, len(values), BATCH)
        )

    return len(index.columns["md5"][0]), hits


def load_set() -> tuple[int, Callable[[Sequence[str]], int]]:
    from django.db import connection

    known: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM intake_knownhash")
        (last,) = cursor.fetchone() or (0,)
        # A range of ids at a time, as one text value: far quicker to receive than rows,
        # and small enough to leave nothing behind in this process but the set.
        for start in range(1, last + 1, SET_LOAD_CHUNK):
            cursor.execute(
                "SELECT coalesce(string_agg(value, ' '), '') FROM intake_knownhash "
                "WHERE hash_type = 'md5' AND is_active AND id >= %s AND id < %s",
                [start, start + SET_LOAD_CHUNK],
            )
            (joined,) = cursor.fetchone() or ("",)
            known.update(joined.split())

    def hits(values: Sequence[str]) -> int:
        return sum(1 for value in values if value in known)

    return len(known), hits


def main() -> None:
    kind = sys.argv[1]
    django.setup()
    known = sys.stdin.read().split()
    rng = random.Random(3)
    values = known + [f"{rng.getrandbits(128):032x}" for _ in range(len(known))]
    rng.shuffle(values)

    before = memory("VmRSS")
    started = time.perf_counter()
    entries, hits = {"matcher": load_matcher, "set": load_set}[kind]()
    load_seconds = time.perf_counter() - started
    held, peak = memory("VmRSS") - before, memory("VmHWM") - before

    rounds = 1 if kind == "matcher" else 20  # the set is fast: more rounds for a steady figure
    started = time.perf_counter()
    for _ in range(rounds):
        found = hits(values)
    rate = len(values) * rounds / (time.perf_counter() - started)
    if found != len(known):
        raise SystemExit(f"{kind}: expected {len(known)} hits, got {found}")
    print(
        json.dumps(
            {
                "entries": entries,
                "rate": rate,
                "held": held,
                "peak": peak,
                "load_seconds": load_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
