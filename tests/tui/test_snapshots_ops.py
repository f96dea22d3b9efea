"""SVG snapshots of the nodes, node, topology, services and check screens.

A seeded sim with a fixed clock and no background lifecycle, a fixed app clock, a fixed
terminal size, and a header address that is not the sim's random port: the same pixels
on every run. Regenerate after an intended change with `pytest --snapshot-update`, then
look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.tui.screens.check import CheckScreen
from nomtui.tui.screens.node import NodeScreen
from nomtui.tui.screens.nodes import NodesScreen
from nomtui.tui.screens.services import ServicesScreen
from nomtui.tui.screens.topology import TopologyScreen
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.topology import TopologyView
from tests.tui.ops_app import NOW_NS, OpsApp, store_factory, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

SIZE = (120, 36)
Compare = Callable[..., bool]


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    from nomtui.sim.clock import FixedClock

    sim_config.clock = FixedClock(NOW_NS)
    sim_config.lifecycle = False
    return sim_config


def app(sim: Sim, make: Callable[..., Any], **params: str) -> OpsApp:
    return OpsApp(store_factory(sim), lambda store: make(store, clock=lambda: NOW_NS, **params))


def when(check: Callable[[Pilot[Any]], bool]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: check(pilot))
        await pilot.pause(0.2)  # let the last refresh paint

    return run_before


def rows(ident: str, count: int) -> Callable[[Pilot[Any]], bool]:
    return lambda pilot: pilot.app.screen.query_one(ident, LiveTable).row_count >= count


def test_nodes(snap_compare: Compare, sim_thread: Sim) -> None:
    assert snap_compare(
        app(sim_thread, NodesScreen), terminal_size=SIZE, run_before=when(rows("#nodes", 4))
    )


def test_node_detail(snap_compare: Compare, sim_thread: Sim) -> None:
    node = next(i for i, n in sim_thread.state.nodes.items() if n["Name"] == "nomad-dc1-01")

    def ready(pilot: Pilot[Any]) -> bool:
        summary = str(pilot.app.screen.query_one("#node-summary").render())
        return rows("#node-allocs", 7)(pilot) and "docker" in summary

    assert snap_compare(
        app(sim_thread, NodeScreen, node_id=node), terminal_size=SIZE, run_before=when(ready)
    )


def test_topology(snap_compare: Compare, sim_thread: Sim) -> None:
    def drawn(pilot: Pilot[Any]) -> bool:
        drawing = pilot.app.screen.query_one(TopologyView).drawing
        return len(drawing.order) == 4 and "GHz" in drawing.text.plain

    assert snap_compare(app(sim_thread, TopologyScreen), terminal_size=SIZE, run_before=when(drawn))


def test_services_with_a_critical_instance(snap_compare: Compare, sim_thread: Sim) -> None:
    alloc = next(
        a["ID"]
        for a in sim_thread.state.allocs.values()
        if a["JobID"] == "services-scribe-api" and a["ClientStatus"] == "running"
    )

    def selected(pilot: Pilot[Any]) -> bool:
        return "503" in str(pilot.app.screen.query_one("#checks").render())

    assert snap_compare(
        app(sim_thread, ServicesScreen, alloc_id=alloc),
        terminal_size=SIZE,
        run_before=when(selected),
    )


def test_check(snap_compare: Compare, sim_thread: Sim) -> None:
    def judged(pilot: Pilot[Any]) -> bool:
        return "problems" in str(pilot.app.screen.query_one("#check-summary").render())

    assert snap_compare(app(sim_thread, CheckScreen), terminal_size=SIZE, run_before=when(judged))
