"""Helpers for the Pilot tests of the app, jobs, job and deployments screens on the sim."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from nomtui.tui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim

NOW_NS = 1_764_000_000_000_000_000
"""The sim's FixedClock start: ages on screen are the same on every run."""
ADDRESS = "http://nomad.example:4646"
"""Shown instead of the sim's random port, so no test depends on it."""


def store_for(
    sim: Sim, *, token: str | None = None, consul: bool = True, read_only: bool = False
) -> Callable[[], Store]:
    def factory() -> Store:
        nomad = NomadClient(sim.nomad_addr, Secret(token or sim.management_token))
        consul_client = ConsulClient(sim.consul_addr, None) if consul else None
        return Store(nomad, consul_client, read_only=read_only, wait_s=2, min_interval_s=0.05)

    return factory


class RecordingApp(NomtuiApp):
    """Records every screen asked for; `swallow` kinds are recorded but not opened (screens
    other helpers own, which these tests do not exercise)."""

    def __init__(self, *args: Any, swallow: frozenset[str] = frozenset(), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.opened: list[tuple[str, dict[str, str]]] = []
        self.notes: list[tuple[str, str]] = []
        """(severity, message) of every notification."""
        self.swallow = swallow

    def notify(self, message: str, *, severity: Any = "information", **kw: Any) -> None:
        self.notes.append((str(severity), message))
        super().notify(message, severity=severity, **kw)

    def open(self, kind: str, **params: str) -> None:
        self.opened.append((kind, dict(params)))
        if kind not in self.swallow:
            super().open(kind, **params)


def app_for(sim: Sim, **kw: Any) -> RecordingApp:
    store_kw = {k: kw.pop(k) for k in ("consul", "token") if k in kw}
    kw.setdefault("address", ADDRESS)
    kw.setdefault("clock", lambda: NOW_NS)
    kw.setdefault("swallow", frozenset({"alloc", "allocs"}))
    return RecordingApp(store_for(sim, **store_kw), **kw)


def names(table: LiveTable) -> list[str]:
    return [table.get_row(key)[0].plain for key in table.shown_keys]


async def until(pilot: Pilot[None], check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def screen_svg(app: NomtuiApp) -> str:
    """The screen as SVG: its text is there (spaces as &#160;), enough for "never shown"."""
    return app.export_screenshot()


__all__ = [
    "ADDRESS",
    "NOW_NS",
    "RecordingApp",
    "app_for",
    "names",
    "screen_svg",
    "store_for",
    "until",
]
