"""The TUI side of bench/run_all.py: the real app, headless, measured from inside.

Run by run_all.py as its own process (`python bench/tui_probe.py MODE ...`), with
NOMAD_ADDR, NOMAD_TOKEN and CONSUL_HTTP_ADDR pointing at the scale sim, so what it
measures is the TUI alone: the sim runs in another process. The app is built as
`nomtui` builds it (settings resolved from the environment, the same store and clients)
and driven with Textual's Pilot (`App.run_test`). Each mode prints JSON lines on stdout:
`{"event": ...}` while it runs, and one `{"result": ...}` at the end.

Modes:
- cold --spawned T: T is `time.monotonic()` in the parent just before it started this
  process (CLOCK_MONOTONIC is one clock for every process); reports the seconds from
  then until the jobs table holds at least --rows rows;
- filter: the allocations screen with every allocation, `/`, then a pattern typed one
  key at a time and erased again; each key, pressed once the app is calm, is timed from
  the press until the table holds only the matching rows and the screen has been
  refreshed (`pilot.press` then `pilot.pause()`: every message handled, a refresh);
- visit: every screen once, then the process's peak RSS (ru_maxrss);
- watch --seconds S: the jobs screen, populated, then calm (the work that follows
  loading it done: under 10% of a core over 2 s, or --settle s), prints `ready`, then
  its CPU (utime + stime of the whole process) over S seconds;
- change --samples N: stops and starts jobs over the API and times each change until
  the job's Status cell on the jobs screen shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import resource
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot
    from textual.widgets import DataTable

    from nomtui.tui.app import NomtuiApp

SIZE = (200, 50)
STATUS_COLUMN = 3  # Name, Namespace, Type, Status, ... (nomtui/tui/screens/jobs.py)
POLL_S = 0.002
STOPPED = ("stopped", "dead")
LOAD_S = 600.0  # a table of 10,000 rows may take minutes to fill (under a profiler too)


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def build_app() -> NomtuiApp:
    """The app `nomtui` (no command) builds, from the same settings and clients."""
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient
    from nomtui.config import Flags, resolve
    from nomtui.store import Store
    from nomtui.tui.app import NomtuiApp

    settings = resolve(Flags())

    def store() -> Store:
        nomad = NomadClient.from_settings(settings.nomad, cluster=settings.cluster)
        consul = ConsulClient.from_settings(settings.consul)
        return Store(nomad, consul, read_only=settings.read_only, cluster=settings.cluster)

    return NomtuiApp(
        store,
        address=settings.nomad.address,
        label=settings.cluster or "",
        namespace=settings.nomad.namespace or "*",
    )


def table(pilot: Pilot[None], selector: str) -> DataTable[Any]:
    from textual.widgets import DataTable

    return pilot.app.screen.query_one(selector, DataTable)


async def until(pilot: Pilot[None], ready: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `ready` while the app runs. A plain sleep, not `pilot.pause()`: a busy app never
    goes idle, and Pilot's wait for idle gives up (WaitForScreenTimeout) after 30 s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except Exception:  # the screen is still being built: not ready yet
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"tui_probe: timed out waiting for {what}")
        await asyncio.sleep(POLL_S)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def calm(limit_s: float, window_s: float = 2.0, share: float = 0.1) -> float:
    """Wait until this process used less than `share` of a core over `window_s` (the work
    that follows loading a screen is done), or `limit_s`; the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        used = cpu_s()
        await asyncio.sleep(window_s)
        if cpu_s() - used < share * window_s:
            break
    return time.monotonic() - start


def api(method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        os.environ["NOMAD_ADDR"] + path,
        data=data,
        method=method,
        headers={"X-Nomad-Token": os.environ["NOMAD_TOKEN"]},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


async def jobs_populated(pilot: Pilot[None], rows: int) -> DataTable[Any]:
    await until(pilot, lambda: table(pilot, "#jobs").row_count >= rows, LOAD_S, "the jobs table")
    return table(pilot, "#jobs")


# -- modes ------------------------------------------------------------------------------------


async def cold(args: argparse.Namespace) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await jobs_populated(pilot, args.rows)
        emit(result={"seconds": time.monotonic() - args.spawned})


async def filter_keys(args: argparse.Namespace) -> None:
    from textual.pilot import WaitForScreenTimeout

    from nomtui.tui.widgets.live_table import LiveTable, RowFilter

    # --profile: the timed keystrokes only, not the loading before them
    keys_profile = cProfile.Profile() if args.profile else None
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await jobs_populated(pilot, args.rows)
        app.open("allocs")
        await until(
            pilot, lambda: table(pilot, "#allocs").row_count >= args.allocs, LOAD_S, "allocations"
        )
        allocs = pilot.app.screen.query_one("#allocs", LiveTable)
        total = allocs.row_count
        # Loading 10,000 rows leaves work behind (column widths); a keystroke is timed on
        # a calm table, so that backlog is not billed to the first key.
        load_busy = await calm(args.calm_limit)
        # still busy with the rows, Pilot may give up waiting: the box opens all the same
        with contextlib.suppress(WaitForScreenTimeout):
            await pilot.press("slash")
        box = pilot.app.screen.query_one("#filter")
        await until(pilot, lambda: bool(box.display and box.has_focus), LOAD_S, "the filter box")
        await calm(args.calm_limit)
        # The stopwatch: Pilot's round trip ends only after its idle detection (sleeps of
        # 20 ms until the process is quiet), so the figure is taken inside the app: from
        # the key to the first frame rendered once the table has the filter's rows and
        # its size worked out (App._display gets every frame, even headless, where it
        # just does not write it out). Not the last frame of the round trip: the filter
        # box's blinking cursor repaints every half second, whatever the table does.
        paints: list[tuple[float, bool]] = []
        applied_at: list[float] = []
        real_display = app._display
        real_set_filter = allocs.set_filter

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                settled = not allocs._require_update_dimensions
                paints.append((time.perf_counter(), settled))
            real_display(screen, renderable)

        def set_filter(pattern: str) -> bool:
            valid = real_set_filter(pattern)
            applied_at.append(time.perf_counter())
            return valid

        allocs.set_filter = set_filter  # type: ignore[method-assign]
        app._display = display  # type: ignore[method-assign]
        typed = ""
        samples: list[dict[str, Any]] = []
        keys = [*args.pattern, *(["backspace"] * len(args.pattern))]
        for key in keys:
            typed = typed[:-1] if key == "backspace" else typed + key
            before = allocs.row_count
            waited = await calm(args.calm_limit)
            if keys_profile is not None:
                keys_profile.enable()
            paints.clear()
            applied_at.clear()
            start = time.perf_counter()
            try:
                await pilot.press(key)
                await pilot.pause()
            except WaitForScreenTimeout:
                # Pilot gave up after 30 s with messages still pending: the key did not
                # finish in time. Recorded as such; the table is checked below anyway.
                def applied(pattern: str = typed) -> bool:
                    return bool(allocs.row_filter.pattern == pattern)

                await until(pilot, applied, 600, "the filter")
            elapsed = time.perf_counter() - start
            if keys_profile is not None:
                keys_profile.disable()
            done = applied_at[-1] if applied_at else start
            shown_at = [t for t, settled in paints if t >= done and settled]
            # no such frame would mean nothing was redrawn: count the whole round trip
            repaint = (shown_at[0] - start) if shown_at else elapsed
            # not timed: check the table really shows the filter's rows
            wanted = RowFilter(typed)
            assert allocs.row_filter.pattern == typed, (allocs.row_filter.pattern, typed)
            shown = allocs.shown_keys
            assert all(wanted.matches(k, allocs.get_row(k)) for k in shown[:200])
            sample = {"key": key, "pattern": typed, "rows_before": before, "rows": len(shown),
                      "ms": repaint * 1000, "pilot_ms": elapsed * 1000, "frames": len(paints),
                      "calm_wait_s": waited}  # fmt: skip
            emit(event="key", **sample)
            samples.append(sample)
        if keys_profile is not None:
            keys_profile.dump_stats(args.profile)
        emit(result={"rows": total, "samples": samples, "load_busy_s": load_busy})


async def visit(args: argparse.Namespace) -> None:
    from textual.widgets import DataTable

    app = build_app()
    views: list[tuple[str, dict[str, str]]] = [
        ("allocs", {}),
        ("nodes", {}),
        ("topology", {}),
        ("services", {}),
        ("deployments", {}),
        ("events", {}),
        ("check", {}),
        ("job", {"job_id": args.job, "namespace": "default"}),
        ("alloc", {"alloc_id": args.alloc}),
        ("logs", {"alloc_id": args.alloc, "task": "http"}),
    ]
    seen: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        start = time.perf_counter()
        await jobs_populated(pilot, args.rows)
        seen["jobs"] = round(time.perf_counter() - start, 2)
        for kind, params in views:
            start = time.perf_counter()
            app.open(kind, **params)
            screen = pilot.app.screen

            def loaded(screen: Any = screen) -> bool:
                tables = list(screen.query(DataTable))
                return bool(tables) and any(t.row_count for t in tables)

            # a screen without a table (or still empty) just gets its dwell time
            with contextlib.suppress(SystemExit):
                await until(pilot, loaded, args.dwell, f"{kind} rows")
            await asyncio.sleep(args.dwell / 4)
            seen[kind] = round(time.perf_counter() - start, 2)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        top = memory_top(args.trace_memory) if args.trace_memory else []
        result = {"peak_rss_mb": peak_kb / 1024, "rss_mb": current_rss_mb(), "views": seen}
        emit(result=result | ({"top": top} if top else {}))


def memory_top(count: int) -> list[str]:
    """Where the live Python memory was allocated, by file (`--trace-memory N`)."""
    import tracemalloc

    snapshot = tracemalloc.take_snapshot()
    return [str(stat) for stat in snapshot.statistics("filename")[:count]]


def current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def watch(args: argparse.Namespace) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await jobs_populated(pilot, args.rows)
        if args.screen != "jobs":
            app.open(args.screen)
            await until(
                pilot, lambda: table(pilot, f"#{args.screen}").row_count > 0, LOAD_S, args.screen
            )
        busy = await calm(args.settle)
        emit(event="ready")
        used, start = cpu_s(), time.monotonic()
        await asyncio.sleep(args.seconds)
        used, wall = cpu_s() - used, time.monotonic() - start
        emit(result={"cpu_share": used / wall, "cpu_s": used, "wall_s": wall, "busy_s": busy})


async def change(args: argparse.Namespace) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        jobs = await jobs_populated(pilot, args.rows)
        busy = await calm(args.settle)

        def status(key: str) -> str:
            return str(jobs.get_row(key)[STATUS_COLUMN].plain)

        samples: list[dict[str, Any]] = []
        for n in range(args.samples // 2):
            job_id = f"scale-app-{args.first_job + n:05d}"
            key = f"default/{job_id}"
            spec = await asyncio.to_thread(api, "GET", f"/v1/job/{job_id}")
            for what in ("stop", "start"):
                start = time.perf_counter()

                # A stopped job shows "stopped" until its allocations end, then "dead".
                def shown(key: str = key, stopped: bool = what == "stop") -> bool:
                    return (status(key) in STOPPED) == stopped

                if what == "stop":
                    await asyncio.to_thread(api, "DELETE", f"/v1/job/{job_id}")
                else:
                    await asyncio.to_thread(api, "POST", "/v1/jobs", {"Job": spec})
                await until(pilot, shown, 60, f"{job_id} to {what}")
                samples.append(
                    {"job": job_id, "change": what, "ms": (time.perf_counter() - start) * 1000}
                )
                await asyncio.sleep(0.2)  # the next change is a separate event
        ms = [s["ms"] for s in samples]
        emit(result={"samples": samples, "median_ms": statistics.median(ms), "busy_s": busy})


MODES = {"cold": cold, "filter": filter_keys, "visit": visit, "watch": watch, "change": change}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--rows", type=int, default=2000, help="jobs that make the table full")
    parser.add_argument("--allocs", type=int, default=10000)
    parser.add_argument("--spawned", type=float, default=0.0)
    parser.add_argument("--pattern", default="app-0012")
    parser.add_argument("--job", default="scale-app-00000")
    parser.add_argument("--alloc", default="")
    parser.add_argument("--dwell", type=float, default=8.0)
    parser.add_argument(
        "--settle", type=float, default=180.0, help="at most this long for the app to go calm"
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--first-job", type=int, default=1000)
    parser.add_argument("--screen", default="jobs", help="watch: the screen to sit on")
    parser.add_argument(
        "--calm-limit", type=float, default=600.0, help="filter: at most this long to calm"
    )
    parser.add_argument("--profile", help="cProfile the run (filter: the keys) into this file")
    parser.add_argument(
        "--trace-memory", type=int, default=0, help="visit: tracemalloc, top N files"
    )
    args = parser.parse_args()
    if args.trace_memory:
        import tracemalloc

        tracemalloc.start()
    if args.profile and args.mode != "filter":
        # Textual runs on this thread's event loop: the profile sees the whole app.
        with cProfile.Profile() as prof:
            asyncio.run(MODES[args.mode](args))
        prof.dump_stats(args.profile)
    else:
        asyncio.run(MODES[args.mode](args))
    sys.exit(0)


if __name__ == "__main__":
    main()
