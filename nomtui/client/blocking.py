"""Blocking-query machinery shared by every watch: index rules, backoff, rate limit.

PROTOCOLS.md §2: a query with `index=N&wait=D` returns when the data's index passes N
or after D plus up to D/16 of jitter. Nomad's docs do not say what a client should do
when the index goes backwards or is 0, so Consul's rules apply (reset to 0; never block
on 0; rate-limit the loop).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from nomtui.errors import ConfigError, NomtuiError

T = TypeVar("T")

SLACK_S = 10.0
"""Network slack added on top of a blocking query's longest possible server wait."""
MAX_WAIT_S = 300.0
"""Nomad clamps `wait` to 5 minutes (PROTOCOLS.md §2.1); asking for more is pointless."""


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """A fresh answer of a watch: the decoded value and the index it is valid at."""

    value: T
    index: int


@dataclass(frozen=True)
class Retrying:
    """A watch request failed; the watch sleeps `delay_s` and then tries again."""

    error: NomtuiError
    delay_s: float
    attempt: int


def blocking_timeout(wait_s: float, slack_s: float = SLACK_S) -> float:
    """Read timeout for a blocking query: the server may add up to wait/16 of jitter."""
    return wait_s * 17 / 16 + slack_s


def go_duration(seconds: float) -> str:
    """`wait=` in Go duration syntax, as the Go client sends it (`<n>ms`)."""
    return f"{max(1, round(seconds * 1000))}ms"


class BlockingIndex:
    """The `index=` to send next, following Consul's rules, which Nomad's docs lack.

    - the index went backwards (snapshot restore, another cluster) → start over at 0;
    - never block on 0: after an answer the index is at least 1, so the next call blocks.
    """

    def __init__(self) -> None:
        self.value = 0

    def observe(self, returned: int) -> None:
        if returned < self.value:
            self.value = 0
        else:
            self.value = max(returned, 1)

    def reset(self) -> None:
        self.value = 0


class Backoff:
    """Exponential backoff with "equal jitter": never zero, never in lock-step."""

    def __init__(
        self, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        return float(ceiling / 2 + self._rng.uniform(0, ceiling / 2))


class RateLimiter:
    """Token bucket: bursts of `burst`, then one request per `interval_s`.

    A watch whose data changes constantly would otherwise re-query and re-decode in a
    tight loop; this bounds it, as Consul's blocking-query guide asks.
    """

    def __init__(
        self,
        interval_s: float,
        burst: int = 2,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval_s = interval_s
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = monotonic()

    async def acquire(self) -> None:
        if self.interval_s <= 0:
            return
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) / self.interval_s)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return
        wait = (1 - self._tokens) * self.interval_s
        await self._sleep(wait)
        self._tokens = 0.0
        self._last = now + wait


Fetch = Callable[[dict[str, str], float | None], Awaitable[tuple[T, bytes, int]]]
"""One query of a watch: (params, read timeout) -> (decoded value, raw body, index)."""


async def watch_loop(
    fetch: Fetch[T],
    params: Mapping[str, str] | None,
    *,
    wait_s: float,
    min_interval_s: float,
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[Snapshot[T] | Retrying, None]:
    """Yield a `Snapshot` whenever the answer changes, a `Retrying` after each failure.

    Runs until the consumer stops iterating (or cancels). A `ConfigError` is raised:
    retrying cannot fix it. Any other `NomtuiError` is yielded as `Retrying` so a UI can
    show "reconnecting"; the next answer after a failure is always yielded, even when
    unchanged, so the UI learns the link is back. An answer whose body did not change
    (the wait expired, or an unrelated write) is not yielded.
    """
    wait_s = min(wait_s, MAX_WAIT_S)
    limiter = RateLimiter(min_interval_s, sleep=sleep)
    index = BlockingIndex()
    last: bytes | None = None
    attempt = 0
    while True:
        await limiter.acquire()
        query = dict(params or {})
        blocking = index.value > 0
        if blocking:
            query["index"] = str(index.value)
            query["wait"] = go_duration(wait_s)
        failure: NomtuiError | None = None
        try:
            value, raw, returned = await fetch(
                query, blocking_timeout(wait_s) if blocking else None
            )
        except ConfigError:
            raise
        except NomtuiError as exc:
            failure = exc
        if failure is not None:
            attempt += 1
            delay = backoff.delay(attempt)
            # The cluster may have restarted with lower indexes; blocking on the old one
            # would hang for the whole wait, so ask afresh once it answers.
            index.reset()
            last = None
            yield Retrying(failure, delay, attempt)
            await sleep(delay)
            continue
        attempt = 0
        index.observe(returned)
        if raw != last:
            last = raw
            yield Snapshot(value, returned)


__all__ = [
    "MAX_WAIT_S",
    "SLACK_S",
    "Backoff",
    "BlockingIndex",
    "Fetch",
    "RateLimiter",
    "Retrying",
    "Snapshot",
    "blocking_timeout",
    "go_duration",
    "watch_loop",
]
