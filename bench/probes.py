"""The measurements of bench/run_all.py, one function each; run_all.py orders and reports.

Each talks to a running `ScaleSim` and returns plain numbers (no verdicts): the TUI
ones run bench/tui_probe.py in a process of its own, the one-shot and tmux ones run
the `nomtui` console script as a user would, the client ones run in this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from scale_sim import ScaleSim, cpu_seconds, traffic_delta

HERE = Path(__file__).resolve().parent
PROBE = HERE / "tui_probe.py"
NOMTUI = Path(sys.executable).with_name("nomtui")
TMUX_SIZE = ("200", "50")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of them at or below."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


# -- the TUI, headless, in its own process ----------------------------------------------------


class Probe:
    """bench/tui_probe.py MODE in a child process; its JSON lines, read as they come."""

    def __init__(self, sim: ScaleSim, home: str, mode: str, *args: str) -> None:
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, str(PROBE), mode, "--spawned", repr(self.spawned), *args],
            env=sim.env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def next(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(30)
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"tui_probe ended without a result: {err.strip()[-800:]}")
        message: dict[str, Any] = json.loads(line)
        return message

    def result(self) -> dict[str, Any]:
        while True:
            message = self.next()
            if "result" in message:
                self.proc.wait(60)
                found: dict[str, Any] = message["result"]
                return found


def probe(sim: ScaleSim, home: str, mode: str, *args: str) -> dict[str, Any]:
    return Probe(sim, home, mode, *args).result()


def tui_common(sim: ScaleSim) -> list[str]:
    info = sim.info
    return ["--rows", str(info["jobs"]), "--allocs", str(info["allocs"]), "--alloc", info["alloc"]]


# -- tmux: the app as a user starts it ----------------------------------------------------------


class Tmux:
    """A tmux server of our own (its own socket), started with the sim's environment so
    the token reaches nomtui through the environment, never the command line."""

    def __init__(self, sim: ScaleSim, home: str) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed")
        self.socket = f"nomtui-bench-{os.getpid()}"
        self.env = sim.env(home)
        # A server exits with its last session, and a new-session racing that exit fails:
        # one idle session keeps our server up until close().
        self.run("new-session", "-d", "-s", "keep", "cat")

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, name: str) -> float:
        """Start nomtui in a new session; the time.monotonic() it was started at."""
        started = time.monotonic()
        width, height = TMUX_SIZE
        self.run("new-session", "-d", "-s", name, "-x", width, "-y", height, f"exec {NOMTUI}")
        return started

    def wait_for(self, name: str, text: str, timeout: float = 120) -> float:
        """time.monotonic() when `text` first shows in the pane."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.run("capture-pane", "-p", "-t", name):
                return time.monotonic()
            time.sleep(0.01)
        raise RuntimeError(f"{text!r} never showed in tmux session {name}")

    def pid(self, name: str) -> int:
        return int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def kill(self, name: str) -> None:
        self.run("kill-session", "-t", name)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def cold_tmux(tmux: Tmux, job: str, runs: int) -> list[float]:
    times = []
    for n in range(runs):
        name = f"cold{n}"
        started = tmux.start(name)
        pid = tmux.pid(name)
        try:
            times.append(tmux.wait_for(name, job) - started)
        finally:
            tmux.kill(name)
            gone(pid)
    return times


def gone(pid: int, timeout: float = 10.0) -> None:
    """Wait for a process tmux was told to end (its pane closed): the next run must not
    share the machine with it."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def calm(pid: int, limit_s: float, window_s: float = 2.0, share: float = 0.1) -> float:
    """Wait until `pid` used less than `share` of a core over `window_s`, or `limit_s`."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        used = cpu_seconds(pid)
        time.sleep(window_s)
        if cpu_seconds(pid) - used < share * window_s:
            break
    return time.monotonic() - start


def idle_tmux(tmux: Tmux, sim: ScaleSim, job: str, seconds: float) -> dict[str, Any]:
    """nomtui on its jobs screen in tmux: once calm after start-up, its CPU and the
    requests it makes while nothing changes."""
    tmux.start("idle")
    pid = tmux.pid("idle")
    try:
        shown = tmux.wait_for("idle", job)
        calm(pid, 180.0)
        busy = time.monotonic() - shown
        before, cpu, start = sim.stats(), cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall, after = cpu_seconds(pid) - cpu, time.monotonic() - start, sim.stats()
    finally:
        tmux.kill("idle")
        gone(pid)
    traffic = traffic_delta(before, after)
    return {"cpu_share": cpu / wall, "wall_s": wall, "busy_s": busy, "traffic": traffic}


# -- one-shots and clients ----------------------------------------------------------------------


def jobs_json(sim: ScaleSim, home: str, runs: int) -> dict[str, Any]:
    env = sim.env(home)
    argv = [str(NOMTUI), "jobs", "--json"]
    subprocess.run(argv, env=env, capture_output=True, check=True)  # warm caches and .pyc
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        size = len(done.stdout)
    return {"times": times, "bytes": size, "jobs": len(json.loads(done.stdout))}


def client_compare(sim: ScaleSim, runs: int) -> dict[str, Any]:
    """python-nomad (requests + json) against nomtui's client (httpx + msgspec) fetching
    and parsing the same `/v1/allocations?namespace=*`, alternately, in this process."""
    import nomad

    from nomtui.client.nomad import NomadClient

    port = int(sim.addr.rsplit(":", 1)[1])
    other = nomad.Nomad(host="127.0.0.1", port=port, token=sim.token, timeout=120)

    async def ours() -> tuple[float, int]:
        async with NomadClient(sim.addr, sim.token) as client:
            start = time.perf_counter()
            allocs = await client.list_allocations(namespace="*")
            return time.perf_counter() - start, len(allocs)

    theirs_s, ours_s, counts = [], [], set()
    for _ in range(runs):
        start = time.perf_counter()
        parsed = other.allocations.get_allocations(namespace="*")
        theirs_s.append(time.perf_counter() - start)
        elapsed, count = asyncio.run(ours())
        ours_s.append(elapsed)
        counts |= {len(parsed), count}
    return {"python_nomad_s": theirs_s, "nomtui_s": ours_s, "allocations": sorted(counts)}


class Poller(threading.Thread):
    """What a 2-second poller of the job and allocation lists (wander's way) costs."""

    PATHS = ("/v1/jobs?namespace=*", "/v1/allocations?namespace=*")

    def __init__(self, sim: ScaleSim, every_s: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.sim = sim
        self.every_s = every_s
        self.requests = 0
        self.bytes = 0
        self.per_route: dict[str, list[int]] = {p.split("?")[0]: [0, 0] for p in self.PATHS}
        self._halt = threading.Event()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self._halt.is_set():
            for path in self.PATHS:
                request = urllib.request.Request(
                    self.sim.addr + path, headers={"X-Nomad-Token": self.sim.token}
                )
                with urllib.request.urlopen(request, timeout=60) as resp:
                    size = len(resp.read())
                self.requests += 1
                self.bytes += size
                counts = self.per_route[path.split("?")[0]]
                counts[0] += 1
                counts[1] += size
            next_at += self.every_s
            self._halt.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._halt.set()
        self.join(60)


def polling_vs_watches(sim: ScaleSim, home: str, seconds: float, settle: float) -> dict[str, Any]:
    """The same minute, churn on: nomtui (headless, jobs screen) and a 2 s poller side by
    side. The poller counts its own requests and bytes; nomtui's are the sim's counters
    for the window less the poller's."""
    args = ("--seconds", str(seconds), "--settle", str(settle))
    tui = Probe(sim, home, "watch", *tui_common(sim), *args)
    while tui.next().get("event") != "ready":
        pass
    poller = Poller(sim)
    before = sim.stats()
    poller.start()
    result = tui.result()
    after = sim.stats()
    poller.stop()
    rows = traffic_delta(before, after)
    for row in rows:
        mine = poller.per_route.get(row["Route"]) if row["API"] == "nomad" else None
        if mine and row["Method"] == "GET":
            row["Requests"] -= mine[0]
            row["BytesSent"] -= mine[1]
    minutes = result["wall_s"] / 60
    return {
        "minutes": minutes,
        "poll_requests": poller.requests,
        "poll_bytes": poller.bytes,
        "nomtui_requests": sum(r["Requests"] for r in rows),
        "nomtui_bytes": sum(r["BytesSent"] for r in rows),
        "nomtui_routes": [r for r in rows if r["Requests"] or r["BytesSent"]],
        "tui_cpu_share": result["cpu_share"],
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "best": min(values),
        "median": statistics.median(values),
        "p95": percentile(values, 95),
        "worst": max(values),
    }
