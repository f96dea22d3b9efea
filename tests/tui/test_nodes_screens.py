"""Pilot tests of the nodes, node and topology screens against the simulated cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from nomtui.tui.screens.node import NodeScreen
from nomtui.tui.screens.nodes import NodesScreen
from nomtui.tui.screens.topology import TopologyScreen
from nomtui.tui.widgets.confirm import ConfirmScreen
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.topology import TopologyView
from tests.tui.ops_app import NOW_NS, OpsApp, store_factory, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim

ROUTES: dict[str, Any] = {"node": NodeScreen, "topology": TopologyScreen}


def node_id(sim: Sim, name: str) -> str:
    return next(i for i, n in sim.state.nodes.items() if n["Name"] == name)


def nodes_app(sim: Sim, *, read_only: bool = False) -> OpsApp:
    return OpsApp(
        store_factory(sim, read_only=read_only),
        lambda store: NodesScreen(store, clock=lambda: NOW_NS),
        routes=ROUTES,
    )


def table(pilot: Pilot[Any], ident: str = "#nodes") -> LiveTable:
    return pilot.app.screen.query_one(ident, LiveTable)


def column(t: LiveTable, key: str) -> list[str]:
    at = [c.key for c in t.spec].index(key)
    return [t.get_row(row)[at].plain for row in t.shown_keys]


def row(t: LiveTable, key: str) -> dict[str, str]:
    return {c.key: cell.plain for c, cell in zip(t.spec, t.get_row(key), strict=True)}


def keys_shown(pilot: Pilot[Any]) -> set[str]:
    """Actions offered in the footer/help right now."""
    return {b.binding.action for b in pilot.app.screen.active_bindings.values()}


async def select(pilot: Pilot[Any], t: LiveTable, key: str) -> None:
    t.move_cursor(row=t.get_row_index(key))
    await pilot.pause()


async def loaded(pilot: Pilot[Any]) -> LiveTable:
    t = table(pilot)
    await until(pilot, lambda: len(t.shown_keys) == 4)
    return t


# -- nodes table --------------------------------------------------------------------------


async def test_nodes_table_shows_state_and_allocated_against_capacity(sim: Sim) -> None:
    async with nodes_app(sim).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        assert column(t, "name") == [f"nomad-dc1-0{i}" for i in range(1, 5)]
        draining = row(t, node_id(sim, "nomad-dc1-03"))
        assert draining["eligibility"] == "ineligible"
        assert draining["drain"] == "draining"
        assert draining["class"] == "storage"
        assert row(t, node_id(sim, "nomad-dc1-04"))["status"] == "down"
        # The allocations list is a second watch: its counts may land after the nodes.
        first_id = node_id(sim, "nomad-dc1-01")
        await until(pilot, lambda: int(row(t, first_id)["allocs"]) > 0)
        first = row(t, first_id)
        assert first["datacenter"] == "dc1"
        assert first["cpu"].endswith("/19.2 GHz")
        assert first["memory"].endswith("/32.0 GiB")
        assert first["cpu"].split("%")[0].strip().isdigit()


async def test_filter_inverts_and_escape_restores(sim: Sim) -> None:
    async with nodes_app(sim).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        await pilot.press("slash", *"dc1-0[12]")
        await until(pilot, lambda: column(t, "name") == ["nomad-dc1-01", "nomad-dc1-02"])
        await pilot.press("home", "!")
        await until(pilot, lambda: column(t, "name") == ["nomad-dc1-03", "nomad-dc1-04"])
        await pilot.press("enter")
        assert pilot.app.screen.focused is t
        await pilot.press("escape")
        await until(pilot, lambda: len(t.shown_keys) == 4)
        # With no filter left, Esc is not the screen's any more (the app's "back").
        assert "clear_filter" not in keys_shown(pilot)


async def test_sort_by_next_column_and_reverse(sim: Sim) -> None:
    async with nodes_app(sim).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        await pilot.press("o")  # name -> status
        assert t.sort_columns == ("status",)
        assert column(t, "status")[0] == "down"
        await pilot.press("O")
        assert column(t, "status")[-1] == "down"
        for _ in range(6):  # status -> ... -> cpu
            await pilot.press("o")
        assert t.sort_columns == ("cpu",)
        percents = [int(c.split("%")[0]) for c in column(t, "cpu")]
        assert percents == sorted(percents)


async def test_drain_asks_then_drains_and_the_row_follows(sim: Sim) -> None:
    target = node_id(sim, "nomad-dc1-01")
    async with nodes_app(sim).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        await select(pilot, t, target)
        assert {"drain", "ineligible"} <= keys_shown(pilot)
        assert not {"undrain", "eligible"} & keys_shown(pilot)
        await pilot.press("d")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: sim.state.nodes[target]["Drain"] is True)
        assert sim.state.nodes[target]["SchedulingEligibility"] == "ineligible"
        await until(pilot, lambda: row(t, target)["drain"] == "draining")
        assert "undrain" in keys_shown(pilot) and "drain" not in keys_shown(pilot)


async def test_cancel_drain_and_eligibility_toggle(sim: Sim) -> None:
    draining = node_id(sim, "nomad-dc1-03")
    other = node_id(sim, "nomad-dc1-02")
    async with nodes_app(sim).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        await select(pilot, t, draining)
        # Nomad refuses eligibility changes during a drain: not offered.
        assert not {"eligible", "ineligible"} & keys_shown(pilot)
        await pilot.press("d", "y")
        await until(pilot, lambda: sim.state.nodes[draining]["Drain"] is False)
        assert sim.state.nodes[draining]["SchedulingEligibility"] == "eligible"
        await select(pilot, t, other)
        await pilot.press("e", "y")
        await until(pilot, lambda: sim.state.nodes[other]["SchedulingEligibility"] == "ineligible")
        await until(pilot, lambda: row(t, other)["eligibility"] == "ineligible")
        assert "eligible" in keys_shown(pilot)
        await pilot.press("e", "y")
        await until(pilot, lambda: sim.state.nodes[other]["SchedulingEligibility"] == "eligible")


async def test_no_in_the_confirm_changes_nothing(sim: Sim) -> None:
    target = node_id(sim, "nomad-dc1-02")
    async with nodes_app(sim).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        await select(pilot, t, target)
        await pilot.press("d")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause(0.3)
        assert isinstance(pilot.app.screen, NodesScreen)
        assert sim.state.nodes[target]["Drain"] is False


async def test_read_only_hides_and_refuses_node_writes(sim: Sim) -> None:
    target = node_id(sim, "nomad-dc1-02")
    async with nodes_app(sim, read_only=True).run_test(size=(140, 30)) as pilot:
        t = await loaded(pilot)
        await select(pilot, t, target)
        assert not {"drain", "undrain", "eligible", "ineligible"} & keys_shown(pilot)
        await pilot.press("d", "e", "y")
        await pilot.pause(0.3)
        assert isinstance(pilot.app.screen, NodesScreen)
        assert sim.state.nodes[target]["Drain"] is False
        assert sim.state.nodes[target]["SchedulingEligibility"] == "eligible"


async def test_every_binding_has_an_id_and_a_description() -> None:
    for screen in (NodesScreen, NodeScreen, TopologyScreen, TopologyView):
        for binding in screen.BINDINGS:
            assert not isinstance(binding, tuple)
            assert binding.id and binding.description and binding.tooltip, binding


# -- node detail ----------------------------------------------------------------------------


async def test_enter_opens_the_node_with_its_allocations(sim: Sim) -> None:
    target = node_id(sim, "nomad-dc1-03")
    app = nodes_app(sim)
    async with app.run_test(size=(140, 36)) as pilot:
        t = await loaded(pilot)
        await select(pilot, t, target)
        await pilot.press("enter")
        assert app.opened[-1].kind == "node" and app.opened[-1].params == {"node_id": target}
        assert isinstance(app.screen, NodeScreen)
        allocs = table(pilot, "#node-allocs")
        prometheus = next(a for a in sim.state.allocs.values() if a["JobID"] == "ops-prometheus")
        await until(pilot, lambda: prometheus["ID"] in allocs.shown_keys)
        summary = str(app.screen.query_one("#node-summary").render())
        assert "nomad-dc1-03" in summary and "draining" in summary
        await until(pilot, lambda: "docker" in str(app.screen.query_one("#node-summary").render()))
        assert "Node drain strategy set" in str(app.screen.query_one("#node-events").render())
        await select(pilot, allocs, prometheus["ID"])
        await pilot.press("enter")
        assert app.opened[-1].kind == "alloc"
        assert app.opened[-1].params == {"alloc_id": prometheus["ID"]}


async def test_node_screen_cancels_a_drain_and_sees_it(sim: Sim) -> None:
    target = node_id(sim, "nomad-dc1-03")
    app = OpsApp(
        store_factory(sim), lambda store: NodeScreen(store, clock=lambda: NOW_NS, node_id=target)
    )
    async with app.run_test(size=(140, 36)) as pilot:
        await until(
            pilot, lambda: "draining" in str(app.screen.query_one("#node-summary").render())
        )
        assert "undrain" in keys_shown(pilot)
        await pilot.press("d", "y")
        await until(pilot, lambda: sim.state.nodes[target]["Drain"] is False)
        await until(pilot, lambda: "drain" in keys_shown(pilot))
        assert "draining" not in str(app.screen.query_one("#node-summary").render())


# -- topology ---------------------------------------------------------------------------------


def topology_app(sim: Sim) -> OpsApp:
    return OpsApp(
        store_factory(sim), lambda store: TopologyScreen(store, clock=lambda: NOW_NS), ROUTES
    )


async def test_topology_draws_nodes_and_opens_the_selected_one(sim: Sim) -> None:
    app = topology_app(sim)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.screen.query_one(TopologyView)
        await until(
            pilot, lambda: len(view.drawing.order) == 4 and "GHz" in view.drawing.text.plain
        )
        text = view.drawing.text.plain
        assert text.startswith("dc1  4 nodes")
        assert "Legend" in text
        assert view.selected == node_id(sim, "nomad-dc1-01")
        await pilot.press("down", "down")
        assert view.selected == node_id(sim, "nomad-dc1-03")
        await pilot.press("enter")
        assert app.opened[-1].kind == "node"
        assert app.opened[-1].params == {"node_id": node_id(sim, "nomad-dc1-03")}


async def test_topology_filter_and_live_drain(sim: Sim) -> None:
    app = topology_app(sim)
    target = node_id(sim, "nomad-dc1-02")
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.screen.query_one(TopologyView)
        await until(pilot, lambda: len(view.drawing.order) == 4)
        await pilot.press("slash", *"storage|down", "enter")
        await until(pilot, lambda: len(view.drawing.order) == 2)
        assert app.screen.focused is view
        await pilot.press("escape")
        await until(pilot, lambda: len(view.drawing.order) == 4)
        async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
            body = {"DrainSpec": {"Deadline": 3600_000_000_000}, "MarkEligible": False}
            answer = await c.put(f"{sim.nomad_addr}/v1/node/{target}/drain", json=body)
            answer.raise_for_status()

        def line() -> str:
            return view.drawing.text.plain.splitlines()[view.drawing.node_lines[target]]

        await until(pilot, lambda: "draining" in line())
