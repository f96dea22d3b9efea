"""A `Store` over real clients talking to the sim, with a count of their requests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.sim.server import Sim, SimConfig
from nomtui.store import Store, ViewState

T = TypeVar("T")

WAIT_S = 0.5
"""Small blocking waits keep the tests fast (and shutdown quicker still)."""


@dataclass
class Requests:
    """Nomad requests seen, by (method, path, blocking?)."""

    seen: Counter[tuple[str, str, bool]] = field(default_factory=Counter)

    async def hook(self, request: httpx.Request) -> None:
        blocking = "index" in request.url.params
        self.seen[(request.method, request.url.path, blocking)] += 1

    def count(self, path: str, method: str = "GET", blocking: bool | None = None) -> int:
        return sum(
            n
            for (m, p, b), n in self.seen.items()
            if m == method and p == path and (blocking is None or b == blocking)
        )

    def writes(self) -> int:
        return sum(n for (m, _, _), n in self.seen.items() if m != "GET")

    def plain(self) -> Counter[str]:
        """Requests that were not blocking queries, by path."""
        found: Counter[str] = Counter()
        for (_, path, blocking), n in self.seen.items():
            if not blocking:
                found[path] += n
        return found


class CountingConsul(ConsulClient):
    """A real Consul client that counts its calls by path (py-consul has no hooks; every
    call goes through `_run`)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.calls: Counter[str] = Counter()

    async def _run(self, path: str, call: Callable[[Any], T], **kw: Any) -> T:
        self.calls[path] += 1
        return await super()._run(path, call, **kw)


@dataclass
class Rig:
    sim: Sim
    nomad: NomadClient
    consul: CountingConsul
    requests: Requests

    def store(self, *, read_only: bool = False, consul: bool = True, **kw: object) -> Store:
        kw.setdefault("wait_s", WAIT_S)
        return Store(
            self.nomad,
            self.consul if consul else None,
            read_only=read_only,
            **kw,  # type: ignore[arg-type]
        )


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    # A frozen cluster: only the tests' own writes change it, so every expectation is
    # exact (the demo's crashing app stays critical, no allocation moves on its own).
    sim_config.lifecycle = False
    return sim_config


@pytest.fixture
async def rig(sim: Sim) -> AsyncIterator[Rig]:
    requests = Requests()
    nomad = NomadClient(
        sim.nomad_addr, sim.management_token, event_hooks={"request": [requests.hook]}
    )
    consul = CountingConsul(sim.consul_addr, wait_s=WAIT_S)
    try:
        yield Rig(sim, nomad, consul, requests)
    finally:
        await consul.aclose()
        await nomad.aclose()


def loaded(state: ViewState[Any]) -> bool:
    return state.data is not None


def data(state: ViewState[T]) -> T:
    """The data of a loaded state (fails the test for one still loading)."""
    assert state.data is not None, state
    return state.data


async def until(
    states: AsyncIterator[ViewState[T]],
    cond: Callable[[ViewState[T]], bool],
    timeout_s: float = 5.0,
) -> ViewState[T]:
    """The first state from `states` for which `cond` holds, within `timeout_s`."""

    async def scan() -> ViewState[T]:
        async for state in states:
            if cond(state):
                return state
        raise AssertionError("the subscription ended")

    return await asyncio.wait_for(scan(), timeout_s)
