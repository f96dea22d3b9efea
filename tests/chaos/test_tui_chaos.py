"""The cockpit under chaos: 120 s of 5xx, cut streams, leader loss and latency spikes.

The real app (`NomtuiApp`, with the store built as `nomtui demo` builds it) runs headless
against the demo cluster, lifecycle and log producers on, while the sim misbehaves. The
test walks it through its screens with the logs of one allocation followed underneath
the whole time, and changes the cluster meanwhile (a new job version, a stopped
allocation). Then the faults stop and it checks:

- nothing crashed: no unhandled exception, no failed worker, no ERROR log record;
- the header said what was going on (reconnecting or stale) and came back to live;
- every view converged to the sim's state (read from `sim.state` directly);
- the logs view holds one unbroken run of the task's sequence-numbered lines;
- each kind of fault really happened, several times (counts written as JSON).
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from nomtui.tui.header import ClusterStatus, ConnectionState, render_status
from nomtui.tui.screens.allocs import AllocsScreen
from nomtui.tui.screens.jobs import JobsScreen
from nomtui.tui.screens.logs import LogsScreen
from nomtui.tui.screens.nodes import NodesScreen
from nomtui.tui.widgets.log_view import LogView
from tests.chaos import CHAOS_FAULTS, NO_FAULTS, assert_consecutive, record, seqs

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

CHAOS_S = float(os.environ.get("NOMTUI_CHAOS_SECONDS", "120"))
"""How long the faults last (the issue asks for 120 s; shorten it only to debug)."""
CONVERGE_S = 5.0
"""After the faults stop, every view shows the sim's truth within this."""
LOG_JOB = "internetarchive-hello-js"
"""Its allocations run the `http` task, which logs steadily; the test never touches it."""
NEW_VERSION_JOB = "www-wiki"
STOP_ALLOC_JOB = "services-pyhi"
VISIT_S = 7.0
"""How long each visited screen stays on top before going back to the logs."""
VISITS: tuple[tuple[str, dict[str, str]], ...] = (
    ("allocs", {}),
    ("job", {"namespace": "default", "job_id": NEW_VERSION_JOB}),
    ("nodes", {}),
    ("topology", {}),
    ("services", {}),
    ("events", {}),
)


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.log_lines_per_s = 5.0
    # Small files, so the followed log rotates several times during the run.
    sim_config.log_max_file_bytes = 8 * 1024
    # Events idle between writes: heartbeats keep the stream (and its cuts) busy.
    sim_config.event_heartbeat_s = 10.0
    return sim_config


class ChaosApp(NomtuiApp):
    """The real app, recording what went wrong instead of hiding it."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.failures: list[str] = []
        manager = self.workers
        forget = manager._remove_worker

        def removed(worker: Worker[Any]) -> None:
            # exit_on_error=False workers fail silently: this is the one place to see it.
            if worker.state is WorkerState.ERROR:
                frames = traceback.extract_tb(worker.error.__traceback__)
                ours = [
                    f"{f.filename}:{f.lineno} {f.name}" for f in frames if "/nomtui/" in f.filename
                ]
                where = " <- ".join(reversed(ours))
                self.failures.append(f"worker {worker.name!r} failed: {worker.error!r}\n{where}")
            forget(worker)

        manager._remove_worker = removed  # type: ignore[method-assign]

    def _handle_exception(self, error: Exception) -> None:
        self.failures.append(f"unhandled exception: {error!r}")
        super()._handle_exception(error)


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def error_records() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


class Control:
    """The sim's control endpoint and the test's own writes, from outside the app.

    The test's writes meet the same faults as the app's requests: an injected 500 is
    answered before the handler runs, so sending the write again is safe.
    """

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.http = httpx.AsyncClient(
            base_url=sim.nomad_addr,
            headers={"X-Nomad-Token": sim.management_token},
            timeout=30,
        )

    async def faults(self, **changes: Any) -> None:
        resp = await self.http.put("/v1/sim/faults", json=changes)
        resp.raise_for_status()

    async def stats(self) -> dict[str, Any]:
        resp = await self.http.get("/v1/sim/stats")
        resp.raise_for_status()
        found: dict[str, Any] = resp.json()
        return found

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        for _ in range(60):
            resp = await self.http.request(method, path, json=body)
            if resp.status_code < 500:
                resp.raise_for_status()
                return resp.json()
            await asyncio.sleep(0.5)
        raise AssertionError(f"{method} {path} kept failing: {resp.status_code} {resp.text}")

    async def new_version(self, job_id: str) -> None:
        job = await self.call("GET", f"/v1/job/{job_id}")
        job["Meta"] = {**(job.get("Meta") or {}), "chaos": "a new version"}
        await self.call("POST", f"/v1/job/{job_id}", {"Job": job})

    async def stop_alloc(self, job_id: str) -> str:
        alloc = next(
            a
            for a in self.sim.state.allocs.values()
            if a["JobID"] == job_id and a["ClientStatus"] == "running"
        )
        await self.call("POST", f"/v1/allocation/{alloc['ID']}/stop")
        return str(alloc["ID"])

    async def aclose(self) -> None:
        await self.http.aclose()


def store_factory(sim: Sim) -> Callable[[], Store]:
    """As `nomtui demo` builds it: the client's and the store's defaults, Consul on."""

    def make() -> Store:
        nomad = NomadClient(sim.nomad_addr, Secret(sim.management_token))
        return Store(nomad, ConsulClient(sim.consul_addr, None), read_only=False)

    return make


class HeaderLog:
    """Samples the header while the test runs: what state it showed, and its text."""

    def __init__(self, app: NomtuiApp) -> None:
        self.app = app
        self.states: Counter[ConnectionState] = Counter()
        self.texts: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            status = self.app.cluster
            self.states[status.state] += 1
            if status.state is not ConnectionState.LIVE:
                self.texts.append(render_status(status).plain.splitlines()[0])
            await asyncio.sleep(0.2)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# -- the sim's truth ----------------------------------------------------------------------


def truth_jobs(sim: Sim) -> dict[str, str]:
    return {f"{ns}/{job_id}": str(job["Status"]) for (ns, job_id), job in sim.state.jobs.items()}


def truth_allocs(sim: Sim) -> dict[str, str]:
    return {str(a["ID"]): str(a["ClientStatus"]) for a in sim.state.allocs.values()}


def truth_nodes(sim: Sim) -> dict[str, str]:
    return {node_id: str(node["Status"]) for node_id, node in sim.state.nodes.items()}


def truth_header(sim: Sim) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    jobs = Counter(str(j["Status"]) for j in sim.state.jobs.values())
    allocs = Counter(str(a["ClientStatus"]) for a in sim.state.allocs.values())
    nodes = Counter(str(n["Status"]) for n in sim.state.nodes.values())
    return dict(jobs), dict(allocs), dict(nodes)


def cell(table: DataTable[Any], row: str, column: str) -> str:
    return str(table.get_cell(row, column).plain)


def shown_header(status: ClusterStatus) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    jobs = dict(status.jobs)
    a = status.allocs
    allocs = {} if a is None else {"running": a.running, "pending": a.pending, "total": a.total}
    n = status.nodes
    nodes = {} if n is None else {"ready": n.ready, "total": n.total}
    return jobs, allocs, nodes


def header_matches(app: NomtuiApp, sim: Sim) -> bool:
    jobs, allocs, nodes = truth_header(sim)
    want_allocs = {
        "running": allocs.get("running", 0),
        "pending": allocs.get("pending", 0),
        "total": sum(allocs.values()),
    }
    want_nodes = {"ready": nodes.get("ready", 0), "total": sum(nodes.values())}
    return shown_header(app.cluster) == (jobs, want_allocs, want_nodes)


def allocs_match(screen: AllocsScreen, sim: Sim) -> bool:
    table = screen.table
    want = truth_allocs(sim)
    if set(table.shown_keys) != set(want):
        return False
    return all(cell(table, key, "client") == status for key, status in want.items())


def nodes_match(screen: NodesScreen, sim: Sim) -> bool:
    table = screen.main_table
    want = truth_nodes(sim)
    if set(table.shown_keys) != set(want):
        return False
    return all(cell(table, key, "status") == status for key, status in want.items())


def jobs_match(screen: JobsScreen, sim: Sim) -> bool:
    want = truth_jobs(sim)
    if {k: j.Status for k, j in screen.jobs.items()} != want:
        return False
    # Children of periodic and parameterized jobs are folded under their parent.
    top = {k for k, j in screen.jobs.items() if screen.parent_of(k) is None}
    table = screen.table
    if set(table.shown_keys) != top:
        return False
    return all(cell(table, key, "status") == want[key] for key in top)


def task_lines(sim: Sim, alloc_id: str) -> list[str]:
    """The lines of the task's stdout files, oldest first: what the task wrote."""
    logs = sim.files.path(alloc_id) / "alloc" / "logs"
    files = sorted(logs.glob("http.stdout.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    return b"".join(f.read_bytes() for f in files).decode().splitlines()


def rotations_of(sim: Sim, alloc_id: str) -> int:
    """How often the task's stdout moved to a new file (logmon numbers them from 0)."""
    logs = sim.files.path(alloc_id) / "alloc" / "logs"
    return max(int(p.name.rsplit(".", 1)[1]) for p in logs.glob("http.stdout.*"))


def log_lines(view: LogView) -> tuple[list[str], list[str]]:
    view.flush()
    lines = [x.text for x in view.buffer.lines if x.kind == "line"]
    markers = [x.text for x in view.buffer.lines if x.kind == "marker"]
    return lines, markers


# -- the run ------------------------------------------------------------------------------


async def until(pilot: Pilot[None], check: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait for `check`; how long it took. Fails naming `what` after `timeout`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        await pilot.pause(0.05)
    return loop.time() - start


async def test_the_cockpit_survives_chaos_and_converges(sim: Sim, tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    control = Control(sim)
    app = ChaosApp(store_factory(sim), address=sim.nomad_addr)
    log_alloc = next(
        a["ID"]
        for a in sim.state.allocs.values()
        if a["JobID"] == LOG_JOB and a["ClientStatus"] == "running"
    )
    timings: dict[str, float] = {}
    header = HeaderLog(app)
    try:
        with error_records() as errors:
            async with app.run_test(size=(160, 48)) as pilot:
                await pilot.pause()
                jobs_screen = app.screen
                assert isinstance(jobs_screen, JobsScreen)
                await until(pilot, lambda: jobs_match(jobs_screen, sim), 20, "jobs at start")
                app.open("logs", alloc_id=log_alloc, task="http")
                await pilot.pause()
                logs = app.screen
                assert isinstance(logs, LogsScreen)
                await until(pilot, lambda: bool(log_lines(logs.view)[0]), 20, "first log lines")

                await control.faults(**CHAOS_FAULTS)
                header.start()
                started = loop.time()
                changes = {
                    CHAOS_S * 0.25: lambda: control.new_version(NEW_VERSION_JOB),
                    CHAOS_S * 0.5: lambda: control.stop_alloc(STOP_ALLOC_JOB),
                }
                visit = 0
                while loop.time() - started < CHAOS_S - VISIT_S:
                    kind, params = VISITS[visit % len(VISITS)]
                    visit += 1
                    app.open(kind, **params)
                    await pilot.pause(VISIT_S)
                    assert app.screen is not logs, f"the {kind} screen did not open"
                    for at in [t for t in changes if loop.time() - started >= t]:
                        await changes.pop(at)()
                    app.pop_screen()
                    await pilot.pause(2.0)
                    assert app.screen is logs
                # The allocations screen is on top when the faults stop: it converges live.
                app.open("allocs")
                while loop.time() - started < CHAOS_S:
                    await pilot.pause(0.5)
                for change in changes.values():
                    await change()
                await control.faults(**NO_FAULTS)
                stopped = loop.time()
                counts = await control.stats()

                allocs_screen = app.screen
                assert isinstance(allocs_screen, AllocsScreen)
                timings["allocs"] = await until(
                    pilot, lambda: allocs_match(allocs_screen, sim), CONVERGE_S, "allocations"
                )
                timings["header"] = await until(
                    pilot, lambda: header_matches(app, sim), CONVERGE_S, "header counts"
                )
                timings["header live"] = await until(
                    pilot,
                    lambda: app.cluster.state is ConnectionState.LIVE,
                    CONVERGE_S,
                    "header back to live",
                )
                # The task stops writing, so "up to date" has one exact meaning.
                sim.config.log_lines_per_s = 0
                await asyncio.sleep(1.5)  # a producer tick in flight finishes its lines
                written = task_lines(sim, log_alloc)
                last = seqs(written[-1:])[0]
                rotations = rotations_of(sim, log_alloc)
                app.pop_screen()
                await pilot.pause()
                assert app.screen is logs

                def logs_caught_up() -> bool:
                    lines, _ = log_lines(logs.view)
                    return bool(lines) and seqs(lines[-1:]) == [last]

                timings["logs"] = await until(pilot, logs_caught_up, CONVERGE_S, "the logs view")
                lines, markers = log_lines(logs.view)
                app.pop_screen()
                await pilot.pause()
                assert app.screen is jobs_screen
                timings["jobs"] = await until(
                    pilot, lambda: jobs_match(jobs_screen, sim), CONVERGE_S, "jobs"
                )
                app.open("nodes")
                await pilot.pause()
                nodes_screen = app.screen
                assert isinstance(nodes_screen, NodesScreen)
                timings["nodes"] = await until(
                    pilot, lambda: nodes_match(nodes_screen, sim), CONVERGE_S, "nodes"
                )
                timings["all, since the faults stopped"] = loop.time() - stopped
                assert app.is_running, "the app exited during the run"
            failures = list(app.failures)
    finally:
        await header.stop()
        await control.aclose()

    faults = counts["Faults"]
    report = {
        "faults": faults,
        "seconds_of_faults": round(stopped - started, 1),
        "header_samples": {s.value: n for s, n in header.states.items()},
        "converged_after_s": {k: round(v, 2) for k, v in timings.items()},
        "log_lines_checked": len(lines),
        "log_rotations": rotations,
        "screen_visits": visit,
    }
    record(tmp_path, "tui-chaos", report)

    # Every problem at once: a run this long should say all it found.
    problems = [*failures, *(f"logged: {e}" for e in errors.seen)]
    if app.return_code not in (None, 0):
        problems.append(f"the app exited with {app.return_code}")
    # The header said what was happening, in words.
    trouble = header.states[ConnectionState.RECONNECTING] + header.states[ConnectionState.STALE]
    if not trouble or not any("reconnecting" in t or "stale" in t for t in header.texts):
        problems.append(f"the header never said reconnecting or stale: {dict(header.states)}")
    # Not one line lost or repeated, and no gap the view had to admit.
    numbers = seqs(lines)
    # What the view shows is what the task wrote, line for line (older files may be gone).
    shared = min(len(lines), len(written))
    if lines[-shared:] != written[-shared:]:
        problems.append("the followed log's lines differ from the task's log files")
    if rotations < 3:
        problems.append(f"the followed log rotated {rotations} times: the run proves less")
    # The view starts at the task's first line, or says it did not load what came before.
    expected = ["··· earlier output not loaded ···"] if numbers[:1] != [1] else []
    if markers != expected:
        problems.append(f"log markers: {markers}, expected {expected}")
    try:
        assert_consecutive(numbers, "the followed log")
    except AssertionError as exc:
        problems.append(str(exc))
    # The faults really happened, each of them several times.
    # (what a 120 s run gives at the least, with room for a slow machine's fewer requests)
    wanted = {
        "InjectedErrors": 20,
        "CutStreamsByTime": 12,
        "LeaderLosses": 5,
        "LeaderRefusals": 10,
        "LatencySpikes": 10,
    }
    problems += [
        f"only {faults[k]} {k}, fewer than {n * CHAOS_S / 120:g}"
        for k, n in wanted.items()
        if faults[k] < n * CHAOS_S / 120
    ]
    assert not problems, "\n".join(problems)
