"""SVG snapshots of the jobs, job and help screens at a fixed size.

The sim is seeded, its clock fixed and its lifecycle off, and the app's clock is fixed to
the same instant, so ages, IDs and health are the same on every run; the header shows a
fixed address instead of the sim's random port. Update the baselines after a deliberate
change with `pytest tests/tui/test_snapshots_core.py --snapshot-update` and look at them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.sim.clock import FixedClock
from nomtui.tui.app import NomtuiApp
from nomtui.tui.header import ConnectionState
from nomtui.tui.help import HelpScreen
from nomtui.tui.screens.job import JobScreen
from nomtui.tui.screens.jobs import JobsScreen
from tests.tui.core_app import ADDRESS, NOW_NS, store_for, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

SIZE = (120, 36)
HELLO = "internetarchive-hello-js"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.clock = FixedClock(NOW_NS)
    sim_config.lifecycle = False
    return sim_config


def demo_app(sim: Sim) -> NomtuiApp:
    return NomtuiApp(store_for(sim), address=ADDRESS, label="demo", clock=lambda: NOW_NS)


async def settled(pilot: Pilot[None]) -> None:
    """The jobs list with every column filled and the header complete."""
    app = pilot.app
    assert isinstance(app, NomtuiApp)
    await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.jobs)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    # versions (allocations) and URLs and health (Consul) both joined in
    await until(pilot, lambda: screen.table.row_count >= 11 and len(screen.extras) >= 9)
    await until(pilot, lambda: sum(1 for e in screen.extras.values() if e.url) >= 8)
    # DataTable re-measures its columns when idle: wait until its width says it has (the
    # horizontal scrollbar is drawn from it).
    table = screen.table
    await until(
        pilot,
        lambda: (
            table.virtual_size.width
            == sum(c.get_render_width(table) for c in table.columns.values())
        ),
    )
    await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE)
    await until(pilot, lambda: app.cluster.token_name is not None and app.cluster.consul)


def on_job(tab: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settled(pilot)
        app = pilot.app
        assert isinstance(app, NomtuiApp)
        app.open("job", namespace="default", job_id=HELLO)
        await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.detail)
        screen = app.screen
        assert isinstance(screen, JobScreen)
        await until(pilot, lambda: screen.services is not None and screen.versions)
        await until(pilot, lambda: len(screen.allocs_table.shown_keys) == 3)
        screen.action_tab(tab)
        await pilot.pause()

    return run_before


def test_jobs_screen(snap_compare: Any, sim_thread: Sim) -> None:
    assert snap_compare(demo_app(sim_thread), terminal_size=SIZE, run_before=settled)


def test_job_screen_summary(snap_compare: Any, sim_thread: Sim) -> None:
    assert snap_compare(demo_app(sim_thread), terminal_size=SIZE, run_before=on_job("summary"))


def test_job_screen_deployment(snap_compare: Any, sim_thread: Sim) -> None:
    run_before = on_job("deployment")
    assert snap_compare(demo_app(sim_thread), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: Any, sim_thread: Sim) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(demo_app(sim_thread), terminal_size=SIZE, run_before=run_before)
