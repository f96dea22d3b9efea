"""A short, bounded retry of reads that failed on the server's side.

A one-shot (`nomtui jobs`, `status`, ...) asks a handful of questions and exits; one 500
from a server that is electing a leader, or a proxy's 502, should not fail the command
when the same question a moment later gets an answer. So a read (GET) that failed with a
5xx (`ServerError`, which "No cluster leader" is) is asked again, a few times, with
exponential backoff and jitter, within a time budget; then the last error stands.

Not retried: writes (a POST may have been applied before the answer broke), blocking
queries (watches have their own loop, and tell the UI they are reconnecting), streams
(logs and events resume by themselves), and every other error: a 403 or a 404 will be
the same next time, and a refused connection says the cluster is down now.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from nomtui.errors import NomtuiError, ServerError

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries in all, the first included; 1 turns retrying off."""
    base_s: float = 0.25
    """Backoff before the second try; it doubles each time, with "equal jitter"."""
    cap_s: float = 2.0
    budget_s: float = 6.0
    """No retry starts later than this after the first try began: a one-shot's answer,
    or its error, comes within seconds even when every try fails."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep before try `attempt + 1` (attempt counts the failed tries, from 1)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


NO_RETRY = RetryPolicy(attempts=1)


def retryable(error: NomtuiError) -> bool:
    """Whether asking again may help: the server answered, with a 5xx."""
    return isinstance(error, ServerError)


async def retried(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep,
    rng: random.Random,
    monotonic: Callable[[], float] = time.monotonic,
) -> T:
    """`call()`, tried again under `policy` while it fails with a retryable error."""
    started = monotonic()
    attempt = 0
    while True:
        failure: NomtuiError | None = None
        try:
            return await call()
        except NomtuiError as exc:
            if not retryable(exc):
                raise
            failure = exc
        attempt += 1
        delay = policy.delay(attempt, rng)
        if attempt >= policy.attempts or monotonic() + delay - started > policy.budget_s:
            raise failure
        await sleep(delay)


__all__ = ["NO_RETRY", "RetryPolicy", "retried", "retryable"]
