"""SVG snapshots of the allocation screens: seeded sim, fixed clocks, fixed log content.

The sim runs in its own thread (`sim_thread`) because `snap_compare` runs the app on
its own event loop. Nothing random reaches the screen: the header shows a fixed
address instead of the sim's port, and IDs come from the seed. The allocations
snapshot shows one job: the demo's dispatched child job gets a random suffix.

Regenerate after an intended change: `pytest tests/tui/test_snapshots_allocs.py
--snapshot-update`, then look at the SVGs before committing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from nomtui.tui.screens import alloc as alloc_module
from nomtui.tui.screens.alloc import AllocScreen
from nomtui.tui.screens.allocs import AllocsScreen
from nomtui.tui.screens.logs import LogsScreen
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.log_view import LogView
from nomtui.tui.widgets.sparkline import Spark
from tests.tui.alloc_support import NOW_NS, ScreenApp, running_allocs, still_sim, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

JOB = "internetarchive-hello-js"
SnapCompare = Any


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still_sim(sim_config)


def test_allocs_of_a_job(snap_compare: SnapCompare, sim_thread: Sim) -> None:
    wanted = {a["ID"] for a in sim_thread.state.allocs.values() if a["JobID"] == JOB}
    app = ScreenApp(
        sim_thread,
        lambda store: AllocsScreen(store, clock=lambda: NOW_NS, namespace="default", job_id=JOB),
    )

    async def loaded(pilot: Pilot[None]) -> None:
        table = pilot.app.screen.query_one("#allocs", LiveTable)
        await until(pilot, lambda: set(table.shown_keys) == wanted)
        cpu = [c.key for c in table.spec].index("cpu")
        # Usage of every running allocation has arrived (the others show a dash).
        await until(
            pilot,
            lambda: (
                sum("/" in table.get_row(k)[cpu].plain for k in table.shown_keys)
                == len(running_allocs(sim_thread, JOB))
            ),
        )

    assert snap_compare(app, terminal_size=(140, 30), run_before=loaded)


def test_alloc_events(
    snap_compare: SnapCompare, sim_thread: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One stats sample, then no more: the sparkline must not depend on timing.
    monkeypatch.setattr(alloc_module, "STATS_S", 3600.0)
    alloc_id = running_allocs(sim_thread, JOB)[0]
    app = ScreenApp(
        sim_thread,
        lambda store: AllocScreen(store, clock=lambda: NOW_NS, alloc_id=alloc_id),
        consul=True,
    )

    async def loaded(pilot: Pilot[None]) -> None:
        spark = pilot.app.screen.query_one("#mem-spark", Spark)
        events = pilot.app.screen.query_one("#events", LiveTable)
        await until(pilot, lambda: len(spark.samples) == 1 and events.row_count > 0)
        await until(pilot, lambda: "open_url" in _actions(pilot))  # Consul answered

    assert snap_compare(app, terminal_size=(120, 36), run_before=loaded)


def test_alloc_checks(snap_compare: SnapCompare, sim_thread: Sim, monkeypatch: Any) -> None:
    monkeypatch.setattr(alloc_module, "STATS_S", 3600.0)
    alloc_id = running_allocs(sim_thread, JOB)[0]
    app = ScreenApp(
        sim_thread,
        lambda store: AllocScreen(store, clock=lambda: NOW_NS, alloc_id=alloc_id),
        consul=True,
    )

    async def loaded(pilot: Pilot[None]) -> None:
        spark = pilot.app.screen.query_one("#mem-spark", Spark)
        await until(pilot, lambda: len(spark.samples) == 1)
        await pilot.press("3")
        body = pilot.app.screen.query_one("#checks-body")
        await until(pilot, lambda: "alive" in str(body.render()))

    assert snap_compare(app, terminal_size=(120, 36), run_before=loaded)


def test_logs_both_streams_searched_and_paused(snap_compare: SnapCompare, sim_thread: Sim) -> None:
    alloc_id = running_allocs(sim_thread, JOB)[0]
    app = ScreenApp(
        sim_thread,
        lambda store: LogsScreen(
            store, clock=lambda: NOW_NS, alloc_id=alloc_id, task="http", stream="both"
        ),
    )

    def write(stream: str, *texts: str) -> None:
        data = "".join(f"{t}\n" for t in texts).encode()
        sim_thread.files.write_log(alloc_id, "http", stream, data)

    async def loaded(pilot: Pilot[None]) -> None:
        log = pilot.app.screen.query_one("#log", LogView)
        # One stream at a time, each waited for: interleaving is then the same every run.
        steps = [
            ("stdout", [f'10.0.0.{i} "GET /item/{i} HTTP/1.1" 200 {512 * i}' for i in range(20)]),
            ("stderr", ["WARNING slow upstream: 1.8s", "ERROR upstream timed out (item 21)"]),
            ("stdout", ['10.0.0.9 "GET /healthz HTTP/1.1" 200 2', "\x1b[31mcolour is stripped"]),
            ("stderr", ["ERROR retry 1 failed", "\tat handler (app.js:42)"]),
        ]
        total = 0
        for stream, texts in steps:
            write(stream, *texts)
            total += len(texts)
            await until(pilot, lambda n=total: len(log.buffer) == n)  # type: ignore[misc]
        await pilot.press("slash", *"error", "enter")
        # let the search highlight and the pause marker settle, even on a loaded machine
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=(120, 36), run_before=loaded)


def _actions(pilot: Pilot[None]) -> set[str]:
    return {b.binding.action for b in pilot.app.screen.active_bindings.values()}
