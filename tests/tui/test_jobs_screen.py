"""Pilot tests of the Jobs screen: against a scripted fake API, then against the sim."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from rich.text import Text
from textual.widgets import DataTable, Input

from nomtui.client.http import HttpClient
from nomtui.client.nomad import NomadClient
from nomtui.models.jobs import JobStub
from nomtui.tui.app import HelpScreen, NomtuiApp
from nomtui.tui.header import ClusterHeader, ConnectionState
from nomtui.tui.screens.jobs import JobsScreen, JobsUpdated, format_age, job_cells

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim

NOW_NS = 1_764_000_000_000_000_000
ADDR = "http://127.0.0.1:4646"


def _job(job_id: str, ns: str = "default", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ID": job_id,
        "Name": job_id,
        "Namespace": ns,
        "Type": "service",
        "Status": "running",
        "SubmitTime": NOW_NS - 125 * 10**9,
        "JobSummary": {"Summary": {"web": {"Running": 2, "Queued": 1, "Failed": 0}}},
    }
    body.update(extra)
    return body


class FakeNomad:
    """Just enough Nomad for the jobs screen, with real blocking-query semantics."""

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        self.jobs = jobs
        self.index = 10
        self.fail = False
        self.changed = asyncio.Event()

    def set_jobs(self, jobs: list[dict[str, Any]]) -> None:
        self.jobs = jobs
        self.index += 1
        self.changed.set()
        self.changed = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail:
            return httpx.Response(500, text="No cluster leader")
        path = request.url.path
        if path == "/v1/status/leader":
            return httpx.Response(200, json="127.0.0.1:4647")
        if path == "/v1/agent/self":
            return httpx.Response(200, json={"config": {"Region": "global", "Version": "1.9.7"}})
        if path == "/v1/jobs":
            since = int(request.url.params.get("index", "0"))
            if since >= self.index:
                # The blocking part; the test makes changes, or the short wait expires.
                waiter = self.changed
                await asyncio.wait([asyncio.ensure_future(waiter.wait())], timeout=2)
                if self.fail:
                    return httpx.Response(500, text="No cluster leader")
            headers = {"X-Nomad-Index": str(self.index), "Content-Type": "application/json"}
            return httpx.Response(200, content=json.dumps(self.jobs).encode(), headers=headers)
        return httpx.Response(404, text="resource not found")


def _app(fake: FakeNomad) -> NomtuiApp:
    def factory() -> NomadClient:
        http = HttpClient(ADDR, "secret-token", transport=httpx.MockTransport(fake))
        return NomadClient(http=http)

    return NomtuiApp(factory, address=ADDR, clock=lambda: NOW_NS, wait_s=2)


def _table(pilot: Pilot[None]) -> DataTable[Text]:
    return pilot.app.screen.query_one("#jobs", DataTable)


def _names(table: DataTable[Text]) -> list[str]:
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


def _cursor_key(table: DataTable[Text]) -> str | None:
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value


async def _until(pilot: Pilot[None], check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


# -- pure helpers --------------------------------------------------------------------------


def test_format_age() -> None:
    assert [format_age(s) for s in (0, 59, 61, 3600, 3725, 90000, 400 * 86400)] == [
        "0s",
        "59s",
        "1m1s",
        "1h",
        "1h2m",
        "1d1h",
        "1y35d",
    ]


def test_cells_are_sanitised_text_not_markup() -> None:
    job = JobStub(ID="x", Name="[bold red]evil\x1b]0;pwned\x07[/]", Namespace="default")
    cells = job_cells(job, NOW_NS)
    assert all(isinstance(c, Text) for c in cells)
    assert cells[0].plain == "[bold red]evil[/]"


# -- against the fake -------------------------------------------------------------------


async def test_rows_update_in_place_and_cursor_follows_its_job() -> None:
    fake = FakeNomad([_job("bravo"), _job("delta"), _job("echo", ns="ops")])
    app = _app(fake)
    async with app.run_test(size=(140, 30)) as pilot:
        table = _table(pilot)
        await _until(pilot, lambda: table.row_count == 3)
        assert _names(table) == ["bravo", "delta", "echo"]
        assert app.cluster.state is ConnectionState.LIVE
        await _until(pilot, lambda: app.cluster.leader == "127.0.0.1:4647")
        row = table.get_row("default/bravo")
        assert [c.plain for c in row] == [
            "bravo",
            "default",
            "service",
            "running",
            "1/1",
            "2/1/0",
            "2m5s",
        ]

        await pilot.press("down")
        assert _cursor_key(table) == "default/delta"

        # A job sorting before the cursor appears, another changes, one goes away.
        fake.set_jobs([_job("alpha"), _job("bravo", Status="dead"), _job("delta")])
        await _until(pilot, lambda: table.row_count == 3 and _names(table)[0] == "alpha")
        assert _names(table) == ["alpha", "bravo", "delta"]
        assert _cursor_key(table) == "default/delta"
        assert table.get_row("default/bravo")[3].plain == "dead"


async def test_filter_narrows_rows_and_escape_restores_them() -> None:
    fake = FakeNomad([_job("www-nomad"), _job("services-pyhi"), _job("hello-js", ns="ia")])
    app = _app(fake)
    async with app.run_test(size=(140, 30)) as pilot:
        table = _table(pilot)
        await _until(pilot, lambda: table.row_count == 3)
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        assert box.has_focus
        await pilot.press(*"PYHI|hel+o")  # a regex, case-insensitive
        assert sorted(_names(table)) == ["hello-js", "services-pyhi"]
        await pilot.press("enter")
        assert table.has_focus and table.row_count == 2
        await pilot.press("slash", "backspace", "backspace", "backspace", "(")  # invalid regex
        assert box.has_class("-invalid") and table.row_count == 0
        await pilot.press("escape")
        assert table.row_count == 3 and not box.display and table.has_focus


async def test_q_in_the_filter_types_instead_of_quitting() -> None:
    app = _app(FakeNomad([_job("quux"), _job("other")]))
    async with app.run_test(size=(140, 30)) as pilot:
        table = _table(pilot)
        await _until(pilot, lambda: table.row_count == 2)
        await pilot.press("slash", "q")
        assert app.is_running and _names(table) == ["quux"]


async def test_reconnecting_is_shown_then_cleared() -> None:
    fake = FakeNomad([_job("a")])
    app = _app(fake)
    async with app.run_test(size=(160, 30)) as pilot:
        table = _table(pilot)
        await _until(pilot, lambda: table.row_count == 1)
        fake.fail = True
        fake.set_jobs([_job("a"), _job("b")])  # wake the blocked query; it now fails
        await _until(pilot, lambda: app.cluster.state is ConnectionState.RECONNECTING)
        header = app.screen.query_one(ClusterHeader)
        assert "reconnecting" in str(header.render())
        assert "No cluster leader" in app.cluster.detail
        assert table.row_count == 1  # the last good data stays on screen
        fake.fail = False
        await _until(pilot, lambda: table.row_count == 2, timeout=20)
        assert app.cluster.state is ConnectionState.LIVE


async def test_help_lists_binding_ids() -> None:
    app = _app(FakeNomad([_job("a")]))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {"app.quit", "app.help", "jobs.filter"} <= ids
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_posted_update_keeps_cursor_and_scroll() -> None:
    fake = FakeNomad([_job(f"job-{i:02d}") for i in range(40)])
    app = _app(fake)
    async with app.run_test(size=(140, 20)) as pilot:
        table = _table(pilot)
        await _until(pilot, lambda: table.row_count == 40)
        for _ in range(25):
            await pilot.press("down")
        key, screen_row = _cursor_key(table), table.cursor_row - table.scroll_y
        jobs = [JobStub(ID=f"aa-{i}", Name=f"aa-{i}") for i in range(3)]
        jobs += [JobStub(ID=f"job-{i:02d}", Name=f"job-{i:02d}") for i in range(40)]
        assert isinstance(app.screen, JobsScreen)
        app.screen.post_message(JobsUpdated(jobs, 99))
        await _until(pilot, lambda: table.row_count == 43)
        assert _cursor_key(table) == key
        assert table.cursor_row - table.scroll_y == screen_row


# -- against the simulated cluster ---------------------------------------------------------


@pytest.mark.timeout(60)
async def test_demo_jobs_appear_from_the_sim(sim: Sim) -> None:
    addr, token = sim.nomad_addr, sim.management_token
    app = NomtuiApp(lambda: NomadClient(addr, token), address=addr, wait_s=5)
    async with app.run_test(size=(160, 50)) as pilot:
        table = _table(pilot)
        await _until(pilot, lambda: table.row_count >= 8, timeout=20)
        names = _names(table)
        for expected in ("www-nomad", "services-pyhi", "internetarchive-hello-js"):
            assert expected in names
        namespaces = {table.get_row_at(i)[1].plain for i in range(table.row_count)}
        assert len(namespaces) >= 2
        await _until(pilot, lambda: bool(app.cluster.leader), timeout=10)
        assert app.cluster.state is ConnectionState.LIVE

        # The sim's cluster keeps changing; the cursor stays on its job meanwhile.
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        while _cursor_key(table) != "default/www-nomad":
            await pilot.press("down")
        seen = screen.index
        await _until(pilot, lambda: screen.index > seen + 1, timeout=20)
        assert _cursor_key(table) == "default/www-nomad"

        await pilot.press("slash", *"hello-js")
        assert 1 <= table.row_count < len(names)
        assert all("hello-js" in n for n in _names(table))


async def test_config_error_stops_the_watch_and_says_why() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no", request=request)

    def factory() -> NomadClient:
        return NomadClient(http=HttpClient(ADDR, transport=httpx.MockTransport(broken)))

    app = NomtuiApp(factory, address=ADDR, clock=lambda: NOW_NS)
    async with app.run_test(size=(140, 30)) as pilot:
        await _until(pilot, lambda: app.cluster.state is ConnectionState.FAILED)
        assert "fix the URL" in app.cluster.detail
        assert app.is_running


async def test_a_bad_address_exits_with_one_line() -> None:
    app = NomtuiApp(lambda: NomadClient("not a url"), clock=lambda: NOW_NS)
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
    assert app.return_code == 1
