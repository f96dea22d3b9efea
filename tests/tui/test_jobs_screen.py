"""Pilot tests of the jobs screen against the simulated cluster (no mocked HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from rich.text import Text

from nomtui.client.nomad import NomadClient
from nomtui.models.jobs import JobStub
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from nomtui.tui.header import ConnectionState
from nomtui.tui.help import HelpScreen
from nomtui.tui.screens.job import JobScreen
from nomtui.tui.screens.jobs import JobExtras, JobsScreen, format_age, job_cells, public_url
from nomtui.tui.widgets.tree_table import TreeTable
from tests.tui.core_app import NOW_NS, app_for, names, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim


def table(pilot: Pilot[None]) -> TreeTable:
    return pilot.app.screen.query_one("#jobs", TreeTable)


def cell(t: TreeTable, row: str, column: str) -> str:
    """The text of a cell, or "" while the row is not there yet."""
    if row not in t.shown_keys:
        return ""
    return t.get_row(row)[[c.key for c in t.spec].index(column)].plain


# -- pure helpers -------------------------------------------------------------------------


def test_format_age() -> None:
    assert format_age(42) == "42s"
    assert format_age(303) == "5m3s"
    assert format_age(3 * 86400 + 7200) == "3d2h"


def test_cells_are_sanitised_text_not_markup() -> None:
    stub = JobStub(ID="evil\x1b]0;owned\x07[bold red]x[/]", Name="evil\x1b[2J[bold]x[/]")
    cells = job_cells(stub, NOW_NS, JobExtras(url="https://x\x1b[2J.example"))
    assert all(isinstance(c, Text) for c in cells)
    assert not any("\x1b" in c.plain for c in cells)
    assert "[bold]" in cells[0].plain  # shown literally, not applied as markup


def test_public_url_skips_canary_and_plain_tags() -> None:
    tags = ["urlprefix-/", "https://canary-hello.example", "https://hello.example"]
    assert public_url(tags) == "https://hello.example"
    assert public_url(["http://x"]) == ""


# -- against the sim ----------------------------------------------------------------------


async def test_demo_jobs_appear_and_header_goes_live(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "www-nomad" in names(table(pilot)))
        assert isinstance(app.screen, JobsScreen)
        assert {"services-pyhi", "ops-grafana"} <= set(names(table(pilot)))
        await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE)
        await until(pilot, lambda: app.cluster.leader.endswith(":4647"))


async def test_url_health_and_version_columns(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(200, 40)) as pilot:
        t = table(pilot)
        await until(pilot, lambda: "https://" in cell(t, "default/www-nomad", "url"))
        url = cell(t, "default/www-nomad", "url")
        assert url.startswith("https://") and "canary" not in url
        await until(pilot, lambda: cell(t, "default/services-pyhi", "health") == "✓3")
        # the crash-looping job's instance fails its check
        await until(pilot, lambda: "✗" in cell(t, "default/services-scribe-api", "health"))
        # the canary deployment placed version 1
        await until(pilot, lambda: cell(t, "default/internetarchive-hello-js", "version") == "1")


async def test_children_fold_under_their_parent(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        t = table(pilot)
        parent = "default/services-nightly-backup"
        await until(pilot, lambda: parent in t.shown_keys)
        assert not any(k.startswith(f"{parent}/") for k in t.shown_keys)
        assert t.get_row(parent)[0].plain.endswith("+3")
        t.move_cursor(row=t.shown_keys.index(parent))
        await pilot.press("space")
        keys = t.shown_keys
        at = keys.index(parent)
        children = keys[at + 1 : at + 4]
        assert all(k.startswith(f"{parent}/periodic-") for k in children)
        assert all(t.get_row(k)[0].plain.startswith("  └ periodic-") for k in children)
        # sorting keeps the children under their parent
        await pilot.press("o")
        keys = t.shown_keys
        assert keys[keys.index(parent) + 1].startswith(f"{parent}/")
        # ← on a child folds its parent and leaves the cursor on the parent
        t.move_cursor(row=t.shown_keys.index(children[0]))
        await pilot.press("left")
        assert t.selected_key == parent
        assert not any(k.startswith(f"{parent}/") for k in t.shown_keys)


async def test_filter_shows_folded_children(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        t = table(pilot)
        await until(pilot, lambda: "default/services-thumbnailer" in t.shown_keys)
        await pilot.press("slash", *"dispatch")
        await until(pilot, lambda: len(t.shown_keys) == 1)
        assert t.shown_keys[0].startswith("default/services-thumbnailer/dispatch-")


async def test_sort_by_column_and_reverse(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        t = table(pilot)
        await until(pilot, lambda: "www-nomad" in names(t))
        await pilot.press("o", "o")  # the default is namespace; then type, then status
        assert t.sort_columns == ("status",)
        await pilot.press("o", "o", "o", "o", "o")  # groups, allocs, health, version, submitted
        assert t.sort_columns == ("submitted",)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        submitted = [screen.jobs[k].SubmitTime for k in t.shown_keys]
        assert submitted == sorted(submitted, reverse=True)  # youngest first, like ages
        await pilot.press("O")
        assert t.sort_reverse
        submitted = [screen.jobs[k].SubmitTime for k in t.shown_keys]
        assert submitted == sorted(submitted)
        assert "▼" in str(t.columns["submitted"].label)  # type: ignore[index]


async def test_enter_opens_the_job(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        t = table(pilot)
        await until(pilot, lambda: "www-wiki" in names(t))
        t.move_cursor(row=names(t).index("www-wiki"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        assert app.opened[-1] == ("job", {"namespace": "default", "job_id": "www-wiki"})


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
        # with no filter left, Esc is the app's "back", and there is nothing to go back to
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen) and app.is_running


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
        await until(pilot, lambda: app.cluster.state is ConnectionState.RECONNECTING)
        sim.injector.faults.error_rate = 0.0
        await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE, timeout=20)


async def test_help_lists_binding_ids(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "www-nomad" in names(table(pilot)))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {"app.quit", "app.command", "jobs.filter", "jobs.open", "jobs.sort"} <= ids
        assert "jobs.fold" not in ids  # the selection (first row) has no children


async def test_q_quits(sim: Sim) -> None:
    app = app_for(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "www-nomad" in names(table(pilot)))
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_a_bad_address_exits_with_one_line() -> None:
    def factory() -> Store:
        return Store(NomadClient("not a url"), None, read_only=False)

    app = NomtuiApp(factory, clock=lambda: NOW_NS)
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == 1


async def test_an_age_refresh_rebuilds_only_the_rows_whose_text_changed(sim: Sim) -> None:
    now = [NOW_NS]
    app = app_for(sim, clock=lambda: now[0])
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "www-nomad" in names(table(pilot)))
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        screen.refresh_rows()
        built = screen.row_cells.built
        screen.refresh_rows()  # same data, same clock: every row is reused
        assert screen.row_cells.built == built
        keys = table(pilot).shown_keys
        ages = [cell(table(pilot), key, "submitted") for key in keys]
        now[0] += 400 * 86400 * 10**9  # a year and more later: every age text changes
        screen.refresh_rows()
        changed = sum(
            cell(table(pilot), key, "submitted") != age for key, age in zip(keys, ages, strict=True)
        )
        assert changed and screen.row_cells.built == built + changed
