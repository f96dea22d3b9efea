"""Pilot tests of the allocations screen against the sim: rows, filter, sort, actions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from rich.text import Text
from textual.widgets import Input

from nomtui.models.allocs import AllocStub, TaskState
from nomtui.tui.screens import alloc_actions
from nomtui.tui.screens.alloc import AllocScreen
from nomtui.tui.screens.allocs import AllocsScreen, alloc_cells, task_cell
from nomtui.tui.screens.logs import LogsScreen
from nomtui.tui.widgets.confirm import ConfirmScreen
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.path_prompt import CopyInPrompt, complete_path
from tests.tui.alloc_support import NOW_NS, ScreenApp, running_allocs, still_sim, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

JOB = "internetarchive-hello-js"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still_sim(sim_config)


def allocs_app(
    sim: Sim, *, read_only: bool = False, job_id: str = "", consul: bool = False
) -> ScreenApp:
    return ScreenApp(
        sim,
        lambda store: AllocsScreen(store, clock=lambda: NOW_NS, job_id=job_id, namespace="*"),
        read_only=read_only,
        consul=consul,
    )


def table(pilot: Pilot[None]) -> LiveTable:
    return pilot.app.screen.query_one("#allocs", LiveTable)


def keys(pilot: Pilot[None]) -> list[str]:
    return table(pilot).shown_keys


def column(pilot: Pilot[None], name: str) -> list[str]:
    t = table(pilot)
    index = [c.key for c in t.spec].index(name)
    return [t.get_row(key)[index].plain.strip() for key in t.shown_keys]


def shown_actions(pilot: Pilot[None]) -> set[str]:
    return {b.binding.action for b in pilot.app.screen.active_bindings.values()}


async def select(pilot: Pilot[None], alloc_id: str) -> None:
    t = table(pilot)
    await until(pilot, lambda: alloc_id in t.shown_keys)
    t.move_cursor(row=t.get_row_index(alloc_id))
    await pilot.pause()


# -- pure -------------------------------------------------------------------------------


def test_task_cell_marks_each_state() -> None:
    tasks = {
        "http": TaskState(State="running"),
        "kv": TaskState(State="dead"),
        "crash": TaskState(State="dead", Failed=True),
        "wait": TaskState(State="pending"),
    }
    assert task_cell(tasks).plain == "✗crash ●http ✓kv ◌wait"


def test_cells_are_text_and_sanitised() -> None:
    stub = AllocStub(ID="abcdef0123", JobID="evil\x1b[2J[red]x[/]", ClientStatus="running")
    cells = alloc_cells(stub, NOW_NS, None, per_job=False)
    assert all(isinstance(c, Text) for c in cells)
    assert cells[1].plain == "evil[red]x[/]"


# -- against the sim -----------------------------------------------------------------------


async def test_rows_columns_and_usage(sim: Sim) -> None:
    async with allocs_app(sim).run_test(size=(160, 36)) as pilot:
        await until(pilot, lambda: len(keys(pilot)) == len(sim.state.allocs))
        assert keys(pilot)[0] == running_allocs(sim)[0]  # newest first
        running = set(running_allocs(sim))
        # CPU and memory used/allocated arrive from the stats endpoint.
        await until(pilot, lambda: "/" in column(pilot, "cpu")[0])
        rows = zip(keys(pilot), column(pilot, "cpu"), column(pilot, "memory"), strict=True)
        for key, cpu, mem in rows:
            assert ("/" in cpu and "/" in mem) == (key in running)


async def test_one_jobs_allocations_without_the_job_column(sim: Sim) -> None:
    async with allocs_app(sim, job_id=JOB).run_test(size=(160, 36)) as pilot:
        mine = {a["ID"] for a in sim.state.allocs.values() if a["JobID"] == JOB}
        await until(pilot, lambda: set(keys(pilot)) == mine)
        assert "job" not in [c.key for c in table(pilot).spec]


async def test_filter_narrows_inverts_and_escape_clears(sim: Sim) -> None:
    async with allocs_app(sim).run_test(size=(160, 36)) as pilot:
        everything = len(sim.state.allocs)
        await until(pilot, lambda: len(keys(pilot)) == everything)
        await pilot.press("slash", *"complete")
        await until(pilot, lambda: set(column(pilot, "client")) == {"complete"})
        await pilot.press("enter", "slash", "home", "!")
        await until(pilot, lambda: "complete" not in column(pilot, "client"))
        await pilot.press("escape")
        await until(pilot, lambda: len(keys(pilot)) == everything)


async def test_sort_by_node_then_reversed(sim: Sim) -> None:
    async with allocs_app(sim).run_test(size=(160, 36)) as pilot:
        await until(pilot, lambda: len(keys(pilot)) == len(sim.state.allocs))
        await pilot.press("N")
        nodes = column(pilot, "node")
        assert nodes == sorted(nodes)
        await pilot.press("N")
        assert column(pilot, "node") == sorted(nodes, reverse=True)


async def test_enter_opens_the_allocation_and_l_e_open_logs(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    app = allocs_app(sim)
    async with app.run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AllocScreen))
        assert app.screen.alloc_id == alloc  # type: ignore[attr-defined]
        app.pop_screen()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen))
        assert app.opened[-1].params == {"alloc_id": alloc, "task": "http", "stream": "stderr"}
        app.pop_screen()
        await pilot.press("l")
        await until(pilot, lambda: app.opened[-1].params.get("stream") == "stdout")


async def test_restart_asks_then_restarts_in_the_sim(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    before = sim.state.allocs[alloc]["TaskStates"]["http"]["Restarts"]
    app = allocs_app(sim)
    async with app.run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert sim.state.allocs[alloc]["TaskStates"]["http"]["Restarts"] == before
        await pilot.press("r", "y")
        await until(
            pilot, lambda: sim.state.allocs[alloc]["TaskStates"]["http"]["Restarts"] > before
        )
        # ... and the table shows it through the watch.
        row = keys(pilot).index(alloc)
        await until(pilot, lambda: column(pilot, "restarts")[row] == str(before + 1))


async def test_stop_asks_then_stops_in_the_sim(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    app = allocs_app(sim)
    async with app.run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await pilot.press("x", "y")
        await until(pilot, lambda: sim.state.allocs[alloc]["DesiredStatus"] == "stop")
        await until(pilot, lambda: "stop" in shown_desired(pilot, alloc))
        # A stopped allocation cannot be stopped, restarted or entered again.
        await pilot.pause(0.1)
        assert not {"stop", "restart", "shell"} & shown_actions(pilot)


def shown_desired(pilot: Pilot[None], alloc: str) -> str:
    return column(pilot, "desired")[keys(pilot).index(alloc)]


async def test_read_only_hides_and_refuses_changes(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    app = allocs_app(sim, read_only=True)
    async with app.run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        actions = shown_actions(pilot)
        assert "logs('stdout')" in actions and "copy_cli" in actions
        assert not {"restart", "stop", "shell", "copy_in"} & actions
        await pilot.press("r", "x", "s", "c")
        assert isinstance(app.screen, AllocsScreen)  # no confirmation was even asked
        screen = app.screen
        screen.action_stop()  # called directly, it refuses and says why
        await pilot.pause()
        assert sim.state.allocs[alloc]["DesiredStatus"] == "run"
        assert any("read-only" in n.message for n in app._notifications)


async def test_c_copies_a_local_file_in_to_its_repo_relative_path(sim: Sim, tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    source = repo / "src" / "app.py"
    source.write_text("print('hi')\n")
    alloc = running_allocs(sim, JOB)[0]
    landed = sim.files.task_dir(alloc, "http") / "src" / "app.py"
    app = allocs_app(sim)
    async with app.run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await pilot.press("c")
        assert isinstance(app.screen, CopyInPrompt)
        # The start of the path, then Tab completes it; the destination follows.
        app.screen.query_one("#source", Input).value = str(repo / "src" / "a")
        await pilot.press("p", "tab")
        await until(pilot, lambda: app.screen.query_one("#source", Input).value == str(source))
        assert app.screen.query_one("#dest", Input).value == "src/app.py"
        await pilot.press("enter", "enter")
        await until(pilot, landed.exists)
        await until(pilot, lambda: any("verified" in n.message for n in app._notifications))
    assert landed.read_text() == "print('hi')\n"


def test_path_completion(tmp_path: Path) -> None:
    (tmp_path / "alpha.txt").write_text("")
    (tmp_path / "almanac").mkdir()
    (tmp_path / ".hidden").write_text("")
    assert complete_path("al", tmp_path) == "almanac/"
    assert complete_path("alp", tmp_path) == "alpha.txt"
    assert complete_path("alpha.txt", tmp_path) is None
    assert complete_path("zz", tmp_path) is None
    assert complete_path(".h", tmp_path) == ".hidden"
    assert complete_path(f"{tmp_path}/alm") == f"{tmp_path}/almanac/"


async def test_y_copies_the_nomad_command(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with allocs_app(sim).run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await pilot.press("y")
        assert pilot.app.clipboard == f"nomad alloc status {alloc}"


async def test_o_opens_the_allocations_url_and_hides_without_one(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(AllocsScreen, "open_browser", staticmethod(opened.append))
    alloc = running_allocs(sim, JOB)[0]
    async with allocs_app(sim, consul=True).run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await until(pilot, lambda: "open_url" in shown_actions(pilot))
        await pilot.press("o")
        await until(pilot, lambda: bool(opened))
        assert opened[0].startswith("https://") and JOB in opened[0]
        batch = next(a["ID"] for a in sim.state.allocs.values() if a["JobType"] == "batch")
        await select(pilot, batch)
        assert "open_url" not in shown_actions(pilot)


@contextlib.contextmanager
def no_suspend() -> Iterator[None]:
    yield


async def test_s_hands_the_terminal_to_a_shell_and_reports_its_exit(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, str, str]] = []

    def fake_shell(http: Any, alloc_id: str, task: str) -> int:
        calls.append((http, alloc_id, task))
        return 3

    monkeypatch.setattr(AllocsScreen, "shell_runner", staticmethod(fake_shell))
    alloc = running_allocs(sim, JOB)[0]
    app = allocs_app(sim)
    async with app.run_test(size=(160, 36)) as pilot:
        monkeypatch.setattr(app, "suspend", no_suspend)  # Pilot has no terminal to give
        await select(pilot, alloc)
        await pilot.press("s")
        assert [(c[1], c[2]) for c in calls] == [(alloc, "http")]
        assert calls[0][0] is app.store.nomad.http  # type: ignore[union-attr]
        assert any("exited with code 3" in n.message for n in app._notifications)


async def test_t_starts_a_tunnel_to_the_allocations_port_via_its_node(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nomtui.actions.tunnel import Tunnel

    calls: list[tuple[Any, ...]] = []

    def fake_tunnel(host: str, local: int | None, rhost: str, rport: int, **kw: Any) -> Tunnel:
        calls.append((host, local, rhost, rport))
        return Tunnel("t1", 1, "", host, 43210, rhost, rport, 0.0, "")

    monkeypatch.setattr(alloc_actions, "start_tunnel", fake_tunnel)
    alloc = running_allocs(sim, JOB)[0]
    raw = sim.state.allocs[alloc]
    port = raw["AllocatedResources"]["Shared"]["Ports"][0]
    app = allocs_app(sim)
    async with app.run_test(size=(160, 36)) as pilot:
        await select(pilot, alloc)
        await pilot.press("t")
        await until(pilot, lambda: bool(calls))
        assert calls == [(raw["NodeName"], None, port["HostIP"], port["Value"])]
        await until(pilot, lambda: any("127.0.0.1:43210" in n.message for n in app._notifications))
