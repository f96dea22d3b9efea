"""Injectable clocks: the sim never reads wall time directly, so snapshots stay stable."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Unix time in nanoseconds."""
        ...


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()


class FixedClock:
    """A clock that only moves when told to; for snapshots and deterministic tests."""

    def __init__(self, start_ns: int = 1_764_000_000_000_000_000) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1e9)


def rfc3339(ns: int) -> str:
    """Nomad's RFC 3339 form with nanosecond precision, always UTC."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    return f"{base}.{frac:09d}Z" if frac else f"{base}Z"
