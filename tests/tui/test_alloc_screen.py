"""Pilot tests of the allocation screen against the sim: timeline, stats, files, checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nomtui.tui.screens.alloc import AllocScreen, human_size
from nomtui.tui.screens.logs import LogsScreen
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.sparkline import Spark
from tests.tui.alloc_support import NOW_NS, ScreenApp, running_allocs, still_sim, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

JOB = "internetarchive-hello-js"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still_sim(sim_config)


def alloc_app(sim: Sim, alloc_id: str, *, consul: bool = False) -> ScreenApp:
    return ScreenApp(
        sim,
        lambda store: AllocScreen(store, clock=lambda: NOW_NS, alloc_id=alloc_id),
        consul=consul,
    )


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector).render())


def column(pilot: Pilot[None], table_id: str, index: int) -> list[str]:
    table = pilot.app.screen.query_one(table_id, LiveTable)
    return [table.get_row(key)[index].plain for key in table.shown_keys]


def shown_actions(pilot: Pilot[None]) -> set[str]:
    return {b.binding.action for b in pilot.app.screen.active_bindings.values()}


def test_human_size() -> None:
    assert human_size(253) == "253B"
    assert human_size(2048) == "2.0K"
    assert human_size(5 * 2**30) == "5.0G"


async def test_summary_and_event_timeline(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with alloc_app(sim, alloc).run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: JOB in text_of(pilot, "#alloc-summary"))
        summary = text_of(pilot, "#alloc-summary")
        assert sim.state.allocs[alloc]["NodeName"] in summary
        assert "running/run" in summary
        events = sim.state.allocs[alloc]["TaskStates"]["http"]["Events"]
        await until(pilot, lambda: len(column(pilot, "#events", 2)) == len(events))
        assert column(pilot, "#events", 2) == [e["Type"] for e in events]  # oldest first


async def test_cpu_and_memory_against_allocated(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with alloc_app(sim, alloc).run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "MHz" in text_of(pilot, "#cpu-label"))
        cpu = sim.state.allocs[alloc]["AllocatedResources"]["Tasks"]["http"]["Cpu"]["CpuShares"]
        assert f"/{cpu} MHz" in text_of(pilot, "#cpu-label")
        assert "MiB" in text_of(pilot, "#mem-label")
        spark = pilot.app.screen.query_one("#cpu-spark", Spark)
        assert spark.limit == cpu and len(spark.samples) >= 1


async def test_file_browser_lists_descends_reads_and_goes_up(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    app = alloc_app(sim, alloc)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: JOB in text_of(pilot, "#alloc-summary"))
        await pilot.press("2")
        await until(pilot, lambda: column(pilot, "#files", 0) == ["alloc/", "http/"])
        files = pilot.app.screen.query_one("#files", LiveTable)
        files.move_cursor(row=1)
        await pilot.press("enter")
        await until(pilot, lambda: "local/" in column(pilot, "#files", 0))
        files.move_cursor(row=column(pilot, "#files", 0).index("local/"))
        await pilot.press("enter")
        await until(pilot, lambda: "app.conf" in column(pilot, "#files", 0))
        files.move_cursor(row=column(pilot, "#files", 0).index("app.conf"))
        await pilot.press("enter")
        await until(pilot, lambda: f"ALLOC_ID={alloc}" in text_of(pilot, "#file-content"))
        assert app.screen.shown_file == "/http/local/app.conf"  # type: ignore[attr-defined]
        await pilot.press("backspace")
        await until(pilot, lambda: "local/" in column(pilot, "#files", 0))
        assert app.screen.fs_path == "/http"  # type: ignore[attr-defined]


async def test_consul_checks_with_their_output(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with alloc_app(sim, alloc, consul=True).run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: "alive" in text_of(pilot, "#checks-body"))
        body = text_of(pilot, "#checks-body")
        assert "passing" in body and "HTTP GET" in body
        assert "Serf Health Status" in body


async def test_without_consul_the_checks_tab_says_so(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with alloc_app(sim, alloc).run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: "not configured" in text_of(pilot, "#checks-body"))


async def test_restart_shows_up_in_the_timeline(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with alloc_app(sim, alloc).run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "Started" in column(pilot, "#events", 2))
        await pilot.press("r", "y")
        await until(pilot, lambda: "Restart Signaled" in column(pilot, "#events", 2))
        assert column(pilot, "#events", 2)[-1] == "Started"


async def test_l_opens_the_logs_of_this_allocation(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    app = alloc_app(sim, alloc)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "logs('stdout')" in shown_actions(pilot))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen))
        assert app.opened[-1].params == {"alloc_id": alloc, "task": "http", "stream": "stdout"}


async def test_a_finished_allocation_offers_no_shell_restart_or_stop(sim: Sim) -> None:
    done = next(a["ID"] for a in sim.state.allocs.values() if a["ClientStatus"] == "complete")
    async with alloc_app(sim, done).run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "complete" in text_of(pilot, "#alloc-summary"))
        actions = shown_actions(pilot)
        assert "logs('stdout')" in actions
        assert not {"shell", "restart", "stop", "tunnel"} & actions


async def test_an_unknown_allocation_says_so(sim: Sim) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    async with alloc_app(sim, missing).run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "not found" in text_of(pilot, "#alloc-summary").lower())
        assert not {"shell", "restart", "stop"} & shown_actions(pilot)
