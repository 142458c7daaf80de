"""Lists each process keeps in memory (config/reloading.py): reloaded after their lifetime,
and soon after a change another process announces, with the shared cache down or not."""

import threading
from typing import Any

import pytest

from config import reloading
from config.reloading import Reloading, announce_change

KEY = "test-list:version"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Clock:
    settings.LIST_VERSION_CHECK_SECONDS = 5
    settings.LIST_RELOAD_MIN_SECONDS = 0
    clock = Clock()
    monkeypatch.setattr(reloading.time, "monotonic", clock)
    return clock


def counting_list() -> tuple[Reloading[int], list[int]]:
    loads: list[int] = []

    def load() -> int:
        loads.append(len(loads) + 1)
        return len(loads)

    return Reloading(load, seconds=300, version_key=KEY), loads


def test_a_change_announced_elsewhere_is_loaded_at_the_first_check_after_it(clock: Clock) -> None:
    listing, loads = counting_list()

    assert listing.get() == 1
    announce_change(KEY)  # another process changed the list
    clock.now += 4
    before_the_check = listing.get()
    clock.now += 1
    after_the_check = listing.get()
    clock.now += 60
    unchanged_since = listing.get()

    assert (before_the_check, after_the_check, unchanged_since) == (1, 2, 2)
    assert len(loads) == 2


def test_a_burst_of_changes_reloads_the_list_at_most_once_in_the_minimum_interval(
    clock: Clock, settings: Any
) -> None:
    settings.LIST_RELOAD_MIN_SECONDS = 30
    listing, loads = counting_list()
    listing.get()

    for _ in range(12):  # a change every 5 s for a minute
        announce_change(KEY)
        clock.now += 5
        listing.get()

    assert len(loads) == 3  # at the start, after 30 s and after 60 s


def test_threads_go_on_with_the_list_they_had_while_one_loads_it_again(clock: Clock) -> None:
    started, finish = threading.Event(), threading.Event()
    loads: list[str] = []

    def slow_load() -> str:
        loads.append("load")
        if len(loads) == 2:  # the reload
            started.set()
            assert finish.wait(timeout=30)
        return f"list {len(loads)}"

    listing = Reloading(slow_load, seconds=300)
    assert listing.get() == "list 1"
    listing.forget()
    reloading_thread = threading.Thread(target=listing.get)
    reloading_thread.start()
    assert started.wait(timeout=30)

    meanwhile = listing.get()  # a reader while the reload runs: not held up
    finish.set()
    reloading_thread.join(timeout=30)

    assert meanwhile == "list 1"
    assert listing.get() == "list 2"
    assert loads == ["load", "load"]


def test_without_news_the_list_is_kept_for_its_lifetime(clock: Clock) -> None:
    listing, loads = counting_list()
    announce_change(KEY)

    listing.get()
    for _ in range(59):
        clock.now += 5
        listing.get()
    assert len(loads) == 1
    clock.now += 5  # 300 s
    listing.get()

    assert len(loads) == 2


def test_with_the_shared_cache_out_of_reach_the_lifetime_still_holds(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing, loads = counting_list()
    listing.get()
    monkeypatch.setattr(reloading.cache, "get", lambda *args, **kwargs: None)  # fails open

    clock.now += 10
    listing.get()
    clock.now += 300
    listing.get()

    assert len(loads) == 2


def test_a_list_without_a_version_key_never_asks_the_cache(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(reloading.cache, "get", lambda *args, **kwargs: asked.append(args))
    listing = Reloading(lambda: 1, seconds=300)

    listing.get()
    clock.now += 10
    listing.get()

    assert asked == []
