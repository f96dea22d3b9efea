"""On a cluster marked production, stopping or restarting an allocation and draining a
node need its name typed: `y`, Enter on a wrong name or Esc change nothing in the sim.
`nomtui resubmit --stop-first` asks for the job's name the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.css.query import NoMatches
from textual.widgets import Input

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.commands import resubmit
from nomtui.config.secret import Secret
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from nomtui.tui.widgets.confirm import ConfirmScreen
from nomtui.tui.widgets.live_table import LiveTable
from tests.commands import base_env, invoke

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

JOB = "www-nomad"
NODE = "nomad-dc1-01"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


def production_app(sim: Sim) -> NomtuiApp:
    def store() -> Store:
        nomad = NomadClient(sim.nomad_addr, Secret(sim.management_token))
        consul = ConsulClient(sim.consul_addr, None)
        return Store(nomad, consul, read_only=False, wait_s=2, min_interval_s=0.05)

    return NomtuiApp(store, address="https://nomad.prod.example:4646", production=True)


async def until(pilot: Pilot[None], check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def select(pilot: Pilot[None], table_id: str, key: str) -> None:
    def shown() -> bool:
        try:
            return key in pilot.app.screen.query_one(table_id, LiveTable).shown_keys
        except NoMatches:
            return False

    await until(pilot, shown)
    table = pilot.app.screen.query_one(table_id, LiveTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()


async def refuse_then_confirm(
    pilot: Pilot[None], key: str, name: str, unchanged: Callable[[], bool]
) -> None:
    """Every way of not typing the name leaves the sim as it was; the name goes ahead."""
    app = pilot.app
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    confirm = app.screen
    box = confirm.query_one(Input)
    # The reflex `y` (only a letter here), wrong text, almost the name, a bit more.
    wrong = ["y", "wrong", name[:-1], name + "x", f" {name[1:]}", name.upper()]
    for typed in [w for w in wrong if w.strip() != name]:
        box.value = ""
        await pilot.press(*typed, "enter")
        await pilot.pause(0.2)
        assert app.screen is confirm and unchanged(), typed
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
    await pilot.pause(0.3)
    assert unchanged()
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await pilot.press(*name, "enter")


def running_alloc(sim: Sim) -> str:
    return next(
        str(a["ID"])
        for a in sim.state.allocs.values()
        if a["JobID"] == JOB and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    )


async def test_stopping_an_allocation_needs_its_id_typed(sim: Sim) -> None:
    alloc = running_alloc(sim)
    app = production_app(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        app.open("allocs", job_id=JOB)
        await select(pilot, "#allocs", alloc)

        def still() -> bool:
            return bool(sim.state.allocs[alloc]["DesiredStatus"] == "run")

        await refuse_then_confirm(pilot, "x", alloc[:8], still)
        await until(pilot, lambda: not still())


async def test_restarting_an_allocation_needs_its_id_typed(sim: Sim) -> None:
    alloc = running_alloc(sim)

    def restarts() -> int:
        return int(sim.state.allocs[alloc]["TaskStates"]["http"]["Restarts"])

    before = restarts()
    app = production_app(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        app.open("allocs", job_id=JOB)
        await select(pilot, "#allocs", alloc)
        await refuse_then_confirm(pilot, "r", alloc[:8], lambda: restarts() == before)
        await until(pilot, lambda: restarts() > before)


async def test_draining_a_node_needs_its_name_typed(sim: Sim) -> None:
    node = next(i for i, n in sim.state.nodes.items() if n["Name"] == NODE)
    app = production_app(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        app.open("nodes")
        await select(pilot, "#nodes", node)
        await refuse_then_confirm(pilot, "d", NODE, lambda: not sim.state.nodes[node]["Drain"])
        await until(pilot, lambda: sim.state.nodes[node]["Drain"] is True)


def production_cluster(home: Path, sim: Sim) -> dict[str, str | None]:
    toml = home / ".config" / "nomtui" / "config.toml"
    toml.parent.mkdir(parents=True)
    toml.write_text(
        "[clusters.prod]\n"
        f'address = "{sim.nomad_addr}"\n'
        'token_env = "PROD_TOKEN"\n'
        "production = true\n"
    )
    env = base_env(home)
    env["PROD_TOKEN"] = sim.management_token
    return env


@pytest.mark.parametrize("typed", ["y", "", "www", f"{JOB} extra"])
def test_stop_first_on_production_needs_the_job_name(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    monkeypatch.setattr(resubmit, "_interactive", lambda: True)  # a person at a terminal
    env = production_cluster(tmp_path, sim_thread)
    version = sim_thread.state.job("default", JOB)["Version"]  # type: ignore[index]
    ran = invoke(env, "--cluster", "prod", "resubmit", JOB, "--stop-first", input=typed + "\n")
    assert ran.code == 1 and "Type the job name" in ran.out
    job = sim_thread.state.job("default", JOB)
    assert job is not None and not job["Stop"] and job["Version"] == version


def test_stop_first_goes_ahead_with_the_name(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resubmit, "_interactive", lambda: True)
    env = production_cluster(tmp_path, sim_thread)
    ran = invoke(
        env,
        "--cluster",
        "prod",
        "resubmit",
        JOB,
        "--stop-first",
        "--stop-wait",
        "0",
        input=JOB + "\n",
    )
    assert ran.code == 0, ran.err
    assert "Stopped job www-nomad" in ran.out and "Resubmitted job www-nomad" in ran.out
