"""How fast `nomtui logs` moves a big log, against curl reading the same log raw.

A simulated cluster runs in its own process with a `--mb` MB stdout log already written
for www-nomad's `http` task (through the sim's own rotation, 32 MiB files). Then, each
`--runs` times:

- `curl .../v1/client/fs/logs/<alloc>?plain=true` and `nomtui logs www-nomad`, both to
  /dev/null, each ending at the end of the log;
- the same with following (`follow=true`, `nomtui logs -f`): the output goes to a pipe
  this script drains, and the reader is stopped once every byte has arrived.

curl's plain stream is the floor cost of the data (no lines, no sanitising). nomtui
reads the plain stream too (`nomtui.actions.logs` says why: it resumes by byte counts),
splits lines and sanitises them. Goal: nomtui at >= 0.7 of curl's rate.

Two ratios per mode, because a fixed cost weighs a lot here: curl starts in ~5 ms, while
nomtui pays ~0.15-0.2 s (Python, imports, three lookups: job, allocations, log files)
before its first byte, and curl reads 200 MB in ~0.2 s. "wall" is the goal read
literally, whole runs; "rate" takes each reader's start-up out, measured the same way on
a 6-byte log (www-wiki's): what the ratio converges to as the log grows. nomtui runs with
its bytecode cached, as an installed package does (PYTHONDONTWRITEBYTECODE would add
~60 ms of compiling to every start). Each mode also shows both readers' CPU seconds: on a
shared machine the wall clock measures the neighbours too, CPU time much less.

In follow mode the drain (this script reading a pipe) and the sim share the machine's
cores with the reader, so both readers measure lower there than to /dev/null. The log
ends on a whole 64 KiB frame: a following stream's last, partial frame waits for the
sim's (and Nomad's) 200 ms batch tick, which would add a random 0-0.2 s to both readers'
~0.4 s. The live test shows that tick: how far behind a reader is at the end (0-0.2 s)
depends on when it connected, which sets the phase of its stream's tick.

Last, curl reading the framed stream (`plain=false`) shows the sim's own ceiling for
framed mode: there the sim's Python frame encoder, not the reader, is the limit.

Usage: python bench/logs_throughput.py [--mb 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

NOMTUI = [sys.executable, "-m", "nomtui"]
GOAL = 0.7

# Runs in the sim's process: build the cluster, write the log, print where it is.
SIM = r"""
import json, sys, time
from pathlib import Path
from nomtui.sim.server import SimConfig, SimThread

mb, data_dir = int(sys.argv[1]), Path(sys.argv[2])
config = SimConfig(log_lines_per_s=0, lifecycle=False, data_dir=data_dir,
                   log_max_file_bytes=32 * 1024 * 1024)
sim = SimThread(config).start("127.0.0.1", 0, 0)
alloc = next(a["ID"] for a in sim.state.allocs.values()
             if a["JobID"] == "www-nomad" and a["ClientStatus"] == "running")
line = b'127.0.0.1 - - [25/Nov/2026:11:01:26 +0000] "GET /api/items/%07d HTTP/1.1" 200 6245\n'
block = b"".join(line % i for i in range(12000))  # ~1 MiB of distinct-looking lines
written = 0
while written < mb * 1024 * 1024:
    sim.files.write_log(alloc, "http", "stdout", block)
    written += len(block)
# End on a whole 64 KiB frame: a following stream holds a last partial frame for the
# agent's 200 ms batch tick, which would add 0-200 ms at random to a ~0.4 s run.
pad = -written % 65536
if pad:
    sim.files.write_log(alloc, "http", "stdout", b"#" * (pad - 1) + b"\n")
    written += pad
live = next(a["ID"] for a in sim.state.allocs.values()
            if a["JobID"] == "www-wiki" and a["ClientStatus"] == "running")
sim.files.write_log(live, "http", "stdout", b"start\n")
print(json.dumps({"addr": sim.nomad_addr, "token": sim.management_token,
                  "alloc": alloc, "bytes": written, "live": live}), flush=True)
# "live RATE SECONDS": write www-wiki's log at RATE bytes/s, then print the total.
for command in sys.stdin:
    _, rate, seconds = command.split()
    total, start = 6, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < float(seconds):
        due = int(float(rate) * elapsed) - total
        if due >= len(block):
            sim.files.write_log(live, "http", "stdout", block)
            total += len(block)
        else:
            time.sleep(0.001)
    print(total, flush=True)
"""


def start_sim(mb: int, data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SIM, str(mb), str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    info: dict[str, str] = json.loads(proc.stdout.readline())
    return proc, info


def to_devnull(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(argv, stdout=sink, env=env, check=True)
    return time.perf_counter() - start


def with_cpu(run: Callable[[], float]) -> tuple[float, float]:
    """`run`'s seconds and the CPU seconds (user + system) of the process it ran: on a
    shared machine the wall clock also measures the neighbours, CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def drained(argv: list[str], env: dict[str, str], total: int) -> float:
    """Seconds until `total` bytes came out of a never-ending reader, then stop it."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    got = 0
    while got < total:
        data = os.read(fd, 1 << 20)
        if not data:
            raise SystemExit(f"{argv[0]} ended after {got} of {total} bytes")
        got += len(data)
    elapsed = time.perf_counter() - start
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--live-mbps", type=float, default=100.0)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed")
    with tempfile.TemporaryDirectory(prefix="nomtui-bench-") as tmp:
        sim, info = start_sim(args.mb, Path(tmp) / "sim")
        cache = Path(tmp) / "pycache"
        try:
            run(info, args.runs, cache)
            live(sim, info, args.live_mbps, args.mb / args.live_mbps, cache)
        finally:
            sim.terminate()
            sim.wait(10)


def nomtui_env(env: dict[str, str], cache: Path) -> dict[str, str]:
    """nomtui as installed: bytecode written once (outside the source tree) and reused."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(cache)}


def run(info: dict[str, str], runs: int, cache: Path) -> None:
    total = int(info["bytes"])
    env = {**os.environ, "NOMAD_ADDR": info["addr"], "NOMAD_TOKEN": info["token"]}
    env = {k: v for k, v in env.items() if k != "NOMAD_NAMESPACE"}
    ours = nomtui_env(env, cache)
    logs = f"{info['addr']}/v1/client/fs/logs"
    url = f"{logs}/{info['alloc']}?task=http&type=stdout&plain=true"
    tiny = f"{logs}/{info['live']}?task=http&type=stdout&plain=true&follow=false"
    curl = ["curl", "-sfN", "-H", f"X-Nomad-Token: {info['token']}"]
    to_devnull([*NOMTUI, "logs", "www-wiki"], ours)  # writes the bytecode cache
    start_curl = statistics.median(to_devnull([*curl, tiny], env) for _ in range(runs))
    start_nomtui = statistics.median(
        to_devnull([*NOMTUI, "logs", "www-wiki"], ours) for _ in range(runs)
    )
    cases: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
        "to the end": (
            lambda: to_devnull([*curl, url + "&follow=false"], env),
            lambda: to_devnull([*NOMTUI, "logs", "www-nomad"], ours),
        ),
        "following (-f)": (
            lambda: drained([*curl, url + "&follow=true"], env, total),
            lambda: drained([*NOMTUI, "logs", "www-nomad", "-f"], ours, total),
        ),
    }
    mb = total / 1e6
    print(f"log: {mb:.0f} MB in www-nomad's http stdout; best and median of {runs} runs")
    print(f"start-up (a 6-byte log): curl {start_curl:.3f} s, nomtui {start_nomtui:.3f} s")
    for name, (curl_run, nomtui_run) in cases.items():
        curl_s, curl_cpu = zip(*(with_cpu(curl_run) for _ in range(runs)), strict=True)
        nomtui_s, nomtui_cpu = zip(*(with_cpu(nomtui_run) for _ in range(runs)), strict=True)
        c, n = min(curl_s), min(nomtui_s)
        c_rate, n_rate = mb / max(c - start_curl, 1e-3), mb / max(n - start_nomtui, 1e-3)
        print(
            f"  {name:<15} curl {mb / c:7.1f} MB/s (median {mb / statistics.median(curl_s):6.1f})"
            f"   nomtui {mb / n:7.1f} MB/s (median {mb / statistics.median(nomtui_s):6.1f})"
        )
        print(
            f"  {'':<15} ratio: wall {c / n:.2f}, rate {n_rate / c_rate:.2f}"
            f" (curl {c_rate:.0f} MB/s, nomtui {n_rate:.0f} MB/s after start-up)"
            f"   goal >= {GOAL}"
        )
        cpu = f"curl {min(curl_cpu):.2f}, nomtui {min(nomtui_cpu):.2f}"
        print(f"  {'':<15} CPU seconds (least): {cpu}")
    framed = min(
        to_devnull([*curl, url.replace("plain=true", "plain=false")], env) for _ in range(runs)
    )
    print(f"  the sim's framed stream (curl plain=false): {mb / framed:.0f} MB/s of log data")


class Drain(threading.Thread):
    """Reads a follower's stdout in the background, noting when each byte count came."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
        self.got = 0
        self.last = 0.0
        self.start()

    def run(self) -> None:
        assert self.proc.stdout is not None
        while data := os.read(self.proc.stdout.fileno(), 1 << 20):
            self.got += len(data)
            self.last = time.perf_counter()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)


def live(
    sim: subprocess.Popen[bytes], info: dict[str, str], mbps: float, seconds: float, cache: Path
) -> None:
    """Both follow www-wiki's log at once while the sim writes it at `mbps`: does each keep
    up, and how far behind is it when the writing stops?"""
    env = {**os.environ, "NOMAD_ADDR": info["addr"], "NOMAD_TOKEN": info["token"]}
    url = f"{info['addr']}/v1/client/fs/logs/{info['live']}?task=http&type=stdout&plain=true"
    readers = {
        "curl": Drain(["curl", "-sfN", "-H", f"X-Nomad-Token: {info['token']}",
                       url + "&follow=true"], env),
        "nomtui": Drain([*NOMTUI, "logs", "www-wiki", "-f"], nomtui_env(env, cache)),
    }  # fmt: skip
    time.sleep(1.0)  # both connected and idle
    assert sim.stdin is not None and sim.stdout is not None
    start = time.perf_counter()
    sim.stdin.write(f"live {mbps * 1e6} {seconds}\n".encode())
    sim.stdin.flush()
    total = int(sim.stdout.readline())
    written = time.perf_counter() - start
    deadline = time.perf_counter() + 30
    while any(r.got < total for r in readers.values()) and time.perf_counter() < deadline:
        time.sleep(0.01)
    mb = total / 1e6
    print(f"live: the sim wrote {mb:.0f} MB in {written:.1f} s ({mb / written:.0f} MB/s)")
    rates: dict[str, float] = {}
    for name, reader in readers.items():
        reader.stop()
        lag = max(0.0, reader.last - start - written)
        rates[name] = rate = reader.got / max(reader.last - start, 1e-3) / 1e6
        got = reader.got / 1e6
        print(f"  {name:<7} got {got:6.1f} MB at {rate:6.1f} MB/s, {lag:.2f} s behind at the end")
    print(f"  ratio {rates['nomtui'] / max(rates['curl'], 1e-3):.2f} (goal >= {GOAL})")


if __name__ == "__main__":
    main()
