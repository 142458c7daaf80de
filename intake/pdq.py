"""PDQ matching: a reported file's PDQ hash (256 bits) is known when an active entry of the
known-hash list is within PDQ_MATCH_THRESHOLD bits of it (Hamming distance).

Searching millions of entries one by one is too slow, so the index is a multi-index hash:
the 256 bits are cut into 16 chunks of 16 bits. Two hashes within 31 bits of each other
differ by at most 1 bit in at least one chunk (pigeonhole: 16 chunks x 2 bits > 31), so
looking up each chunk's value and its 16 one-bit neighbours finds every candidate; the
candidates' full distances are then checked exactly. Thresholds of 32 to 47 look up
two-bit neighbours too (more work, the same complete recall); the settings refuse more.
The answer is the nearest entry, the lowest id on a tie: every worker that loads
the same list answers the same."""

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from config.reloading import Reloading
from intake.models import KnownHash

CHUNKS = 16
CHUNK_BITS = 16


@dataclass(frozen=True)
class PdqMatch:
    entry_id: int
    distance: int


def hex_to_words(values: list[str]) -> np.ndarray:
    """(n, 4) uint64 from 64-hex-character PDQ hashes."""
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8").reshape(-1, 4)
    return raw.astype(np.uint64)


class PdqIndex:
    def __init__(self, entry_ids: np.ndarray, words: np.ndarray) -> None:
        order = np.argsort(entry_ids, kind="stable")
        self.entry_ids = entry_ids[order]
        self.words = np.ascontiguousarray(words[order])
        chunks = self.chunk_values(self.words)  # (n, 16) uint16
        # For each chunk: row numbers ordered by the chunk's value, and those values; both
        # flattened chunk after chunk, so one gather serves every chunk.
        self.positions = np.empty(CHUNKS * len(self.words), dtype=np.int32)
        self.sorted_chunks = np.empty((CHUNKS, len(self.words)), dtype=np.uint16)
        for chunk in range(CHUNKS):
            column = chunks[:, chunk]
            by_value = np.argsort(column, kind="stable").astype(np.int32)
            self.positions[chunk * len(self.words) : (chunk + 1) * len(self.words)] = by_value
            self.sorted_chunks[chunk] = column[by_value]

    @staticmethod
    def chunk_values(words: np.ndarray) -> np.ndarray:
        if not len(words):
            return np.zeros((0, CHUNKS), np.uint16)
        return words.view(np.uint16).reshape(len(words), CHUNKS)

    def __len__(self) -> int:
        return len(self.entry_ids)

    @staticmethod
    def flips(threshold: int) -> np.ndarray:
        """The chunk values to try around each chunk: itself, and its neighbours within
        threshold // 16 bits."""
        radius = threshold // CHUNKS
        flips = [0]
        if radius >= 1:
            flips += [1 << bit for bit in range(CHUNK_BITS)]
        if radius >= 2:
            flips += [
                (1 << a) | (1 << b) for a in range(CHUNK_BITS) for b in range(a + 1, CHUNK_BITS)
            ]
        return np.array(flips, dtype=np.uint16)

    def candidates(self, query: np.ndarray, threshold: int) -> np.ndarray:
        """Rows sharing a chunk with the query, within the chunk radius (with repeats)."""
        chunks = self.chunk_values(query.reshape(1, 4))[0]
        probes = np.bitwise_xor(self.flips(threshold)[None, :], chunks[:, None])  # (16, k)
        starts = np.empty(probes.shape, dtype=np.int64)
        ends = np.empty(probes.shape, dtype=np.int64)
        for chunk in range(CHUNKS):
            starts[chunk] = np.searchsorted(self.sorted_chunks[chunk], probes[chunk], side="left")
            ends[chunk] = np.searchsorted(self.sorted_chunks[chunk], probes[chunk], side="right")
        offsets = (np.arange(CHUNKS, dtype=np.int64) * len(self.words))[:, None]
        starts, lengths = (starts + offsets).ravel(), (ends - starts).ravel()
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, dtype=np.int32)
        # Every index of every [start, start + length) range, without a Python loop.
        shifts = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        return self.positions[shifts + np.arange(total)]

    def match(self, pdq_hex: str, threshold: int) -> PdqMatch | None:
        if not len(self):
            return None
        query = hex_to_words([pdq_hex])[0]
        rows = self.candidates(query, threshold)
        if not len(rows):
            return None
        distances = np.bitwise_count(np.bitwise_xor(self.words[rows], query)).sum(axis=1)
        nearest = int(distances.min())
        if nearest > threshold:
            return None
        row = int(rows[distances == nearest].min())  # rows are in id order: lowest id wins
        return PdqMatch(int(self.entry_ids[row]), nearest)


def index_from_database() -> PdqIndex:
    ids: list[int] = []
    values: list[str] = []
    rows = (
        KnownHash.objects.filter(hash_type=KnownHash.HashType.PDQ, is_active=True)
        .order_by("pk")
        .values_list("pk", "value")
    )
    for entry_id, value in rows.iterator(chunk_size=50_000):
        ids.append(entry_id)
        values.append(value)
    words = hex_to_words(values) if values else np.zeros((0, 4), dtype=np.uint64)
    return PdqIndex(np.array(ids, dtype=np.int64), words)


# The known-hash list's version in the shared cache: both of its indexes (this one and
# intake/hashes.py's exact one) reload soon after it changes.
KNOWN_HASH_LIST_VERSION = "known-hash-list:version"
loaded_pdq_index = Reloading(index_from_database, version_key=KNOWN_HASH_LIST_VERSION)


def pdq_match(pdq_hex: str) -> PdqMatch | None:
    """The nearest active PDQ entry within the threshold (the list is reloaded a few
    seconds after it changes, every five minutes at the latest)."""
    index = loaded_pdq_index.get()
    return index.match(pdq_hex.lower(), settings.PDQ_MATCH_THRESHOLD)
