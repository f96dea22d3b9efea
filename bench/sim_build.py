"""How long the sim takes to build a big cluster (target: 10,000 allocations in < 5 s).

Usage: python bench/sim_build.py [--jobs 2000 --allocs-per-job 5 --nodes 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from nomtui.sim.server import Sim, SimConfig


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
    )
    started = time.perf_counter()
    sim = Sim(cfg)
    await sim.start()
    built = time.perf_counter() - started
    await sim.stop()
    print(
        f"jobs={args.jobs} allocs={len(sim.state.allocs)} nodes={len(sim.state.nodes)} "
        f"consul_instances={len(sim.state.consul_services)} build_and_start_s={built:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
