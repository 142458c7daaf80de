"""Known-hash list at scale: with N entries on the list (default 5 million), the import
path, exact file lookups and PDQ matching over N PDQ entries, each against a raw baseline
measured in the same run (a Python set for exact lookups; exhaustive numpy popcount for
PDQ), with PDQ recall checked against that exhaustive search, and the memory each matcher
takes.

The bulk of the N entries is written straight into the table with PostgreSQL's binary
COPY, so that the benchmark takes about a minute and a half; the import path
(`manage.py import_hashes`) is then measured on a sample of new rows (a twentieth of N by
default) imported on top of them, so that its upsert runs against a table of that size.

    python -m bench.hashes [--entries N] [--import-rows R] [--pdq-queries Q] [--pdq-checked C]
"""

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import django
import numpy as np
import psycopg

from bench.harness import ROOT, machine_description, scratch_database

LOOKUP_SAMPLE = 20_000  # hits; as many misses
FILL_CHUNK = 250_000
FILL_CONNECTIONS = 2
HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MIB = 2**20


def copy_rows(first_id: int, values: np.ndarray, created_at: datetime) -> bytes:
    """Rows of intake_knownhash in PostgreSQL's binary COPY format, built with numpy: every
    row has the same width, so each column is one slice of a (rows, width) byte array.
    ``values`` is (rows, 2) uint64, the MD5 value's two halves."""
    microseconds = (created_at - POSTGRES_EPOCH) // datetime.resolution
    label, source = b"bench-fill", b"bench"
    # (bytes, or the name of a column filled below) in the order of the COPY's columns
    layout: list[bytes | str] = [
        struct.pack(">hi", 7, 8),  # 7 fields; id: 8 bytes
        "id",
        struct.pack(">i", 3) + b"md5",
        struct.pack(">i", 32),
        "value",
        struct.pack(">i", len(label)) + label,
        struct.pack(">i", len(source)) + source,
        struct.pack(">i?", 1, True),
        struct.pack(">iq", 8, microseconds),
    ]
    widths = {"id": 8, "value": 32}
    width = sum(len(part) if isinstance(part, bytes) else widths[part] for part in layout)
    rows = np.empty((len(values), width), dtype=np.uint8)
    position = 0
    for part in layout:
        if isinstance(part, bytes):
            rows[:, position : position + len(part)] = np.frombuffer(part, dtype=np.uint8)
            position += len(part)
        elif part == "id":
            ids = np.arange(first_id, first_id + len(values), dtype=">i8")
            rows[:, position : position + 8] = ids.view(np.uint8).reshape(-1, 8)
            position += 8
        else:
            digits = values.astype(">u8").view(np.uint8).reshape(-1, 16)
            rows[:, position : position + 32 : 2] = HEX_DIGITS[digits >> 4]
            rows[:, position + 1 : position + 32 : 2] = HEX_DIGITS[digits & 15]
            position += 32
    return rows.tobytes()


def fill_known_hashes(database_url: str, entries: int, rng: random.Random) -> float:
    """Write N synthetic active MD5 entries straight into the known-hash table, as a
    restore would: its keys, indexes and the foreign keys to it are dropped, the rows
    written by binary COPY over FILL_CONNECTIONS connections, then each key and index built
    again by one sort and the table vacuumed and analyzed. Not the import path (the table
    ends up as the import would leave it); returns the seconds it took."""
    generator = np.random.default_rng(rng.getrandbits(32))
    high = np.sort(generator.integers(0, 2**64, size=entries, dtype=np.uint64))
    low = generator.integers(0, 2**64, size=entries, dtype=np.uint64)
    created_at = datetime.now(UTC)
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        foreign_keys = conn.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE confrelid = 'intake_knownhash'::regclass"
        ).fetchall()
        keys = conn.execute(
            "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'intake_knownhash'::regclass AND contype IN ('p', 'u') "
            "ORDER BY contype"  # the primary key first
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'intake_knownhash'::regclass AND indexrelid NOT IN "
            "(SELECT conindid FROM pg_constraint WHERE conrelid = 'intake_knownhash'::regclass)"
        ).fetchall()
        with conn.transaction():
            for table, name, _ in foreign_keys:
                conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in keys:
                conn.execute(f"ALTER TABLE intake_knownhash DROP CONSTRAINT {name}")
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")

        def copy_part(part: int) -> None:
            with (
                psycopg.connect(database_url) as writer,
                writer.cursor().copy(
                    "COPY intake_knownhash "
                    "(id, hash_type, value, label, source, is_active, created_at) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
                for start in range(part * FILL_CHUNK, entries, FILL_CHUNK * FILL_CONNECTIONS):
                    end = start + FILL_CHUNK
                    values = np.column_stack((high[start:end], low[start:end]))
                    copy.write(copy_rows(start + 1, values, created_at))
                copy.write(struct.pack(">h", -1))

        with ThreadPoolExecutor(FILL_CONNECTIONS) as pool:
            list(pool.map(copy_part, range(FILL_CONNECTIONS)))
        conn.execute("SET maintenance_work_mem = '1GB'")
        with conn.transaction():
            for name, definition in keys:
                conn.execute(f"ALTER TABLE intake_knownhash ADD CONSTRAINT {name} {definition}")
            for _, definition in indexes:
                conn.execute(definition)
            for table, name, definition in foreign_keys:
                conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('intake_knownhash', 'id'), %s)", (entries,)
            )
        conn.execute("VACUUM (ANALYZE) intake_knownhash")
    return time.monotonic() - started


def write_csv(path: Path, rows: int, rng: random.Random) -> None:
    """N new synthetic MD5 entries in the import's CSV format."""
    with path.open("w") as out:
        out.write("hash_type,value,label,source\n")
        for number in range(rows):
            out.write(f"md5,{rng.getrandbits(128):032x},synthetic-{number % 97},bench\n")


def lookup_sample(database_url: str, count: int, rng: random.Random) -> list[str]:
    """About ``count`` MD5 values on the list, picked at random by id."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM intake_knownhash").fetchone()
        last = row[0] if row else 0
        ids = rng.sample(range(1, last + 1), min(count, last))
        values = [
            value
            for (value,) in conn.execute(
                "SELECT value FROM intake_knownhash "
                "WHERE id = ANY(%s) AND hash_type = 'md5' AND is_active",
                (ids,),
            )
        ]
    assert values, "no sample"
    return values


def bench_import_and_exact(entries: int, import_rows: int, rng: random.Random) -> list[str]:
    lines = []
    with scratch_database() as env, tempfile.TemporaryDirectory() as directory:
        fill_seconds = fill_known_hashes(env["DATABASE_URL"], entries, rng)
        lines.append(
            f"fill {entries:,} entries straight into PostgreSQL (binary COPY, keys and indexes "
            f"built after; not the import path): {fill_seconds:.0f} s ({entries / fill_seconds:,.0f} rows/s)"
        )
        csv_path = Path(directory) / "hashes.csv"
        write_csv(csv_path, import_rows, rng)
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
            f"import {import_rows:,} new CSV rows (`manage.py import_hashes`, process start "
            f"included) on top of {entries:,}: {import_seconds:.1f} s "
            f"({import_rows / import_seconds:,.0f} rows/s; 5,000,000 at this rate: "
            f"{5_000_000 * import_seconds / import_rows / 60:.1f} min); target: 5,000,000 rows in minutes"
        )
        sample = lookup_sample(env["DATABASE_URL"], LOOKUP_SAMPLE, rng)
        ours, baseline = (
            json.loads(
                subprocess.run(
                    [sys.executable, "-m", "bench.exact_lookups", kind],
                    input="\n".join(sample),
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for kind in ("matcher", "set")
        )
    total = ours["entries"]
    assert baseline["entries"] == total, "the matcher and the set hold different entries"
    lines.append(
        f"exact MD5 lookups over {total:,} entries, half hits, batches of 1,000: "
        f"{ours['rate']:,.0f}/s, baseline (Python set) {baseline['rate']:,.0f}/s, "
        f"ratio {ours['rate'] / baseline['rate']:.3f}x; target >= 100,000/s"
    )
    held, baseline_held = ours["held"], baseline["held"]
    lines.append(
        f"exact matcher memory for {total:,} entries (RSS, fresh process): {held / MIB:,.0f} MiB "
        f"held ({held / total:.0f} bytes an entry; peak +{ours['peak'] / MIB:,.0f} MiB while "
        f"loading from the database in {ours['load_seconds']:.1f} s), baseline (Python set of "
        f"the hex strings) {baseline_held / MIB:,.0f} MiB, ratio {held / baseline_held:.2f}x; "
        f"target about 24 bytes an entry"
    )
    return lines


def bench_pdq(entries: int, query_count: int, checked_count: int, rng: random.Random) -> list[str]:
    from intake.pdq import PdqIndex

    generator = np.random.default_rng(rng.getrandbits(32))
    words = generator.integers(0, 2**64, size=(entries, 4), dtype=np.uint64)
    ids = np.arange(1, entries + 1, dtype=np.int64)
    tracemalloc.start()
    started = time.perf_counter()
    index = PdqIndex(ids, words)
    build_seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
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

    checked = queries[:checked_count]
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
        f"PDQ queries over {entries:,} entries (threshold 31, half near copies): {ours:,.0f}/s, "
        f"baseline (exhaustive numpy popcount) {baseline:,.1f}/s, ratio {ours / baseline:,.0f}x; "
        f"recall {recall:.0%} on {len(checked)} queries ({found} with a match); target >= 200/s",
        f"PDQ index memory for {entries:,} entries (tracemalloc): {held / MIB:,.0f} MiB held "
        f"({held / entries:.0f} bytes an entry; peak {peak / MIB:,.0f} MiB while building in "
        f"{build_seconds:.1f} s), baseline (the raw hashes exhaustive search scans) "
        f"{words.nbytes / MIB:,.0f} MiB, ratio {held / words.nbytes:.2f}x; target about 130 bytes an entry",
    ]


def main() -> None:
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument(
        "--import-rows", type=int, help="rows imported through the import path (default N / 20)"
    )
    parser.add_argument("--pdq-queries", type=int, default=500)
    parser.add_argument(
        "--pdq-checked", type=int, default=24, help="queries checked against exhaustive search"
    )
    args = parser.parse_args()
    import_rows = args.import_rows or max(args.entries // 20, 1)
    # The PDQ index is measured in this process; it needs the app's code, not its database.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    print(f"machine: {machine_description()}")
    for line in bench_import_and_exact(args.entries, import_rows, random.Random(1)):
        print(line, flush=True)
    for line in bench_pdq(args.entries, args.pdq_queries, args.pdq_checked, random.Random(2)):
        print(line, flush=True)
    print(f"known-hash benchmark wall time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
