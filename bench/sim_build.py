"""How long the sim takes to build a big cluster, and to serve its big lists.

Build: target 10,000 allocations in < 5 s. Serve: the answer of `/v1/jobs` and
`/v1/allocations` the first time (every item encoded), then right after one allocation
changed (only that item re-encoded: see nomtui/sim/answers.py), each timed over HTTP on
loopback from request to last byte. The sim runs in this process, its lifecycle off.

Usage: python bench/sim_build.py [--jobs 2000 --allocs-per-job 5 --nodes 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from nomtui.sim import lifecycle
from nomtui.sim.server import Sim, SimConfig

LISTS = ("/v1/jobs", "/v1/allocations")


async def timed_get(client: httpx.AsyncClient, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    resp = await client.get(path)
    resp.raise_for_status()
    return time.perf_counter() - start, len(resp.content)


def change_one_alloc(sim: Sim) -> None:
    """One allocation's task restarts: a single write, as churn makes them."""
    alloc = next(a for a in sim.state.allocs.values() if a["ClientStatus"] == "running")
    with sim.state.write() as txn:
        lifecycle.crash(sim, txn, alloc)  # through emit.alloc, like every change


async def serve(sim: Sim) -> None:
    headers = {"X-Nomad-Token": sim.management_token}
    async with httpx.AsyncClient(base_url=sim.nomad_addr, headers=headers, timeout=120) as c:
        for path in LISTS:
            first, size = await timed_get(c, path)
            change_one_alloc(sim)
            again, _ = await timed_get(c, path)
            print(
                f"  GET {path:<16} {size / 1e6:5.1f} MB: first answer {first * 1000:6.0f} ms, "
                f"after one change {again * 1000:6.0f} ms"
            )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--allocs-per-job", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--consul-instances", type=int, default=2000)
    args = parser.parse_args()
    cfg = SimConfig(
        jobs=args.jobs,
        allocs_per_job=args.allocs_per_job,
        nodes=args.nodes,
        consul_instances=args.consul_instances,
        lifecycle=False,
        log_lines_per_s=0,
    )
    started = time.perf_counter()
    sim = Sim(cfg)
    await sim.start()
    built = time.perf_counter() - started
    print(
        f"jobs={args.jobs} allocs={len(sim.state.allocs)} nodes={len(sim.state.nodes)} "
        f"consul_instances={len(sim.state.consul_services)} build_and_start_s={built:.2f}"
    )
    try:
        await serve(sim)
    finally:
        await sim.stop()


if __name__ == "__main__":
    asyncio.run(main())
