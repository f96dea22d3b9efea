"""A minimal app for testing the nodes, topology, services, events and check screens alone.

It builds a store on the sim the way `NomtuiApp` does (in the app's loop, on mount),
pushes one screen, records every `Open` it is asked for, and resolves the kinds these
screens link to among themselves. The header shows a fixed address, so the sim's random
ports never reach a snapshot.
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

    from nomtui.sim.server import Sim

NOW_NS = 1_764_000_000_000_000_000
"""The sim's FixedClock start: ages on screen are the same on every run."""
CSS = Path(__file__).parents[2] / "nomtui" / "tui" / "app.tcss"

ScreenFactory = Callable[[Store], Screen[Any]]


def store_factory(
    sim: Sim, *, read_only: bool = False, token: str | None = None, consul: bool = True
) -> Callable[[], Store]:
    def make() -> Store:
        nomad = NomadClient(sim.nomad_addr, Secret(token or sim.management_token))
        consul_client = ConsulClient(sim.consul_addr, None) if consul else None
        return Store(nomad, consul_client, read_only=read_only, wait_s=2, min_interval_s=0.05)

    return make


class OpsApp(App[None]):
    CSS_PATH = str(CSS)

    cluster: reactive[ClusterStatus] = reactive(ClusterStatus, always_update=True)

    def __init__(
        self,
        make_store: Callable[[], Store],
        make_screen: ScreenFactory,
        routes: dict[str, Callable[..., Screen[Any]]] | None = None,
    ) -> None:
        super().__init__()
        self._make_store = make_store
        self._make_screen = make_screen
        self.routes = routes or {}
        self.opened: list[Open] = []
        self.store: Store | None = None
        self.clock = lambda: NOW_NS
        """Read by the header for ages (token expiry, staleness)."""
        self.set_reactive(
            OpsApp.cluster, ClusterStatus(address="http://127.0.0.1:4646", label="demo")
        )

    def on_mount(self) -> None:
        self.store = self._make_store()
        self.push_screen(self._make_screen(self.store))

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.aclose()
            await self.store.nomad.aclose()
            if self.store.consul is not None:
                await self.store.consul.aclose()

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.cluster = ClusterStatus(
            address=self.cluster.address, label=self.cluster.label, state=message.state
        )

    def on_open(self, message: Open) -> None:
        self.opened.append(message)
        route = self.routes.get(message.kind)
        if route is not None and self.store is not None:
            self.push_screen(route(self.store, clock=lambda: NOW_NS, **message.params))


async def until(pilot: Pilot[Any], check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


__all__ = ["NOW_NS", "OpsApp", "store_factory", "until"]
