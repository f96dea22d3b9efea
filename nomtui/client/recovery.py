"""Watches back on their feet as soon as the cluster answers again.

A watch that failed several times in a row sleeps longer each time (exponential backoff,
up to half a minute), which is right while the servers are down. But when they come
back, every watch would still sleep out its delay, and a screen could show old data for
that long after the cluster is fine. So each HTTP client keeps one `Recovery`: a request
the servers answered wakes the watches sleeping in backoff, which then try again after a
short random pause (so they do not all ask at once).

Only answers of the servers count: while the cluster has no leader, the agent's own
endpoints (`/v1/agent/`, `/v1/client/`, `/v1/status/`) still answer, and must not wake
watches whose queries would fail again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]

AGENT_PATHS = ("/v1/agent/", "/v1/client/", "/v1/status/")
"""Answered by the agent itself, with or without a leader."""
WAKE_JITTER_S = 0.25
"""Woken watches spread their next query over this long."""


def answered_by_servers(path: str) -> bool:
    return not path.startswith(AGENT_PATHS)


class Recovery:
    def __init__(self, sleep: Sleep, rng: random.Random) -> None:
        self._sleep = sleep
        self._rng = rng
        self._event: asyncio.Event | None = None

    def answered(self) -> None:
        """The servers answered a request: wake whoever sleeps in backoff."""
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def pause(self, delay_s: float) -> None:
        """Sleep `delay_s`, or less: until the servers answer another request, plus a
        little jitter."""
        if self._event is None:
            self._event = asyncio.Event()
        sleeper = asyncio.ensure_future(self._sleep(delay_s))
        waker = asyncio.ensure_future(self._event.wait())
        try:
            done, _ = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            woken = sleeper not in done
        finally:
            for task in (sleeper, waker):
                task.cancel()
            for task in (sleeper, waker):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if woken:
            await self._sleep(self._rng.uniform(0, min(delay_s, WAKE_JITTER_S)))


__all__ = ["AGENT_PATHS", "WAKE_JITTER_S", "Recovery", "answered_by_servers"]
