"""PDQ matching finds exactly what an exhaustive search finds."""

import random
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.models import KnownHash, Report, ReportedFile
from intake.pdq import PdqIndex, hex_to_words
from intake.services import ProviderCredentials
from tests.intake.test_categorization import categorized, document


def flip(value: str, bits: list[int]) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:064x}"


def exhaustive(values: list[str], query: str, threshold: int) -> tuple[int, int] | None:
    """The nearest entry (lowest index on a tie) within the threshold, the slow way."""
    best = None
    for index, value in enumerate(values):
        distance = bin(int(value, 16) ^ int(query, 16)).count("1")
        if distance <= threshold and (best is None or distance < best[1]):
            best = (index, distance)
    return best


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    distance=st.integers(0, 47),
    threshold=st.sampled_from([0, 10, 31, 40, 47]),
)
def test_the_index_finds_what_exhaustive_search_finds(
    seed: int, distance: int, threshold: int
) -> None:
    rng = random.Random(seed)
    values = [f"{rng.getrandbits(256):064x}" for _ in range(300)]
    target = rng.randrange(len(values))
    query = flip(values[target], rng.sample(range(256), distance))
    values.append(flip(query, rng.sample(range(256), min(distance + 1, 255))))  # a near miss
    index = PdqIndex(np.arange(len(values), dtype=np.int64), hex_to_words(values))

    found = index.match(query, threshold)
    expected = exhaustive(values, query, threshold)

    assert (None if found is None else (found.entry_id, found.distance)) == expected


def test_a_file_within_the_threshold_of_a_known_pdq_is_known(provider: ProviderCredentials) -> None:
    known = f"{random.Random(7).getrandbits(256):064x}"
    entry = KnownHash.objects.create(hash_type="pdq", value=known, label="series-p")

    def pdq_file(value: str) -> dict[str, Any]:
        return {
            "fileName": "f.jpg",
            "originalFileHash": [
                {"value": "4" * 32, "hashType": "MD5"},
                {"value": value, "hashType": "PDQ"},
            ],
        }

    near = categorized(provider, document(), pdq_file(flip(known, list(range(31)))))
    far = categorized(provider, document(), pdq_file(flip(known, list(range(32)))))

    near_file = ReportedFile.objects.get(report=near)
    assert (near_file.known_hash_id, near_file.match_distance) == (entry.pk, 31)
    assert near.content_status == Report.ContentStatus.KNOWN_ONLY
    assert ReportedFile.objects.get(report=far).known_hash is None
    assert far.content_status == Report.ContentStatus.CONTAINS_NEW
