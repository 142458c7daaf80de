"""The known-hash list: importing it, and matching reported files against it.

A file is `known` when one of its MD5, SHA-1 or SHA-256 hashes is on the list exactly (or
its PDQ hash is within the PDQ threshold, see intake/pdq.py); otherwise it is `new`. Each
file's strongest hash is also counted, so that the figures can say how many files were
reported before and how many were unique."""

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from config.bulk import bulk_update_rows
from config.reloading import Reloading, announce_change
from intake.models import HashSighting, KnownHash, Report, ReportedFile
from intake.pdq import KNOWN_HASH_LIST_VERSION, loaded_pdq_index, pdq_match

HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
EXACT_TYPES = ("sha256", "sha1", "md5")  # strongest first
IMPORT_BATCH = 20_000
LOAD_CHUNK = 100_000  # rows read from the database and converted at a time
HEX = re.compile(r"[0-9a-f]+")
# Every transaction that writes entries which are or may become shared (imports, staff
# confirming, changing or withdrawing them, intake/sharing.py) takes this PostgreSQL
# advisory lock first, before any row lock, and holds it until commit: one lock order, so
# no two of them deadlock, and the shared list's change sequence is handed out in order.
SHARING_LOCK = 0x5A4E0F


def known_hash_list_lock() -> None:
    """Take SHARING_LOCK until the end of the transaction (SQLite, the embedded mode,
    serializes writers with its database lock instead)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SHARING_LOCK])


@dataclass
class HashImport:
    imported: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


Entry = tuple[str, str, str, str]  # hash_type, value, label, source


def parse_hash_row(row: Sequence[str]) -> Entry:
    """A CSV row ``hash_type,value,label,source`` as an entry, or ValueError saying why."""
    if len(row) < 2 or len(row) > 4:
        raise ValueError(f"expected hash_type,value,label,source; got {len(row)} columns")
    hash_type, value = row[0].strip().lower(), row[1].strip().lower()
    length = HASH_LENGTHS.get(hash_type)
    if length is None:
        raise ValueError(f"unknown hash type {row[0]!r} (use md5, sha1, sha256 or pdq)")
    if len(value) != length or not HEX.fullmatch(value):
        raise ValueError(f"a {hash_type} hash is {length} hexadecimal characters, not {row[1]!r}")
    label = row[2].strip()[:200] if len(row) > 2 else ""
    source = row[3].strip()[:200] if len(row) > 3 else ""
    return hash_type, value, label, source


def known_hashes_import(
    *, rows: Iterable[Sequence[str]], progress: Callable[[int], None] | None = None
) -> HashImport:
    """Add or refresh entries from CSV rows, in batches, with constant memory. A header row
    is skipped; bad rows are reported by line number and the good ones imported. Safe to
    run again: an entry that exists keeps its id and gets the row's label and source,
    unless it is shared (staff confirmed it, intake/sharing.py): a shared entry keeps the
    label and source staff gave it, which providers have synced."""
    result = HashImport()
    batch: list[Entry] = []

    def flush() -> None:
        # Within a batch the last row for a hash wins, as it would row by row.
        unique = {(entry[0], entry[1]): entry for entry in batch}
        if connection.vendor == "postgresql":
            upsert_by_copy(unique.values())
        else:
            upsert_unshared(unique)
        result.imported += len(batch)
        batch.clear()
        if progress:
            progress(result.imported)

    for number, row in enumerate(rows, start=1):
        if number == 1 and row and row[0].strip().lower() == "hash_type":
            continue
        if not any(cell.strip() for cell in row):
            continue
        try:
            batch.append(parse_hash_row(row))
        except ValueError as error:
            result.refused.append((number, str(error)))
        if len(batch) >= IMPORT_BATCH:
            flush()
    flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Fresh statistics, so that lookups use the index from the first query on.
            cursor.execute("ANALYZE intake_knownhash")
    transaction.on_commit(known_hash_list_changed)
    return result


class ExactIndex:
    """The active MD5, SHA-1 and SHA-256 entries in memory: for each type, the first 128
    bits of every hash as two sorted 64-bit columns, with the entry ids. 24 bytes an entry;
    a batch of lookups is a few vectorized binary searches. (128 bits tell hashes apart: a
    chance collision among millions of entries is about 1 in 10^25.)"""

    def __init__(self) -> None:
        self.columns: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def add(self, hash_type: str, ids: np.ndarray, high: np.ndarray, low: np.ndarray) -> None:
        """Hold the entries of one type: their ids and the two halves of their 128-bit
        prefixes (as ``split_128`` gives them), in any order."""
        order = np.lexsort((low, high))
        self.columns[hash_type] = (high[order], low[order], ids[order])

    def lookup(self, hash_type: str, values: Sequence[str]) -> list[int | None]:
        """The entry id of each value, or None."""
        if hash_type not in self.columns or not values:
            return [None] * len(values)
        highs, lows, ids = self.columns[hash_type]
        high, low = split_128(values)
        starts = np.searchsorted(highs, high, side="left")
        ends = np.searchsorted(highs, high, side="right")
        found: list[int | None] = []
        for position, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            match = next((i for i in range(start, end) if lows[i] == low[position]), None)
            found.append(int(ids[match]) if match is not None else None)
        return found


def split_128(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    prefixes = np.frombuffer(bytes.fromhex("".join(value[:32] for value in values)), dtype=">u8")
    pairs = prefixes.astype(np.uint64).reshape(-1, 2)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def exact_columns(hash_type: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ids and 128-bit prefixes (``split_128``) of the active entries of one type,
    read and converted LOAD_CHUNK rows at a time, so that no Python object per entry
    outlives its chunk."""
    rows = (
        KnownHash.objects.filter(hash_type=hash_type, is_active=True)
        .values_list("pk", "value")
        .iterator(chunk_size=LOAD_CHUNK)
    )
    ids: list[np.ndarray] = [np.empty(0, np.int64)]
    highs: list[np.ndarray] = [np.empty(0, np.uint64)]
    lows: list[np.ndarray] = [np.empty(0, np.uint64)]
    while chunk := list(islice(rows, LOAD_CHUNK)):
        # Two list comprehensions rather than zip(*chunk), which would make an iterator per
        # row and set off full garbage collections.
        ids.append(np.array([entry_id for entry_id, _ in chunk], np.int64))
        high, low = split_128([value for _, value in chunk])
        highs.append(high)
        lows.append(low)
    return np.concatenate(ids), np.concatenate(highs), np.concatenate(lows)


def exact_index_from_database() -> ExactIndex:
    index = ExactIndex()
    for hash_type in EXACT_TYPES:
        index.add(hash_type, *exact_columns(hash_type))
    return index


loaded_exact_index = Reloading(exact_index_from_database, version_key=KNOWN_HASH_LIST_VERSION)


def known_hash_list_changed() -> None:
    """After a change to the list is committed: this process matches against the new list
    from its next report on, and every other one within a few seconds (config/reloading.py)."""
    loaded_exact_index.forget()
    loaded_pdq_index.forget()
    announce_change(KNOWN_HASH_LIST_VERSION)


def upsert_by_copy(entries: Iterable[Entry]) -> None:
    """PostgreSQL: COPY the batch into a temporary table, then insert or refresh from it
    in one statement; many times faster than INSERTs for millions of rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        known_hash_list_lock()
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS knownhash_import "
            "(hash_type varchar(6), value varchar(64), label varchar(200), source varchar(200)) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE knownhash_import")
        with cursor.cursor.copy(
            "COPY knownhash_import (hash_type, value, label, source) FROM STDIN"
        ) as copy:
            for entry in entries:
                copy.write_row(entry)
        cursor.execute(
            "INSERT INTO intake_knownhash (hash_type, value, label, source, is_active, created_at) "
            "SELECT hash_type, value, label, source, true, now() FROM knownhash_import "
            "ON CONFLICT (hash_type, value) DO UPDATE "
            "SET label = EXCLUDED.label, source = EXCLUDED.source "
            # A shared entry keeps the label staff gave it: providers synced that one.
            "WHERE intake_knownhash.shared_seq IS NULL"
        )


def upsert_unshared(unique: dict[tuple[str, str], Entry]) -> None:
    """SQLite: insert or refresh the entries, leaving shared ones as they are. The
    database's single write lock, held from the first write to commit, keeps an entry
    from being shared between the read and the writes."""
    with transaction.atomic():
        values = {value for _, value in unique}
        shared = set(
            KnownHash.objects.filter(value__in=values, shared_seq__isnull=False).values_list(
                "hash_type", "value"
            )
        )
        KnownHash.objects.bulk_create(
            [
                KnownHash(hash_type=hash_type, value=value, label=label, source=source)
                for (hash_type, value), (_, _, label, source) in unique.items()
                if (hash_type, value) not in shared
            ],
            update_conflicts=True,
            unique_fields=["hash_type", "value"],
            update_fields=["label", "source"],
        )


def exact_matches(files: Sequence[ReportedFile]) -> dict[int, int]:
    """The id of each file's active known-hash entry matching one of its exact hashes
    (strongest hash first), by file id. The list is held in memory and reloaded a few
    seconds after it changes (every five minutes at the latest), so a new or withdrawn
    entry takes effect within that time."""
    index = loaded_exact_index.get()
    matches: dict[int, int] = {}
    for hash_type in EXACT_TYPES:
        pending = [file for file in files if file.pk not in matches and getattr(file, hash_type)]
        found = index.lookup(hash_type, [getattr(file, hash_type) for file in pending])
        matches.update(
            (file.pk, entry_id) for file, entry_id in zip(pending, found, strict=True) if entry_id
        )
    return matches


def strongest_hash(file: ReportedFile) -> str:
    for hash_type in (*EXACT_TYPES, "pdq"):
        value = getattr(file, hash_type)
        if value:
            return f"{hash_type}:{value}"
    return ""


SIGHTINGS_BATCH = 1_000


def times_seen_before_each(file_hashes: Sequence[str]) -> list[int]:
    """Count one more report of each hash in ``file_hashes`` (a hash may repeat) and return,
    for each in order, how often it was seen before: earlier ones in the list included.
    One upsert per thousand distinct hashes, in the caller's transaction; the rows are
    written in hash order, so concurrent batches lock them in one order and never
    deadlock, and the counts stay exact."""
    counts = Counter(file_hashes)
    keys = sorted(counts)
    table = connection.ops.quote_name(HashSighting._meta.db_table)
    now = timezone.now()
    seen_after: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(keys), SIGHTINGS_BATCH):
            chunk = keys[start : start + SIGHTINGS_BATCH]
            cursor.execute(
                f"INSERT INTO {table} (file_hash, times_seen, first_seen_at) VALUES "  # noqa: S608 (no input in the statement's text)
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (file_hash) DO UPDATE SET times_seen = {table}.times_seen"
                " + excluded.times_seen RETURNING file_hash, times_seen",
                [value for key in chunk for value in (key, counts[key], now)],
            )
            seen_after.update(cursor.fetchall())
    seen_so_far = {key: seen_after[key] - counts[key] for key in keys}
    before = []
    for file_hash in file_hashes:
        before.append(seen_so_far[file_hash])
        seen_so_far[file_hash] += 1
    return before


def files_match(files: Sequence[ReportedFile]) -> None:
    """Match files (of one report or many, in report order) against the known-hash list
    and count their sightings; saves each file's match and times seen before."""
    matches = exact_matches(files)
    for file in files:
        file.known_hash_id = matches.get(file.pk)
        file.match_distance = 0 if file.known_hash_id else None
        if file.known_hash_id is None and file.pdq:
            near = pdq_match(file.pdq)
            if near is not None:
                file.known_hash_id, file.match_distance = near.entry_id, near.distance
    keyed = [(file, strongest_hash(file)) for file in files]
    counted = [(file, key) for file, key in keyed if key]
    for (file, _), before in zip(
        counted, times_seen_before_each([key for _, key in counted]), strict=True
    ):
        file.times_seen_before = before
    bulk_update_rows(files, ["known_hash", "match_distance", "times_seen_before"])


def content_status(files: Sequence[ReportedFile]) -> str:
    """A matched report's content: no files, known content only, or some new."""
    if not files:
        return Report.ContentStatus.NO_FILES
    if all(file.known_hash_id for file in files):
        return Report.ContentStatus.KNOWN_ONLY
    return Report.ContentStatus.CONTAINS_NEW
