"""Pilot tests of the Consul services screen against the simulated cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from rich.text import Text

from nomtui.store import ServiceInstance, ServiceRow
from nomtui.tui.screens.services import ServicesScreen, checks_text, service_cells
from nomtui.tui.widgets.live_table import LiveTable
from tests.tui.ops_app import NOW_NS, OpsApp, store_factory, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    # No background lifecycle: the failing scribe-api deployment would otherwise be
    # reverted and its critical instance go away in the middle of a test.
    sim_config.lifecycle = False
    return sim_config


def services_app(sim: Sim, *, consul: bool = True, **params: str) -> OpsApp:
    return OpsApp(
        store_factory(sim, consul=consul),
        lambda store: ServicesScreen(store, clock=lambda: NOW_NS, **params),
    )


def tables(pilot: Pilot[Any]) -> tuple[LiveTable, LiveTable]:
    screen = pilot.app.screen
    return screen.query_one("#services", LiveTable), screen.query_one("#instances", LiveTable)


def cells(t: LiveTable, key: str) -> dict[str, str]:
    return {c.key: cell.plain for c, cell in zip(t.spec, t.get_row(key), strict=True)}


def checks_panel(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#checks").render())


def alloc_of(sim: Sim, job: str) -> str:
    return next(
        str(a["ID"])
        for a in sim.state.allocs.values()
        if a["JobID"] == job and a["ClientStatus"] == "running"
    )


async def loaded(pilot: Pilot[Any]) -> tuple[LiveTable, LiveTable]:
    services, instances = tables(pilot)
    await until(pilot, lambda: "services-scribe-api" in services.shown_keys)
    return services, instances


async def test_services_with_tags_and_counts_by_health(sim: Sim) -> None:
    async with services_app(sim).run_test(size=(160, 40)) as pilot:
        services, _ = await loaded(pilot)
        scribe = cells(services, "services-scribe-api")
        assert scribe["status"] == "critical"
        assert (scribe["instances"], scribe["passing"], scribe["critical"]) == ("1", "0", "1")
        hello = cells(services, "internetarchive-hello-js")
        assert (hello["instances"], hello["passing"]) == ("3", "3")
        assert hello["tags"].startswith("https://canary-internetarchive-hello-js.dev")


async def test_instances_and_their_check_output(sim: Sim) -> None:
    alloc = alloc_of(sim, "services-scribe-api")
    async with services_app(sim).run_test(size=(160, 40)) as pilot:
        services, instances = await loaded(pilot)
        services.move_cursor(row=services.get_row_index("services-scribe-api"))
        await until(pilot, lambda: len(instances.shown_keys) == 1)
        row = cells(instances, instances.shown_keys[0])
        assert row["alloc"] == alloc[:8]
        assert row["status"] == "critical"
        assert row["checks"] == "0/1 passing"
        panel = checks_panel(pilot)
        assert "alive" in panel and "503" in panel and "Serf Health Status" in panel


async def test_enter_goes_to_instances_then_to_the_allocation(sim: Sim) -> None:
    app = services_app(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        services, instances = await loaded(pilot)
        services.move_cursor(row=services.get_row_index("www-wiki"))
        await until(pilot, lambda: len(instances.shown_keys) == 1)
        await pilot.press("enter")
        assert app.screen.focused is instances
        await pilot.press("enter")
        assert app.opened[-1].kind == "alloc"
        assert app.opened[-1].params == {"alloc_id": alloc_of(sim, "www-wiki")}


async def test_jump_back_from_an_allocation_selects_its_instance(sim: Sim) -> None:
    alloc = alloc_of(sim, "services-pyhi")
    async with services_app(sim, alloc_id=alloc).run_test(size=(160, 40)) as pilot:
        services, instances = tables(pilot)
        await until(pilot, lambda: services.selected_key == "services-pyhi")
        await until(pilot, lambda: alloc in (instances.selected_key or ""))
        assert pilot.app.screen.focused is instances
        assert alloc[:8] in cells(instances, instances.selected_key or "")["alloc"]


async def test_filter_and_sort(sim: Sim) -> None:
    async with services_app(sim).run_test(size=(160, 40)) as pilot:
        services, _ = await loaded(pilot)
        await pilot.press("slash", *"^www-", "enter")
        await until(pilot, lambda: services.shown_keys == ["www-ia-kv", "www-wiki"])
        await pilot.press("escape")
        await until(pilot, lambda: len(services.shown_keys) > 2)
        await pilot.press("o")  # name -> health
        assert services.sort_columns == ("status",)
        health = [cells(services, key)["status"] for key in services.shown_keys]
        assert health == sorted(health)
        assert health[0] == "critical"


async def test_stopping_an_allocation_removes_its_instance_live(sim: Sim) -> None:
    alloc = alloc_of(sim, "services-pyhi")
    async with services_app(sim).run_test(size=(160, 40)) as pilot:
        services, _ = await loaded(pilot)
        await until(pilot, lambda: cells(services, "services-pyhi")["instances"] == "3")
        async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
            answer = await c.post(f"{sim.nomad_addr}/v1/allocation/{alloc}/stop")
            answer.raise_for_status()
        await until(pilot, lambda: cells(services, "services-pyhi")["instances"] != "3")


async def test_without_consul_says_so(sim: Sim) -> None:
    async with services_app(sim, consul=False).run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "not configured" in checks_panel(pilot))


async def test_bindings_have_ids_and_descriptions() -> None:
    for binding in ServicesScreen.BINDINGS:
        assert not isinstance(binding, tuple)
        assert binding.id and binding.description and binding.tooltip


def test_cells_are_sanitised_text() -> None:
    row = ServiceRow(name="evil\x1b[2Jsvc", tags=("[bold]x[/]",), instances=(), status="passing")
    made = service_cells(row)
    assert all(isinstance(c, Text) for c in made)
    assert made[0].plain == "evilsvc"
    assert made[-1].plain == "[bold]x[/]"
    instance = ServiceInstance(
        service_id="s1", node="n1", alloc_id=None, alloc=None, checks=(), status="passing"
    )
    assert "Checks of s1" in checks_text(instance).plain
    assert checks_text(None).plain == "No instance selected."
