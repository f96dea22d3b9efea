"""Pilot tests of the job and deployments screens on the sim: tabs, actions and their
effect in the sim, confirmations (typed on production), read-only, and the pure pieces."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from rich.console import Console
from textual.css.query import NoMatches
from textual.widgets import Static

from nomtui.errors import ReadOnlyRefused
from nomtui.models.allocs import AllocMetric
from nomtui.tui.screens.deployments import DeploymentsScreen
from nomtui.tui.screens.job import JobScreen
from nomtui.tui.screens.job_render import placement_failure, redact
from nomtui.tui.screens.job_versions import compare, local_diff, nomad_diff
from nomtui.tui.widgets.confirm import ConfirmScreen
from nomtui.tui.widgets.live_table import LiveTable
from tests.tui.core_app import RecordingApp, app_for, screen_svg, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim

HELLO = "internetarchive-hello-js"


async def open_job(pilot: Pilot[None], job_id: str, namespace: str = "default") -> JobScreen:
    app = pilot.app
    assert isinstance(app, RecordingApp)
    await until(pilot, lambda: len(app.screen_stack) == 2)
    app.open("job", namespace=namespace, job_id=job_id)
    await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.detail is not None)
    screen = app.screen
    assert isinstance(screen, JobScreen)
    return screen


def static_text(screen: JobScreen, widget_id: str) -> str:
    """What a Static shows, as plain text (Rich renderables rendered, styles dropped)."""
    console = Console(width=200, record=True, file=io.StringIO())
    try:
        console.print(screen.query_one(f"#{widget_id}", Static).content)
    except NoMatches:
        return ""  # not composed yet
    return console.export_text()


def sim_deployment(sim: Sim, job_id: str) -> dict[str, Any]:
    deps = [d for d in sim.state.deployments.values() if d["JobID"] == job_id]
    return max(deps, key=lambda d: d["CreateIndex"])


def keys(app: RecordingApp) -> set[str]:
    return {b.binding.id or "" for b in app.screen.active_bindings.values()}


# -- pure pieces --------------------------------------------------------------------------


def test_local_diff_matches_named_lists_and_skips_bookkeeping() -> None:
    old = {
        "Version": 0,
        "ModifyIndex": 5,
        "TaskGroups": [{"Name": "web", "Count": 1, "Tasks": [{"Name": "http", "Env": None}]}],
    }
    new = {
        "Version": 3,
        "ModifyIndex": 9,
        "Meta": {"owner": "ops"},
        "TaskGroups": [{"Name": "web", "Count": 2, "Tasks": [{"Name": "http", "Env": {"A": "1"}}]}],
    }
    changes = {(c.path, c.kind, c.old, c.new) for c in local_diff(old, new)}
    assert changes == {
        ("Meta", "added", "", '{"owner": "ops"}'),
        ("TaskGroups[web].Count", "edited", "1", "2"),
        ("TaskGroups[web].Tasks[http].Env", "added", "", '{"A": "1"}'),
    }


def test_nomad_diff_is_flattened_and_compare_picks_it_for_neighbours() -> None:
    diff = {
        "Type": "Edited",
        "TaskGroups": [
            {
                "Type": "Edited",
                "Name": "web",
                "Tasks": [
                    {
                        "Type": "Edited",
                        "Name": "http",
                        "Objects": [
                            {
                                "Type": "Edited",
                                "Name": "Config",
                                "Fields": [
                                    {"Type": "Edited", "Name": "image", "Old": "a", "New": "b"}
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    [change] = nomad_diff(diff)
    assert change.path == "TaskGroups[web].Tasks[http].Config.image"
    versions = [{"Version": 2, "X": 3}, {"Version": 1, "X": 2}, {"Version": 0, "X": 1}]
    assert compare(versions, [diff, {}], 1, 2)[1] == "Nomad's diff"
    changes, source = compare(versions, [diff, {}], 0, 2)
    assert source == "compared locally"
    assert [(c.path, c.old, c.new) for c in changes] == [("X", "1", "3")]


def test_spec_redaction_masks_secrets_and_strips_controls() -> None:
    spec = {"VaultToken": "s.abc", "Env": {"API_TOKEN": "t0k", "NAME": "x\x1b]52;c;Zm9v\x07y"}}
    shown = redact(spec)
    assert shown == {"VaultToken": "<redacted>", "Env": {"API_TOKEN": "<redacted>", "NAME": "xy"}}


def test_placement_failure_reads_like_nomad() -> None:
    metric = AllocMetric(
        NodesEvaluated=3, NodesExhausted=3, DimensionExhausted={"memory": 3}, CoalescedFailures=4
    )
    lines = [line.plain for line in placement_failure("web", metric)]
    assert lines[0] == '  Task group "web" (failed to place 5 allocations):'
    assert '    * Dimension "memory" exhausted on 3 nodes' in lines


# -- the job screen -----------------------------------------------------------------------


async def test_summary_shows_groups_and_allocations_and_enter_opens_one(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_job(pilot, "services-pyhi")
        table = screen.allocs_table
        await until(pilot, lambda: len(table.shown_keys) >= 3)
        assert "services-pyhi" in static_text(screen, "job-summary")
        table.focus()
        await pilot.press("down", "enter")
        assert app.opened[-1] == ("alloc", {"alloc_id": table.selected_key})
        # Esc goes back to the jobs screen
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, JobScreen))


async def test_tabs_by_number_and_panes_render(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_job(pilot, HELLO)
        await pilot.press("2")
        assert screen.active_tab == "deployment"
        assert "awaiting" in static_text(screen, "deployment-body") or "waiting" in static_text(
            screen, "deployment-body"
        )
        await pilot.press("4")
        await until(pilot, lambda: screen.spec is not None)
        assert '"ID": "internetarchive-hello-js"' in static_text(screen, "spec-body")
        await pilot.press("5")
        services = static_text(screen, "services-body")
        assert f"https://{HELLO}.dev.archive.org" in services
        assert "canary URL" in services
        await until(pilot, lambda: "passing" in static_text(screen, "services-body"))
        await pilot.press("6")
        await until(pilot, lambda: "job-register" in static_text(screen, "evaluations-body"))
        # filtering makes no sense on a tab without a table: the key is hidden there
        assert "job.filter" not in keys(app)


async def test_versions_diff_any_two_and_revert(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_job(pilot, HELLO)
        await pilot.press("3")
        table = screen.query_one("#versions-table", LiveTable)
        await until(pilot, lambda: table.shown_keys == ["1", "0"])
        diff = static_text(screen, "diff-body")
        assert "version 0 → version 1" in diff and "hello-js:v1.5.0" in diff
        assert "job.revert" not in keys(app)  # the highlighted version is the current one
        await pilot.press("down")
        assert "job.revert" in keys(app)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: sim.state.jobs[("default", HELLO)]["Version"] == 2)
        image = sim.state.jobs[("default", HELLO)]["TaskGroups"][0]["Tasks"][0]["Config"]["image"]
        assert image.endswith(":v1.4.0")
        await until(pilot, lambda: table.shown_keys[:1] == ["2"])
        # mark version 2 as the base, then compare version 0 with it (not neighbours)
        table.move_cursor(row=0)
        await pilot.press("space")
        assert screen.diff_base == 2
        table.move_cursor(row=2)
        await pilot.pause()
        assert "version 2 → version 0" in static_text(screen, "diff-body")


async def test_promote_from_the_job_screen_reaches_the_sim(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_job(pilot, HELLO)
        await until(pilot, lambda: "job.promote" in keys(app))
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: sim_deployment(sim, HELLO)["TaskGroups"][HELLO]["Promoted"])
        # once promoted, promote is no longer offered
        await until(pilot, lambda: "job.promote" not in keys(app))


async def test_cancel_leaves_the_deployment_alone(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_job(pilot, HELLO)
        await until(pilot, lambda: "job.fail" in keys(app))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        assert sim_deployment(sim, HELLO)["Status"] == "running"


async def test_production_needs_the_job_name_typed(sim: Sim) -> None:
    app = app_for(sim, production=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_job(pilot, HELLO)
        await until(pilot, lambda: "job.fail" in keys(app))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        dep_id = sim_deployment(sim, HELLO)["ID"]
        await pilot.press("y", "enter")  # a reflex does nothing: y is typed, the name is wrong
        assert app.screen is confirm
        assert sim.state.deployments[dep_id]["Status"] == "running"
        await pilot.press("backspace", *HELLO, "enter")
        # (auto_revert then starts a deployment of the previous version: look at this one)
        await until(pilot, lambda: sim.state.deployments[dep_id]["Status"] == "failed")


async def test_read_only_hides_every_mutation_and_the_store_refuses(sim: Sim) -> None:
    app = app_for(sim, read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_job(pilot, HELLO)
        await pilot.pause(0.2)
        assert not {"job.promote", "job.fail"} & keys(app)
        await pilot.press("3")
        await until(pilot, lambda: len(screen.query_one("#versions-table", LiveTable).shown_keys))
        await pilot.press("down")
        assert "job.revert" not in keys(app)
        await pilot.press("p", "f", "R")  # hidden keys do nothing
        assert isinstance(app.screen, JobScreen)
        assert "read-only" in screen_svg(app)
        dep_id = sim_deployment(sim, HELLO)["ID"]
        with pytest.raises(ReadOnlyRefused):
            await app.store.promote(dep_id)


async def test_placement_failures_are_explained(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_job(pilot, "services-pyhi")
        await pilot.press("6")
        async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
            await c.post(
                f"{sim.nomad_addr}/v1/job/services-pyhi/scale",
                json={"Count": 500, "Target": {"Group": "services-pyhi"}},
            )
        await until(pilot, lambda: "failed to place" in static_text(screen, "evaluations-body"))
        assert "exhausted" in static_text(screen, "evaluations-body")


async def test_unknown_job_says_so(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: len(app.screen_stack) == 2)
        app.open("job", namespace="default", job_id="no-such-job")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        screen = app.screen
        assert isinstance(screen, JobScreen)
        await until(pilot, lambda: "not" in static_text(screen, "job-summary").lower(), 10)


# -- the deployments screen ---------------------------------------------------------------


async def test_deployments_screen_lists_promotes_and_opens(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: len(app.screen_stack) == 2)
        app.open("deployments")
        await until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        screen = app.screen
        assert isinstance(screen, DeploymentsScreen)
        await until(pilot, lambda: screen.query("#deployments"))  # composed
        table = screen.main_table
        await until(pilot, lambda: len(table.shown_keys) >= 10)
        waiting = sim_deployment(sim, HELLO)["ID"]
        table.move_cursor(row=table.shown_keys.index(waiting))
        await pilot.pause()
        assert {"deployments.promote", "deployments.fail"} <= keys(app)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: sim.state.deployments[waiting]["TaskGroups"][HELLO]["Promoted"])
        # a finished deployment offers neither action
        done = next(
            k for k in table.shown_keys if sim.state.deployments[k]["Status"] == "successful"
        )
        table.move_cursor(row=table.shown_keys.index(done))
        await pilot.pause()
        assert not {"deployments.promote", "deployments.fail"} & keys(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
