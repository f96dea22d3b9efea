"""The benchmarks' workload: the scale sim in a process of its own, and what it costs.

The workload of issue 6: 2,000 jobs, 10,000 allocations, 500 nodes, 2,000 Consul service
instances, churn changing 1% of the allocations a minute. `ScaleSim` starts it as
`python bench/scale_sim.py` (so its CPU is never counted as nomtui's), reads one JSON line
(addresses, token, a job and an allocation with live logs) and drives it through the
sim's control endpoints: churn on and off, traffic counters, the sim's CPU time.

`sim_load()` is the sim's own figure: its CPU while 20 blocking queries and an event
stream are parked on it, idle and under churn. The sim must stay a fair load generator.

Run alone, `python bench/scale_sim.py --load` prints that figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOBS, ALLOCS_PER_JOB, NODES, CONSUL_INSTANCES = 2000, 5, 500, 2000
CHURN = 0.01
LOG_TASK = "http"
LOG_LINES_PER_S = 0.5
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (what `ps` shows as TIME)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class ScaleSim:
    """The scale sim in a child process; `info` is what it printed when ready."""

    churn: float = CHURN
    profile: Path | None = None
    """cProfile the sim's process into this file (written when it stops)."""
    proc: subprocess.Popen[bytes] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> ScaleSim:
        self._tmp = tempfile.TemporaryDirectory(prefix="nomtui-bench-sim-")
        extra = ["--profile", str(self.profile)] if self.profile else []
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--data-dir", self._tmp.name, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(
                "the scale sim did not start (run `python bench/scale_sim.py --serve`)"
            )
        self.info = json.loads(line)
        self.set_churn(self.churn)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the sim exits when its stdin closes
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ScaleSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a client of the sim needs ------------------------------------------------

    @property
    def addr(self) -> str:
        return str(self.info["nomad_addr"])

    @property
    def consul_addr(self) -> str:
        return str(self.info["consul_addr"])

    @property
    def token(self) -> str:
        return str(self.info["token"])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def env(self, home: str) -> dict[str, str]:
        """An environment that reaches this sim and nothing else (no user config)."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "CONSUL_"))}
        return {
            **keep,
            "HOME": home,
            "XDG_CONFIG_HOME": str(Path(home) / ".config"),
            "NOMAD_ADDR": self.addr,
            "NOMAD_TOKEN": self.token,
            "CONSUL_HTTP_ADDR": self.consul_addr,
        }

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.addr + path, data=data, method=method, headers={"X-Nomad-Token": self.token}
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def set_churn(self, rate: float) -> None:
        self.call("PUT", "/v1/sim/churn", {"PerMinute": rate})

    def wait_quiet(self, quiet_s: float = 8.0, timeout: float = 180.0) -> float:
        """After churn is switched off, what it started (restarts, rollouts) still runs
        for a while; wait until the cluster has written nothing for `quiet_s`. Returns
        the seconds waited."""
        start = time.monotonic()
        index, since = self.stats()["Index"], start
        while time.monotonic() - since < quiet_s:
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"the sim never went quiet within {timeout:.0f} s")
            time.sleep(0.5)
            now = self.stats()["Index"]
            if now != index:
                index, since = now, time.monotonic()
        return time.monotonic() - start

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", "/v1/sim/stats")
        return body

    def cpu(self) -> float:
        return cpu_seconds(self.pid)


def traffic_delta(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per route: what happened between two `/v1/sim/stats` readings (control calls left out)."""
    old = {(r["API"], r["Method"], r["Route"]): r for r in before["Traffic"]}
    rows = []
    for row in after["Traffic"]:
        if row["Route"].startswith("/v1/sim/"):
            continue
        prev = old.get((row["API"], row["Method"], row["Route"]), {})
        delta = {
            k: row[k] - prev.get(k, 0)
            for k in ("Requests", "BytesSent", "Blocking", "Blocked", "Computed")
        }
        if delta["Requests"] or delta["BytesSent"]:
            rows.append(
                {"API": row["API"], "Method": row["Method"], "Route": row["Route"], **delta}
            )
    return rows


# -- the sim's own cost ---------------------------------------------------------------------


async def _watcher(client: Any, path: str, params: dict[str, str], stop: asyncio.Event) -> None:
    """A client watch: blocking query, answer, 0.5 s rate limit (as nomtui's), repeat."""
    index = 0
    while not stop.is_set():
        query = dict(params)
        if index:
            query.update(index=str(index), wait="60s")
        async with client.stream("GET", path, params=query) as resp:
            async for _ in resp.aiter_bytes():
                pass
            index = int(resp.headers.get("X-Nomad-Index") or resp.headers.get("X-Consul-Index"))
        await asyncio.sleep(0.5)


async def _events(client: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        async with client.stream("GET", "/v1/event/stream") as resp:
            async for _ in resp.aiter_bytes():
                if stop.is_set():
                    return


async def _load(sim: ScaleSim, seconds: float) -> float:
    import httpx

    stop = asyncio.Event()
    headers = {"X-Nomad-Token": sim.token}
    limits = httpx.Limits(max_connections=64)
    timeout = httpx.Timeout(120)
    nomad = httpx.AsyncClient(base_url=sim.addr, headers=headers, limits=limits, timeout=timeout)
    consul = httpx.AsyncClient(base_url=sim.consul_addr, limits=limits, timeout=timeout)
    service = str(sim.info["service"])
    watches = [
        (nomad, "/v1/jobs", {}),
        (nomad, "/v1/allocations", {"task_states": "false"}),
        (nomad, "/v1/nodes", {}),
        (consul, f"/v1/health/service/{service}", {}),
    ]
    async with nomad, consul:
        tasks = [
            asyncio.create_task(_watcher(client, path, params, stop))
            for client, path, params in watches
            for _ in range(5)
        ]
        tasks.append(asyncio.create_task(_events(nomad, stop)))
        await asyncio.sleep(3)  # every watch has its first answer and is parked
        before = sim.cpu()
        await asyncio.sleep(seconds)
        used = sim.cpu() - before
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return used / seconds


def sim_load(sim: ScaleSim, seconds: float) -> dict[str, float]:
    """The sim's CPU (share of one core): alone, and with 20 parked queries and an event
    stream, without and with churn."""
    sim.set_churn(0)
    before = sim.cpu()
    time.sleep(seconds / 3)
    alone = (sim.cpu() - before) / (seconds / 3)
    parked = asyncio.run(_load(sim, seconds / 2))
    sim.set_churn(CHURN)
    churning = asyncio.run(_load(sim, seconds))
    sim.set_churn(sim.churn)
    return {"alone": alone, "parked": parked, "churn": churning}


# -- the child process ----------------------------------------------------------------------


def serve(data_dir: Path, profile: Path | None) -> None:
    if profile is None:
        asyncio.run(_serve(data_dir))
        return
    import cProfile

    # The sim runs on this thread's loop, so cProfile sees all of it.
    with cProfile.Profile() as prof:
        asyncio.run(_serve(data_dir))
    prof.dump_stats(profile)


async def _serve(data_dir: Path) -> None:
    from nomtui.sim.server import Sim, SimConfig

    config = SimConfig(
        jobs=JOBS,
        allocs_per_job=ALLOCS_PER_JOB,
        nodes=NODES,
        consul_instances=CONSUL_INSTANCES,
        data_dir=data_dir,
        # Every allocation churn starts writes its logs; at the demo's 2 lines a second
        # their producers would grow into a load of their own over a long run.
        log_lines_per_s=LOG_LINES_PER_S,
    )
    sim = Sim(config)
    await sim.start("127.0.0.1", 0, 0)
    job = "scale-app-00000"
    alloc = next(
        a for a in sim.state.allocs_of_job("default", job) if a["ClientStatus"] == "running"
    )
    # Scale allocations have no directories; the logs view needs one with output.
    sim.files.create(alloc, [LOG_TASK])
    sim.files.run_task(alloc["ID"], LOG_TASK)
    service = next(
        r["ServiceName"] for r in sim.state.consul_services.values() if r["ServiceName"] != "consul"
    )
    info = {
        "nomad_addr": sim.nomad_addr,
        "consul_addr": sim.consul_addr,
        "token": sim.management_token,
        "job": job,
        "alloc": alloc["ID"],
        "service": service,
        "jobs": len(sim.state.jobs),
        "allocs": len(sim.state.allocs),
        "nodes": len(sim.state.nodes),
        # Consul's own `consul` service counts, as in `SimConfig.consul_instances`
        "consul_instances": len(sim.state.consul_services),
    }
    print(json.dumps(info), flush=True)
    # Run until the parent closes our stdin (or goes away).
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    stdin = sys.stdin.fileno()

    def readable() -> None:
        if not os.read(stdin, 4096):
            loop.remove_reader(stdin)
            closed.set()

    loop.add_reader(stdin, readable)
    try:
        await closed.wait()
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=Path, help="cProfile the sim into this file")
    parser.add_argument("--load", action="store_true", help="measure the sim's own CPU")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.serve:
        serve(args.data_dir, args.profile)
        return
    with ScaleSim(profile=args.profile) as sim:
        print(json.dumps(sim.info | {"token": "(hidden)"}))
        if args.load:
            for name, share in sim_load(sim, args.seconds).items():
                print(f"sim CPU, {name}: {share * 100:.1f}% of a core")


if __name__ == "__main__":
    main()
