"""A screen covered by another one does no work: its timers and polls stop, and after a
short linger it lets go of its store views (their watches stop unless shared); back on
top it follows them again. A dialog over it (help) changes nothing: it stays in sight."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from textual.screen import Screen

from nomtui.store import AllocsView, JobsView, ServicesView
from nomtui.store.sources import ALLOCS_BRIEF, CONSUL_CHECKS
from nomtui.tui.app import NomtuiApp
from nomtui.tui.help import HelpScreen
from nomtui.tui.screens import allocs as allocs_module
from nomtui.tui.screens import base
from nomtui.tui.screens.allocs import AllocsScreen
from nomtui.tui.screens.job import JobScreen
from nomtui.tui.screens.jobs import JobsScreen
from tests.tui.alloc_support import NOW_NS, ScreenApp, running_allocs, still_sim
from tests.tui.core_app import app_for, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

HELLO = "internetarchive-hello-js"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    still_sim(sim_config)
    return sim_config


@pytest.fixture(autouse=True)
def short_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "LINGER_S", 0.3)


async def jobs_screen(pilot: Pilot[None]) -> JobsScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, JobsScreen) and bool(app.screen.jobs))
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def test_a_covered_screen_lets_go_of_its_views_and_takes_them_back(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(140, 30)) as pilot:
        app = pilot.app
        assert isinstance(app, NomtuiApp)
        jobs = await jobs_screen(pilot)
        store = app.store
        brief = AllocsView("*", task_states=False)
        assert {JobsView("*"), brief, ServicesView()} <= set(store.running())
        rows = jobs.table.row_count
        app.open("job", namespace="default", job_id=HELLO)
        await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.detail)
        assert not jobs.shown.is_set()
        await until(pilot, lambda: JobsView("*") not in store.running())
        running = set(store.running())
        assert brief not in running
        # What others still need stays: the header's allocations, the job screen's Consul.
        assert {ALLOCS_BRIEF, ServicesView(), CONSUL_CHECKS} <= running
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is jobs and JobsView("*") in store.running())
        assert jobs.shown.is_set()
        await until(pilot, lambda: jobs.table.row_count == rows)
        # Live again: a stop made now shows in the table.
        await store.stop_job(HELLO, "default")
        await until(pilot, lambda: jobs.jobs[f"default/{HELLO}"].Stop)


async def test_a_dialog_leaves_the_screen_under_it_working(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(140, 30)) as pilot:
        app = pilot.app
        assert isinstance(app, NomtuiApp)
        jobs = await jobs_screen(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await asyncio.sleep(3 * base.LINGER_S)
        assert jobs.shown.is_set() and JobsView("*") in app.store.running()


async def test_a_covered_allocations_screen_reads_no_stats(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allocs_module, "USAGE_REFRESH_S", 0.05)
    app = ScreenApp(sim, lambda store: AllocsScreen(store, clock=lambda: NOW_NS, job_id=HELLO))
    async with app.run_test(size=(160, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, AllocsScreen)
        await until(pilot, lambda: len(screen.usage) == len(running_allocs(sim, HELLO)))
        assert app.store is not None
        nomad = app.store.nomad
        calls: list[str] = []
        real = nomad.alloc_stats

        async def counted(alloc_id: str, task: str | None = None) -> Any:
            calls.append(alloc_id)
            return await real(alloc_id, task)

        monkeypatch.setattr(nomad, "alloc_stats", counted)
        await until(pilot, lambda: len(calls) > 0)  # polled while in sight
        await app.push_screen(Screen())
        await until(pilot, lambda: not screen.shown.is_set())
        await pilot.pause(0.3)  # a round that had started may finish
        covered = len(calls)
        await asyncio.sleep(0.5)  # ten rounds' worth
        assert len(calls) == covered
        app.pop_screen()
        await until(pilot, lambda: len(calls) > covered)
