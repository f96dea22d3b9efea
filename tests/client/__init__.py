"""`NomadClient` against the simulated cluster over loopback: no HTTP is mocked here.

Shared helpers for the modules of this directory (fixtures stay in each module).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Generic, TypeVar

import httpx

from nomtui.client.base import Watch
from nomtui.client.blocking import Retrying, Snapshot
from nomtui.client.nomad import NomadClient
from nomtui.sim.clock import FixedClock
from nomtui.sim.server import Sim, SimConfig

T = TypeVar("T")

FAST_WAIT_S = 0.25
"""Blocking `wait` of watches under test: short, so an idle watch comes back quickly."""


def still(config: SimConfig) -> SimConfig:
    """`config` for a cluster that only moves when a test writes to it."""
    config.clock = FixedClock()
    config.lifecycle = False
    return config


def nomad(sim: Sim, token: str | None = None, **kw: Any) -> NomadClient:
    """A client for `sim` with its management token (or `token`)."""
    return NomadClient(sim.nomad_addr, token or sim.management_token, **kw)


class RequestLog:
    """An httpx event hook that records every request a client sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self]}


async def set_faults(sim: Sim, **faults: Any) -> None:
    """Change faults through the sim's control endpoint, as an outside tool would."""
    headers = {"X-Nomad-Token": sim.management_token}
    async with httpx.AsyncClient(base_url=sim.nomad_addr, headers=headers) as http:
        resp = await http.put("/v1/sim/faults", json=faults)
        resp.raise_for_status()


class Collector(Generic[T]):
    """Runs a watch in its own task and queues what it yields.

    Waiting for "the next update" with a timeout directly on the iterator would cancel
    `__anext__`, which ends an async generator; a queue can be waited on safely.
    """

    def __init__(self, watch: Watch[T]) -> None:
        self._watch = watch
        self._queue: asyncio.Queue[Snapshot[T] | Retrying] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for update in self._watch:
            await self._queue.put(update)

    async def next(self, timeout_s: float = 5.0) -> Snapshot[T] | Retrying:
        return await asyncio.wait_for(self._queue.get(), timeout_s)

    async def snapshot(self, timeout_s: float = 5.0) -> Snapshot[T]:
        update = await self.next(timeout_s)
        assert isinstance(update, Snapshot), f"expected a snapshot, got {update!r}"
        return update

    async def quiet(self, for_s: float) -> None:
        """Nothing arrives for `for_s` seconds."""
        await asyncio.sleep(for_s)
        assert self._queue.empty(), f"unexpected update: {self._queue.get_nowait()!r}"

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._watch.aclose()

    async def __aenter__(self) -> Collector[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
