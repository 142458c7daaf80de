"""Run inside the bench environment: exact lookups per second through the known-hash
matcher (intake.hashes), loaded from the database as a worker loads it."""

import random
import sys
import time

import django


def main() -> None:
    django.setup()
    from intake.hashes import exact_index_from_database

    known = sys.stdin.read().split()
    rng = random.Random(3)
    values = known + [f"{rng.getrandbits(128):032x}" for _ in range(len(known))]
    rng.shuffle(values)
    index = exact_index_from_database()
    batches = [values[start : start + 1_000] for start in range(0, len(values), 1_000)]
    started = time.perf_counter()
    hits = sum(sum(1 for found in index.lookup("md5", batch) if found) for batch in batches)
    rate = len(values) / (time.perf_counter() - started)
    if hits != len(known):
        raise SystemExit(f"expected {len(known)} hits, got {hits}")
    print(rate)


if __name__ == "__main__":
    main()
