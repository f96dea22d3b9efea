"""`CollectorTuning`: freezes the survivors on every tick, collects them when due."""

from __future__ import annotations

import gc

from nomtui.tui.collector import CollectorTuning


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_tick_freezes_and_collects_every_interval() -> None:
    clock = Clock()
    tuning = CollectorTuning(collect_every_s=60, clock=clock)
    try:
        survivor = [[] for _ in range(100)]
        tuning.tick()
        assert gc.get_freeze_count() >= len(survivor)
        assert tuning.collections == 0
        clock.now = 59
        tuning.tick()
        assert tuning.collections == 0
        # a cycle frozen with the rest is reclaimed by the next due collection
        cycle: list[object] = []
        cycle.append(cycle)
        tuning.tick()
        del cycle
        clock.now = 61
        tuning.tick()
        assert tuning.collections == 1
        assert gc.get_freeze_count() > 0  # frozen again after collecting
    finally:
        tuning.close()
    assert gc.get_freeze_count() == 0
