"""Known-hash list at scale: importing N entries (default 5 million) from CSV, exact file
lookups against it, and PDQ matching over N PDQ entries, each against a raw baseline
measured in the same run (a Python set for exact lookups; exhaustive numpy popcount for
PDQ), with PDQ recall checked against that exhaustive search.

    python -m bench.hashes [--entries N] [--pdq-queries Q]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import django
import numpy as np

from bench.harness import ROOT, machine_description, scratch_database

LOOKUP_BATCH = 1_000


def write_csv(path: Path, entries: int, rng: random.Random) -> list[str]:
    """N synthetic MD5 entries; returns a sample of them for lookups."""
    sample: list[str] = []
    with path.open("w") as out:
        out.write("hash_type,value,label,source\n")
        for number in range(entries):
            value = f"{rng.getrandbits(128):032x}"
            out.write(f"md5,{value},synthetic-{number % 97},bench\n")
            if number % max(entries // 20_000, 1) == 0:
                sample.append(value)
    return sample


def bench_import_and_exact(entries: int, rng: random.Random) -> list[str]:
    lines = []
    with scratch_database() as env, tempfile.TemporaryDirectory() as directory:
        csv_path = Path(directory) / "hashes.csv"
        sample = write_csv(csv_path, entries, rng)
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "manage.py", "import_hashes", str(csv_path)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import_seconds = time.monotonic() - started
        lines.append(
            f"import {entries:,} rows: {import_seconds:.0f} s ({entries / import_seconds:,.0f} rows/s)"
        )
        lookups = subprocess.run(
            [sys.executable, "-m", "bench.exact_lookups"],
            input="\n".join(sample),
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        ours = float(lookups)
    # Baseline: the same entries in a Python set, looked up one by one.
    known = set()
    rng_again = random.Random(1)
    for _ in range(entries):
        known.add(f"{rng_again.getrandbits(128):032x}")
    queries = sample + [f"{rng.getrandbits(128):032x}" for _ in range(len(sample))]
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        hits = sum(1 for value in queries if value in known)
    baseline = len(queries) * rounds / (time.perf_counter() - started)
    assert hits == len(sample)
    lines.append(
        f"exact lookups: {ours:,.0f}/s, baseline (Python set) {baseline:,.0f}/s, ratio {ours / baseline:.3f}x; target >= 100,000/s"
    )
    return lines


def bench_pdq(entries: int, query_count: int, rng: random.Random) -> list[str]:
    from intake.pdq import PdqIndex

    generator = np.random.default_rng(rng.getrandbits(32))
    words = generator.integers(0, 2**64, size=(entries, 4), dtype=np.uint64)
    ids = np.arange(1, entries + 1, dtype=np.int64)
    tracemalloc.start()
    started = time.perf_counter()
    index = PdqIndex(ids, words)
    build_seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    def to_hex(row: np.ndarray) -> str:
        return row.astype(">u8").tobytes().hex()

    queries = []
    for number in range(query_count):
        row = words[generator.integers(0, entries)].copy()
        if number % 2 == 0:  # a near copy of a known item, 0 to 31 bits away
            for bit in generator.choice(256, size=int(generator.integers(0, 32)), replace=False):
                row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
        else:
            row = generator.integers(0, 2**64, size=4, dtype=np.uint64)
        queries.append(row)
    hex_queries = [to_hex(row) for row in queries]
    started = time.perf_counter()
    results = [index.match(query, 31) for query in hex_queries]
    ours = len(queries) / (time.perf_counter() - started)

    def exhaustive(row: np.ndarray) -> tuple[int, int] | None:
        distances = np.bitwise_count(np.bitwise_xor(words, row)).sum(axis=1)
        best = int(np.argmin(distances))
        return (int(ids[best]), int(distances[best])) if distances[best] <= 31 else None

    checked = queries[: max(20, query_count // 10)]
    started = time.perf_counter()
    expected = [exhaustive(row) for row in checked]
    baseline = len(checked) / (time.perf_counter() - started)
    got = [(r.entry_id, r.distance) if r else None for r in results[: len(checked)]]
    found = sum(1 for e in expected if e is not None)
    recall = sum(1 for e, g in zip(expected, got, strict=True) if e is not None and e == g) / max(
        found, 1
    )
    assert got == expected, "the index disagrees with exhaustive search"
    return [
        f"PDQ index over {entries:,} entries: built in {build_seconds:.1f} s, peak {peak / 2**20:,.0f} MiB",
        f"PDQ queries (threshold 31): {ours:,.0f}/s, baseline (exhaustive numpy popcount) {baseline:,.1f}/s, "
        f"ratio {ours / baseline:,.0f}x; recall {recall:.0%} on {len(checked)} queries ({found} with a match); target >= 200/s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--pdq-queries", type=int, default=1_000)
    args = parser.parse_args()
    # The PDQ index is measured in this process; it needs the app's code, not its database.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    print(f"machine: {machine_description()}")
    for line in bench_import_and_exact(args.entries, random.Random(1)):
        print(line)
    for line in bench_pdq(args.entries, args.pdq_queries, random.Random(2)):
        print(line)


if __name__ == "__main__":
    main()
