"""Pilot tests of the jobs screen against the simulated cluster (no mocked HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from rich.text import Text

from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.models.jobs import JobStub
from nomtui.store import Store
from nomtui.tui.app import HelpScreen, NomtuiApp
from nomtui.tui.header import ConnectionState
from nomtui.tui.screens.jobs import JobsScreen, format_age, job_cells
from nomtui.tui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim

NOW_NS = 1_764_000_000_000_000_000


def store_for(sim: Sim, token: str | None = None) -> Callable[[], Store]:
    def factory() -> Store:
        nomad = NomadClient(sim.nomad_addr, Secret(token or sim.management_token))
        return Store(nomad, None, read_only=False, wait_s=2, min_interval_s=0.05)

    return factory


def app_for(sim: Sim) -> NomtuiApp:
    return NomtuiApp(store_for(sim), address=sim.nomad_addr, clock=lambda: NOW_NS)


def table(pilot: Pilot[None]) -> LiveTable:
    return pilot.app.screen.query_one("#jobs", LiveTable)


def names(t: LiveTable) -> list[str]:
    return [t.get_row(key)[0].plain for key in t.shown_keys]


async def until(pilot: Pilot[None], check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


# -- pure helpers -------------------------------------------------------------------------


def test_format_age() -> None:
    assert format_age(42) == "42s"
    assert format_age(303) == "5m3s"
    assert format_age(3 * 86400 + 7200) == "3d2h"


def test_cells_are_sanitised_text_not_markup() -> None:
    stub = JobStub(ID="evil\x1b]0;owned\x07[bold red]x[/]", Name="evil\x1b[2J[bold]x[/]")
    cells = job_cells(stub, NOW_NS)
    assert all(isinstance(c, Text) for c in cells)
    assert "\x1b" not in cells[0].plain
    assert "[bold]" in cells[0].plain  # shown literally, not applied as markup


# -- against the sim ----------------------------------------------------------------------


async def test_demo_jobs_appear_and_header_goes_live(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "www-nomad" in names(table(pilot)))
        assert isinstance(app.screen, JobsScreen)
        assert {"services-pyhi", "ops-grafana"} <= set(names(table(pilot)))
        await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE)
        await until(pilot, lambda: app.cluster.leader.endswith(":4647"))


async def test_rows_update_in_place_and_cursor_follows_its_job(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        t = table(pilot)
        await until(pilot, lambda: "www-wiki" in names(t))
        t.move_cursor(row=names(t).index("www-wiki"))
        await pilot.pause()
        assert t.selected_key == "default/www-wiki"
        async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
            await c.delete(f"{sim.nomad_addr}/v1/job/www-nomad", params={"purge": "true"})
        await until(pilot, lambda: "www-nomad" not in names(t))
        assert t.selected_key == "default/www-wiki"


async def test_filter_narrows_inverts_and_escape_restores(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        t = table(pilot)
        await until(pilot, lambda: "www-nomad" in names(t))
        everything = len(names(t))
        await pilot.press("slash", *"^www-")
        await until(pilot, lambda: names(t) and all(n.startswith("www-") for n in names(t)))
        await pilot.press("enter", "slash", "home", "!")
        await until(pilot, lambda: names(t) and not any(n.startswith("www-") for n in names(t)))
        await pilot.press("escape")
        await until(pilot, lambda: len(names(t)) == everything)


async def test_q_in_the_filter_types_instead_of_quitting(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "www-nomad" in names(table(pilot)))
        await pilot.press("slash", "q")
        assert app.is_running
        assert app.screen.query_one("#filter").value == "q"  # type: ignore[attr-defined]


async def test_reconnecting_is_shown_then_cleared(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE)
        sim.injector.faults.error_rate = 1.0
        sim.state.notify()
        async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
            await c.put(f"{sim.nomad_addr}/v1/sim/faults", json={"error_rate": 1.0})
            await until(pilot, lambda: app.cluster.state is ConnectionState.RECONNECTING)
            sim.injector.faults.error_rate = 0.0
        await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE, timeout=20)


async def test_help_lists_binding_ids(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {"app.quit", "jobs.filter"} <= ids


async def test_a_bad_address_exits_with_one_line() -> None:
    def factory() -> Store:
        return Store(NomadClient("not a url"), None, read_only=False)

    app = NomtuiApp(factory, clock=lambda: NOW_NS)
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == 1
