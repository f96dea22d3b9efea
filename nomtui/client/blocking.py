"""Blocking-query machinery shared by every watch: index rules, backoff, rate limit.

PROTOCOLS.md §2: a query with `index=N&wait=D` returns when the data's index passes N
or after D plus up to D/16 of jitter. Nomad's docs do not say what a client should do
when the index goes backwards or is 0, so Consul's rules apply (reset to 0; never block
on 0; rate-limit the loop).

Every answer also says whether the answering server knows a leader (`QueryMeta`, from the
`X-Nomad-KnownLeader`/`X-Nomad-LastContact` headers); a watch passes it on with each
`Snapshot`, so callers learn about leader trouble without asking anyone.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from nomtui.errors import ConfigError, NomtuiError

T = TypeVar("T")

SLACK_S = 10.0
"""Network slack added on top of a blocking query's longest possible server wait."""
MAX_WAIT_S = 300.0
"""Nomad clamps `wait` to 5 minutes (PROTOCOLS.md §2.1); asking for more is pointless."""
LEADER_SILENCE_MS = 2000
"""A server that has not heard from the leader for longer than this has most likely lost
it: Raft leaders heartbeat their followers many times a second."""


@dataclass(frozen=True)
class QueryMeta:
    """What an answer's staleness headers say about the leader (PROTOCOLS.md §2)."""

    known_leader: bool = True
    last_contact_ms: int = 0
    """Milliseconds since the answering server last heard from the leader (0 on it)."""

    @property
    def leader_ok(self) -> bool:
        return self.known_leader and self.last_contact_ms <= LEADER_SILENCE_MS

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], prefix: str = "X-Nomad-") -> QueryMeta | None:
        """From case-insensitive `headers` (httpx's); None when the server sent neither."""
        known = headers.get(f"{prefix}KnownLeader")
        contact = headers.get(f"{prefix}LastContact")
        if known is None and contact is None:
            return None
        ms = int(contact) if contact is not None and contact.isdigit() else 0
        return cls(known_leader=(known or "true").lower() == "true", last_contact_ms=ms)


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """A fresh answer of a watch: the decoded value and the index it is valid at."""

    value: T
    index: int
    meta: QueryMeta | None = field(default=None, compare=False)
    """The leader headers of the answer; None where the server sends none (Consul here)."""


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


Answer: TypeAlias = tuple[T, bytes, int] | tuple[T, bytes, int, QueryMeta | None]
"""(decoded value, raw body, index), optionally with the answer's leader headers."""
Fetch = Callable[[dict[str, str], float | None], Awaitable[Answer[T]]]
"""One query of a watch: (params, read timeout) -> its `Answer`."""


async def watch_loop(
    fetch: Fetch[T],
    params: Mapping[str, str] | None,
    *,
    wait_s: float,
    min_interval_s: float,
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    backoff_sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncGenerator[Snapshot[T] | Retrying, None]:
    """Yield a `Snapshot` whenever the answer changes, a `Retrying` after each failure.

    `backoff_sleep` sleeps after a failure (default `sleep`; `nomtui.client.recovery`
    cuts it short once the cluster answers again).

    Runs until the consumer stops iterating (or cancels). A `ConfigError` is raised:
    retrying cannot fix it. Any other `NomtuiError` is yielded as `Retrying` so a UI can
    show "reconnecting"; the next answer after a failure is always yielded, even when
    unchanged, so the UI learns the link is back. An answer whose body did not change
    (the wait expired, or an unrelated write) is not yielded, unless its leader headers
    turned (`QueryMeta.leader_ok`): then the previous value comes again, the very same
    object, with the new `meta`.
    """
    wait_s = min(wait_s, MAX_WAIT_S)
    limiter = RateLimiter(min_interval_s, sleep=sleep)
    index = BlockingIndex()
    last: bytes | None = None
    shown: Snapshot[T] | None = None
    leader_ok: bool | None = None
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
            answer = await fetch(query, blocking_timeout(wait_s) if blocking else None)
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
            await (backoff_sleep or sleep)(delay)
            continue
        attempt = 0
        value, raw, returned = answer[0], answer[1], answer[2]
        meta = answer[3] if len(answer) == 4 else None
        index.observe(returned)
        was_ok, leader_ok = leader_ok, meta.leader_ok if meta is not None else None
        if raw != last or shown is None:
            last = raw
            shown = Snapshot(value, returned, meta)
            yield shown
        elif was_ok is not None and leader_ok is not None and leader_ok != was_ok:
            shown = Snapshot(shown.value, returned, meta)
            yield shown


__all__ = [
    "LEADER_SILENCE_MS",
    "MAX_WAIT_S",
    "SLACK_S",
    "Answer",
    "Backoff",
    "BlockingIndex",
    "Fetch",
    "QueryMeta",
    "RateLimiter",
    "Retrying",
    "Snapshot",
    "blocking_timeout",
    "go_duration",
    "watch_loop",
]
