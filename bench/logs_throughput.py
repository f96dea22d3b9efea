"""How fast `nomtui logs` moves a big log, against curl reading the same log raw.

A simulated cluster runs in its own process with a `--mb` MB stdout log already written
for www-nomad's `http` task (through the sim's own rotation, 32 MiB files). Then, each
`--runs` times:

- `curl .../v1/client/fs/logs/<alloc>?plain=true` and `nomtui logs www-nomad`, both to
  /dev/null, each ending at the end of the log;
- the same with following (`follow=true`, `nomtui logs -f`): the output goes to a pipe
  this script drains, and the reader is stopped once every byte has arrived.

curl's plain stream is the floor cost of the data (no framing, no lines, no sanitising);
nomtui reads the framed stream (base64 JSON, which it needs for exact resumption), splits
lines and sanitises them. Goal: nomtui at >= 0.7 of curl's rate.

Usage: python bench/logs_throughput.py [--mb 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
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
        sim, info = start_sim(args.mb, Path(tmp))
        try:
            run(info, args.runs)
            live(sim, info, args.live_mbps, args.mb / args.live_mbps)
        finally:
            sim.terminate()
            sim.wait(10)


def run(info: dict[str, str], runs: int) -> None:
    total = int(info["bytes"])
    env = {**os.environ, "NOMAD_ADDR": info["addr"], "NOMAD_TOKEN": info["token"]}
    env = {k: v for k, v in env.items() if k != "NOMAD_NAMESPACE"}
    url = f"{info['addr']}/v1/client/fs/logs/{info['alloc']}?task=http&type=stdout&plain=true"
    curl = ["curl", "-sfN", "-H", f"X-Nomad-Token: {info['token']}"]
    cases = {
        "to the end": (
            lambda: to_devnull([*curl, url + "&follow=false"], env),
            lambda: to_devnull([*NOMTUI, "logs", "www-nomad"], env),
        ),
        "following (-f)": (
            lambda: drained([*curl, url + "&follow=true"], env, total),
            lambda: drained([*NOMTUI, "logs", "www-nomad", "-f"], env, total),
        ),
    }
    mb = total / 1e6
    print(f"log: {mb:.0f} MB in www-nomad's http stdout; best and median of {runs} runs")
    for name, (curl_run, nomtui_run) in cases.items():
        curl_s = [curl_run() for _ in range(runs)]
        nomtui_s = [nomtui_run() for _ in range(runs)]
        c, n = min(curl_s), min(nomtui_s)
        print(
            f"  {name:<15} curl {mb / c:7.1f} MB/s (median {mb / statistics.median(curl_s):6.1f})"
            f"   nomtui {mb / n:7.1f} MB/s (median {mb / statistics.median(nomtui_s):6.1f})"
            f"   ratio {c / n:.2f} (goal >= {GOAL})"
        )


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


def live(sim: subprocess.Popen[bytes], info: dict[str, str], mbps: float, seconds: float) -> None:
    """Both follow www-wiki's log at once while the sim writes it at `mbps`: does each keep
    up, and how far behind is it when the writing stops?"""
    env = {**os.environ, "NOMAD_ADDR": info["addr"], "NOMAD_TOKEN": info["token"]}
    url = f"{info['addr']}/v1/client/fs/logs/{info['live']}?task=http&type=stdout&plain=true"
    readers = {
        "curl": Drain(["curl", "-sfN", "-H", f"X-Nomad-Token: {info['token']}",
                       url + "&follow=true"], env),
        "nomtui": Drain([*NOMTUI, "logs", "www-wiki", "-f"], env),
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
    for name, reader in readers.items():
        reader.stop()
        lag = max(0.0, reader.last - start - written)
        rate = reader.got / (reader.last - start) / 1e6
        got = reader.got / 1e6
        print(f"  {name:<7} got {got:6.1f} MB at {rate:6.1f} MB/s, {lag:.2f} s behind at the end")


if __name__ == "__main__":
    main()
