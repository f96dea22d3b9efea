"""Leaving a screen while its streams and requests are still in flight fails no worker.

Textual removes a popped screen's widgets before it cancels the screen's workers, so a
worker reporting a closed link, or a request answered meanwhile, must not reach for a
widget that is gone. Workers run with `exit_on_error=False`, so only a recorder sees
such a failure (`ChaosApp`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomtui.tui.screens.allocs import AllocsScreen
from nomtui.tui.screens.events import EventsScreen
from nomtui.tui.screens.jobs import JobsScreen
from nomtui.tui.screens.logs import LogsScreen
from tests.chaos.test_tui_chaos import ChaosApp, store_factory
from tests.tui.ops_app import until
from tests.tui.test_app_navigation import command

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


async def test_popping_streaming_screens_fails_no_worker(sim: Sim) -> None:
    app = ChaosApp(store_factory(sim), address=sim.nomad_addr)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.jobs)
        for _ in range(2):
            await command(pilot, "events")
            await until(pilot, lambda: isinstance(app.screen, EventsScreen))
            await until(pilot, lambda: app.screen.query_one("#events").row_count > 0)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, JobsScreen))

            await command(pilot, "allocs")
            await until(pilot, lambda: isinstance(app.screen, AllocsScreen) and app.screen.allocs)
            await pilot.press("l")
            await until(pilot, lambda: isinstance(app.screen, LogsScreen))
            await pilot.pause(0.5)
            await pilot.press("escape", "escape")
            await until(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.pause(0.5)
    assert app.failures == []
