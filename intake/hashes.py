"""The known-hash list: importing it, and matching reported files against it.

A file is `known` when one of its MD5, SHA-1 or SHA-256 hashes is on the list exactly (or
its PDQ hash is within the PDQ threshold, see intake/pdq.py); otherwise it is `new`. Each
file's strongest hash is also counted, so that the figures can say how many files were
reported before and how many were unique."""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from intake.models import HashSighting, KnownHash, Report, ReportedFile
from intake.pdq import pdq_match

HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
EXACT_TYPES = ("sha256", "sha1", "md5")  # strongest first
IMPORT_BATCH = 5_000
HEX = re.compile(r"[0-9a-f]+")


@dataclass
class HashImport:
    imported: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def parse_hash_row(row: Sequence[str]) -> KnownHash:
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
    return KnownHash(hash_type=hash_type, value=value, label=label, source=source)


def known_hashes_import(
    *, rows: Iterable[Sequence[str]], progress: Callable[[int], None] | None = None
) -> HashImport:
    """Add or refresh entries from CSV rows, in batches, with constant memory. A header row
    is skipped; bad rows are reported by line number and the good ones imported. Safe to
    run again: an entry that exists keeps its id and gets the row's label and source."""
    result = HashImport()
    batch: list[KnownHash] = []

    def flush() -> None:
        # Within a batch the last row for a hash wins, as it would row by row.
        unique = {(entry.hash_type, entry.value): entry for entry in batch}
        KnownHash.objects.bulk_create(
            unique.values(),
            update_conflicts=True,
            unique_fields=["hash_type", "value"],
            update_fields=["label", "source"],
        )
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
    return result


def exact_matches(files: Sequence[ReportedFile]) -> dict[int, KnownHash]:
    """Each file's active known-hash entry matching one of its exact hashes (strongest
    hash first), by file id; one indexed query per hash type for all the files."""
    entries: dict[tuple[str, str], KnownHash] = {}
    for hash_type in EXACT_TYPES:
        values = {getattr(file, hash_type) for file in files} - {""}
        if values:
            found = KnownHash.objects.filter(hash_type=hash_type, value__in=values, is_active=True)
            entries.update(((entry.hash_type, entry.value), entry) for entry in found)
    matches = {}
    for file in files:
        for hash_type in EXACT_TYPES:
            entry = entries.get((hash_type, getattr(file, hash_type)))
            if entry is not None:
                matches[file.pk] = entry
                break
    return matches


def strongest_hash(file: ReportedFile) -> str:
    for hash_type in (*EXACT_TYPES, "pdq"):
        value = getattr(file, hash_type)
        if value:
            return f"{hash_type}:{value}"
    return ""


def times_seen_before(file_hash: str) -> int:
    """Count one more report of ``file_hash`` and return how often it was seen before.
    Runs inside the caller's transaction; the row lock keeps concurrent counts exact."""
    sighting = HashSighting.objects.select_for_update().filter(file_hash=file_hash).first()
    if sighting is None:
        try:
            with transaction.atomic():
                HashSighting.objects.create(file_hash=file_hash, times_seen=1)
            return 0
        except IntegrityError:  # another worker counted it first
            sighting = HashSighting.objects.select_for_update().get(file_hash=file_hash)
    before = sighting.times_seen
    sighting.times_seen = before + 1
    sighting.save(update_fields=["times_seen"])
    return before


def report_files_match(report: Report) -> str:
    """Match the report's files against the known-hash list, count their sightings, and
    return the report's content status."""
    files = list(report.files.order_by("pk"))
    if not files:
        return Report.ContentStatus.NO_FILES
    matches = exact_matches(files)
    for file in files:
        file.known_hash = matches.get(file.pk)
        file.match_distance = 0 if file.known_hash else None
        if file.known_hash is None and file.pdq:
            near = pdq_match(file.pdq)
            if near is not None:
                file.known_hash = KnownHash.objects.filter(pk=near.entry_id).first()
                file.match_distance = near.distance if file.known_hash else None
        key = strongest_hash(file)
        file.times_seen_before = times_seen_before(key) if key else None
    ReportedFile.objects.bulk_update(files, ["known_hash", "match_distance", "times_seen_before"])
    if all(file.known_hash for file in files):
        return Report.ContentStatus.KNOWN_ONLY
    return Report.ContentStatus.CONTAINS_NEW
