"""Keeping Python's cyclic garbage collector off the latency path.

On a big cluster the app holds hundreds of thousands of long-lived tracked objects (row
cells, their spans, the tables' per-row dicts). A full collection walks all of them:
200-640 ms measured with 10,000 allocations loaded, and Python starts one whenever
enough new objects pile up, in the middle of whatever the app is doing. So every few
seconds what has survived so far is moved out of the collector's sight (`gc.freeze`,
which costs nothing); now and then the frozen set is collected once, to reclaim
reference cycles that died meanwhile (a closed screen's widgets), and frozen again.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FREEZE_EVERY_S = 5.0
COLLECT_EVERY_S = 600.0


class CollectorTuning:
    """Call `tick()` every `FREEZE_EVERY_S`; it freezes, and collects when due."""

    def __init__(
        self,
        collect_every_s: float = COLLECT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.collect_every_s = collect_every_s
        self._clock = clock
        self._collected_at = clock()
        self.collections = 0

    def tick(self) -> None:
        now = self._clock()
        if now - self._collected_at >= self.collect_every_s:
            gc.unfreeze()
            gc.collect()
            self._collected_at = now
            self.collections += 1
        gc.freeze()

    def close(self) -> None:
        """Back to normal collection (the app is leaving; a test process goes on)."""
        gc.unfreeze()


__all__ = ["COLLECT_EVERY_S", "FREEZE_EVERY_S", "CollectorTuning"]
