"""The exact-hash index loaded from the database finds exactly the active entries of each
type, however many chunks the load reads them in."""

import random

import pytest

from intake import hashes
from intake.hashes import EXACT_TYPES, HASH_LENGTHS, exact_index_from_database
from intake.models import KnownHash

CHUNK = 7


def random_hex(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def known_list(rng: random.Random) -> dict[str, tuple[dict[str, int], list[str]]]:
    """For each exact type, more entries than several chunks: the active ones (value to
    id) and the disabled values. Some entries share the first 64 bits of their hash, and
    one type has only disabled entries."""
    counts = {"md5": 3 * CHUNK + 2, "sha1": 2 * CHUNK, "sha256": 0}
    entries: list[KnownHash] = []
    for hash_type in EXACT_TYPES:
        length = HASH_LENGTHS[hash_type]
        values = [random_hex(rng, length) for _ in range(counts[hash_type])]
        shared = random_hex(rng, 16)
        values += [shared + random_hex(rng, length - 16) for _ in range(3)]
        entries += [
            KnownHash(hash_type=hash_type, value=value, is_active=number % 4 != 1)
            for number, value in enumerate(values)
        ]
    # sha256: every entry disabled
    for entry in entries:
        if entry.hash_type == "sha256":
            entry.is_active = False
    KnownHash.objects.bulk_create(entries)
    listing: dict[str, tuple[dict[str, int], list[str]]] = {}
    for hash_type in EXACT_TYPES:
        rows = KnownHash.objects.filter(hash_type=hash_type)
        listing[hash_type] = (
            {entry.value: entry.pk for entry in rows if entry.is_active},
            [entry.value for entry in rows if not entry.is_active],
        )
    return listing


def misses(rng: random.Random, hash_type: str, active: dict[str, int]) -> list[str]:
    """Values not on the list: random ones, and near copies of entries that differ only
    in the second 64 bits or only after the first 128."""
    length = HASH_LENGTHS[hash_type]
    near = []
    for value in list(active)[:3]:
        flipped = f"{int(value[16:32], 16) ^ 1:016x}"
        near.append(value[:16] + flipped + value[32:])
    return [random_hex(rng, length) for _ in range(10)] + near


def check_index(seed: int) -> None:
    rng = random.Random(seed)
    listing = known_list(rng)
    index = exact_index_from_database()
    for hash_type, (active, disabled) in listing.items():
        assert len(index.columns[hash_type][0]) == len(active)
        values = list(active)
        rng.shuffle(values)
        assert index.lookup(hash_type, values) == [active[value] for value in values]
        assert index.lookup(hash_type, disabled) == [None] * len(disabled)
        absent = misses(rng, hash_type, active)
        assert index.lookup(hash_type, absent) == [None] * len(absent)
        mixed = [*values[:2], *absent[:2], *disabled[:2]]
        assert index.lookup(hash_type, mixed) == [active.get(value) for value in mixed]
    assert listing["sha256"][0] == {}
    assert index.lookup("sha256", listing["sha256"][1]) == [None] * 3
    assert index.lookup("pdq", ["a" * 64]) == [None]
    assert index.lookup("md5", []) == []


@pytest.mark.django_db
def test_the_index_finds_exactly_the_active_entries_of_each_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hashes, "LOAD_CHUNK", CHUNK)
    check_index(seed=1)


@pytest.mark.django_db(transaction=True)
def test_the_index_loads_outside_a_transaction_as_a_worker_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hashes, "LOAD_CHUNK", CHUNK)
    check_index(seed=2)


@pytest.mark.django_db
def test_an_empty_list_matches_nothing() -> None:
    index = exact_index_from_database()
    for hash_type in EXACT_TYPES:
        assert index.lookup(hash_type, ["0" * HASH_LENGTHS[hash_type]]) == [None]
