"""Blocking-query watches: index rules, timeouts, backoff, reconnect reporting."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from nomtui.client.blocking import (
    Backoff,
    BlockingIndex,
    RateLimiter,
    Retrying,
    Snapshot,
    blocking_timeout,
    go_duration,
)
from nomtui.client.http import HttpClient
from nomtui.client.nomad import NomadClient
from nomtui.errors import ConfigError, ServerError, Unauthorized
from nomtui.models.jobs import JobStub

ADDR = "http://127.0.0.1:4646"


def test_blocking_index_rules() -> None:
    idx = BlockingIndex()
    assert idx.value == 0
    idx.observe(0)
    assert idx.value == 1  # never block on 0
    idx.observe(10)
    assert idx.value == 10
    idx.observe(10)
    assert idx.value == 10
    idx.observe(3)
    assert idx.value == 0  # went backwards: start over
    idx.observe(3)
    assert idx.value == 3


def test_timeout_covers_server_jitter() -> None:
    assert blocking_timeout(300) >= 300 * 17 / 16 + 1
    assert go_duration(60) == "60000ms"
    assert go_duration(0.0001) == "1ms"


def test_backoff_grows_is_capped_and_never_zero() -> None:
    backoff = Backoff(base_s=0.5, cap_s=8, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(1, 12)]
    assert all(0.25 <= d <= 8 for d in delays)
    assert delays[0] <= 0.5 and delays[-1] >= 4


async def test_rate_limiter_allows_a_burst_then_spaces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(0.5, burst=2, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(4):
        await limiter.acquire()
    assert slept == [pytest.approx(0.5), pytest.approx(0.5)]


def _job(job_id: str) -> dict[str, object]:
    return {"ID": job_id, "Name": job_id, "Namespace": "default", "Type": "service"}


Step = Callable[[httpx.Request], httpx.Response]


def _ok(index: int, *ids: str) -> Step:
    return lambda r: httpx.Response(
        200, json=[_job(i) for i in ids], headers={"X-Nomad-Index": str(index)}
    )


def _status(code: int) -> Step:
    return lambda r: httpx.Response(code, text="No cluster leader")


class Script:
    """A MockTransport answering from a list of steps, recording each request."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.steps.pop(0)(request)

    def sent(self, name: str) -> list[str | None]:
        return [r.url.params.get(name) for r in self.requests]


def _nomad(script: Script, slept: list[float]) -> NomadClient:
    async def sleep(s: float) -> None:
        slept.append(s)

    http = HttpClient(
        ADDR, "t", transport=httpx.MockTransport(script), sleep=sleep, rng=random.Random(0)
    )
    return NomadClient(http=http)


async def _take(client: NomadClient, n: int) -> list[Snapshot[list[JobStub]] | Retrying]:
    out: list[Snapshot[list[JobStub]] | Retrying] = []
    async for update in client.watch_jobs(wait_s=30, min_interval_s=0):
        out.append(update)
        if len(out) == n:
            break
    return out


async def test_watch_follows_the_index_and_skips_unchanged_answers() -> None:
    script = Script(
        _ok(5, "b", "a"),
        _ok(5, "b", "a"),  # wait expired, nothing changed: not yielded
        _ok(7, "a"),
        _ok(2, "a", "c"),  # index went backwards
        _ok(3, "a", "c"),
        _ok(0, "z"),
    )
    slept: list[float] = []
    async with _nomad(script, slept) as client:
        updates = await _take(client, 4)
    assert [type(u) for u in updates] == [Snapshot] * 4
    snaps = [u for u in updates if isinstance(u, Snapshot)]
    assert [[j.ID for j in s.value] for s in snaps] == [["a", "b"], ["a"], ["a", "c"], ["z"]]
    assert script.sent("index") == [None, "5", "5", "7", None, "3"]
    assert script.sent("wait") == [None, "30000ms", "30000ms", "30000ms", None, "30000ms"]
    assert all(p == "*" for p in script.sent("namespace"))


async def test_watch_reports_failures_backs_off_and_recovers() -> None:
    script = Script(
        _ok(9, "a"),
        _status(500),
        _status(500),
        _ok(9, "a"),  # same data as before the outage: still yielded, the link is back
        _status(403),
    )
    slept: list[float] = []
    async with _nomad(script, slept) as client:
        updates = await _take(client, 5)
    kinds = [type(u).__name__ for u in updates]
    assert kinds == ["Snapshot", "Retrying", "Retrying", "Snapshot", "Retrying"]
    first, second = updates[1], updates[2]
    assert isinstance(first, Retrying) and isinstance(second, Retrying)
    assert isinstance(first.error, ServerError) and (first.attempt, second.attempt) == (1, 2)
    assert slept[:2] == [first.delay_s, second.delay_s]
    last = updates[4]
    assert isinstance(last, Retrying) and isinstance(last.error, Unauthorized)
    assert last.attempt == 1  # the success in between reset the count
    # After a failure the next request does not block on the old index.
    assert script.sent("index") == [None, "9", None, None, "9"]


async def test_watch_raises_config_errors() -> None:
    def bad(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("nope", request=request)

    async with NomadClient(http=HttpClient(ADDR, transport=httpx.MockTransport(bad))) as client:
        with pytest.raises(ConfigError):
            await _take(client, 1)


async def test_closing_a_watch_stops_its_requests() -> None:
    script = Script(_ok(5, "a"), _ok(6, "b"), _ok(7, "c"))
    slept: list[float] = []
    async with _nomad(script, slept) as client:
        watch = client.watch_jobs(wait_s=30, min_interval_s=0)
        first = await anext(watch)
        await watch.aclose()
        with pytest.raises(StopAsyncIteration):
            await anext(watch)
    assert isinstance(first, Snapshot) and len(script.requests) == 1
