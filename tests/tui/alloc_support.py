"""A minimal app for Pilot tests of the allocation screens against the sim.

It shows one screen, and handles `Open` by pushing the allocation screens itself, so
these tests depend neither on the full app nor on its registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.reactive import reactive
from textual.screen import Screen

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.store import Store
from nomtui.tui.header import ClusterStatus, ConnectionChanged
from nomtui.tui.nav import Open

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

NOW_NS = 1_764_000_000_000_000_000
"""The sim's FixedClock start: ages on screen are then the same at every run."""
APP_CSS = Path(__file__).parents[2] / "nomtui" / "tui" / "app.tcss"

ScreenFactory = Callable[[Store], Screen[Any]]


class ScreenApp(App[None]):
    CSS_PATH = str(APP_CSS)
    cluster: reactive[ClusterStatus] = reactive(ClusterStatus, always_update=True)

    def __init__(
        self, sim: Sim, make: ScreenFactory, *, read_only: bool = False, consul: bool = False
    ) -> None:
        super().__init__()
        self.sim = sim
        self.make = make
        self.read_only = read_only
        self.with_consul = consul
        self.opened: list[Open] = []
        self.store: Store | None = None
        # A fixed address: the sim's random port must not reach a snapshot.
        self.set_reactive(ScreenApp.cluster, ClusterStatus(address="http://sim:4646"))

    def on_mount(self) -> None:
        nomad = NomadClient(self.sim.nomad_addr, Secret(self.sim.management_token))
        consul = ConsulClient(self.sim.consul_addr, None) if self.with_consul else None
        self.store = Store(nomad, consul, read_only=self.read_only, wait_s=2, min_interval_s=0.05)
        self.push_screen(self.make(self.store))

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.aclose()
            await self.store.nomad.aclose()
            if self.store.consul is not None:
                await self.store.consul.aclose()

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.cluster = ClusterStatus(address="http://sim:4646", state=message.state)

    def on_open(self, message: Open) -> None:
        from nomtui.tui.screens.alloc import AllocScreen
        from nomtui.tui.screens.allocs import AllocsScreen
        from nomtui.tui.screens.logs import LogsScreen

        self.opened.append(message)
        assert self.store is not None
        kinds: dict[str, Callable[..., Screen[Any]]] = {
            "allocs": AllocsScreen,
            "alloc": AllocScreen,
            "logs": LogsScreen,
        }
        make = kinds.get(message.kind)
        if make is not None:
            self.push_screen(make(self.store, clock=lambda: NOW_NS, **message.params))


def still_sim(config: SimConfig) -> SimConfig:
    """A cluster that only moves when the test writes to it; no demo log producers."""
    from nomtui.sim.clock import FixedClock

    config.clock = FixedClock()
    config.lifecycle = False
    config.log_lines_per_s = 0
    return config


async def until(pilot: Pilot[None], check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def running_allocs(sim: Sim, job: str | None = None) -> list[str]:
    """IDs of the sim's running allocations (of `job`), newest first."""
    allocs = [
        a
        for a in sim.state.allocs.values()
        if a["ClientStatus"] == "running" and (job is None or a["JobID"] == job)
    ]
    allocs.sort(key=lambda a: a["CreateIndex"], reverse=True)
    return [str(a["ID"]) for a in allocs]
