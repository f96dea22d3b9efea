"""How fast `nomtui cp` moves a 100 MB file into an allocation, against a raw websocket.

A simulated cluster runs in its own process. Timed, best and median of `--runs`:

- raw websocket: one exec of `head -c N > file` and N bytes of stdin frames pushed with
  `websockets` directly, frames encoded in advance (64 KiB of data each, the most the
  exec session sends): the floor cost of the transport, with nothing read, hashed or
  checked;
- `copy_in` in this process: reading the file, hashing it, framing, sending, and the
  remote size + sha256 check (the time until the last byte was sent is shown too);
- `nomtui cp` end to end, a new process each time (start-up and the job lookup included).

Usage: python bench/cp_throughput.py [--mb 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from websockets.asyncio.client import connect

from nomtui.actions.cp import copy_in, prepare
from nomtui.client.http import HttpClient

SIM = r"""
import json, sys, threading
from pathlib import Path
from nomtui.sim.server import SimConfig, SimThread

config = SimConfig(log_lines_per_s=0, lifecycle=False, data_dir=Path(sys.argv[1]))
sim = SimThread(config).start("127.0.0.1", 0, 0)
alloc = next(a["ID"] for a in sim.state.allocs.values()
             if a["JobID"] == "www-nomad" and a["ClientStatus"] == "running")
print(json.dumps({"addr": sim.nomad_addr, "token": sim.management_token, "alloc": alloc,
                  "dir": str(sim.files.task_dir(alloc, "http"))}), flush=True)
threading.Event().wait()
"""
FRAME = 64 * 1024


async def raw_websocket(info: dict[str, str], size: int) -> float:
    frames = [
        json.dumps({"stdin": {"data": base64.b64encode(os.urandom(FRAME)).decode()}})
        for _ in range(16)
    ]
    # The same remote side as nomtui's: a constant script writing N bytes to a file.
    query = urlencode(
        {
            "task": "http",
            "command": json.dumps(["/bin/sh", "-c", 'head -c "$1" > raw.bin', "sh", str(size)]),
            "tty": "false",
        }
    )
    url = info["addr"].replace("http://", "ws://") + (
        f"/v1/client/allocation/{info['alloc']}/exec?{query}"
    )
    start = time.perf_counter()
    async with connect(
        url, additional_headers={"X-Nomad-Token": info["token"]}, compression=None
    ) as ws:
        for i in range(size // FRAME):
            await ws.send(frames[i % len(frames)])
        await ws.send(json.dumps({"stdin": {"close": True}}))
        async for message in ws:
            if json.loads(message).get("exited"):
                break
    return time.perf_counter() - start


SENT: list[float] = []
"""copy_in runs: seconds until the last byte was handed to the socket (before the check)."""


async def in_process(info: dict[str, str], path: Path) -> float:
    http = HttpClient(info["addr"], info["token"])
    try:
        start = time.perf_counter()
        with prepare(path) as payload:
            left = payload.size

            def progress(count: int) -> None:
                nonlocal left
                left -= count
                if not left:
                    SENT.append(time.perf_counter() - start)

            await copy_in(http, info["alloc"], "http", payload, "inproc.bin", progress=progress)
        return time.perf_counter() - start
    finally:
        await http.aclose()


def end_to_end(info: dict[str, str], path: Path) -> float:
    env = {**os.environ, "NOMAD_ADDR": info["addr"], "NOMAD_TOKEN": info["token"]}
    argv = [sys.executable, "-m", "nomtui", "cp", "--job", "www-nomad", str(path), "cli.bin"]
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="nomtui-bench-") as tmp:
        sim = subprocess.Popen(
            [sys.executable, "-c", SIM, tmp], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        try:
            assert sim.stdout is not None
            info: dict[str, str] = json.loads(sim.stdout.readline())
            path = Path(tmp) / "payload.bin"
            path.write_bytes(os.urandom(size))
            cases = {
                "raw websocket": lambda: asyncio.run(raw_websocket(info, size)),
                "copy_in": lambda: asyncio.run(in_process(info, path)),
                "nomtui cp": lambda: end_to_end(info, path),
            }
            mb = size / 1e6
            print(f"{mb:.0f} MB into www-nomad's http task; best and median of {args.runs} runs")
            best_raw = 0.0
            for name, case in cases.items():
                times = [case() for _ in range(args.runs)]
                best = min(times)
                best_raw = best_raw or best
                print(
                    f"  {name:<14} {mb / best:6.1f} MB/s (median "
                    f"{mb / statistics.median(times):6.1f})   {best_raw / best:.2f} of raw"
                )
            sent = min(SENT)
            print(
                f"  (copy_in had sent every byte after {sent:.2f} s, {mb / sent:.1f} MB/s, "
                f"{best_raw / sent:.2f} of raw; the rest is the size + sha256 check there)"
            )
            there = Path(info["dir"])
            assert (there / "cli.bin").read_bytes() == path.read_bytes()
        finally:
            sim.terminate()
            sim.wait(10)


if __name__ == "__main__":
    main()
