"""How fast the sim applies the refresh filters nomtui sends, over a big allocation list.

nomtui re-reads the items an event batch changed with one filtered list request:
`ID == "a" or ID == "b" or ...` (up to 50 IDs), optionally AND-ed with another filter.
The sim runs that predicate over every item (nomtui/sim/bexpr.py). Timed here: the
predicate alone over 10,000 allocation-like dicts (no HTTP, no encoding), grouped (what
compile_filter builds: one set lookup per item) and ungrouped (the chain leaf by leaf, as
the sim did before), plus the parse of the expression itself. Best of --runs.

Usage: python bench/sim_filter.py [--allocs 10000] [--ids 50] [--runs 7]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from nomtui.sim.bexpr import Predicate, _compile_ungrouped, compile_filter

Json = dict[str, Any]


def allocations(n: int, rng: random.Random) -> list[Json]:
    """Allocation stubs with the fields filters look at, and a few they don't."""
    jobs = [f"job-{j}" for j in range(max(1, n // 5))]
    return [
        {
            "ID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "Namespace": rng.choice(("default", "batch", "ops")),
            "JobID": rng.choice(jobs),
            "TaskGroup": "web",
            "NodeID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "ClientStatus": rng.choice(("running", "running", "pending", "complete", "failed")),
            "DesiredStatus": "run",
            "CreateIndex": i,
            "ModifyIndex": i + 7,
        }
        for i in range(n)
    ]


def apply(keep: Predicate, items: list[Json]) -> list[Json]:
    return [i for i in items if keep(i)]


def best(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allocs", type=int, default=10_000)
    ap.add_argument("--ids", type=int, default=50)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(6)
    allocs = allocations(args.allocs, rng)
    changed = rng.sample(allocs, args.ids)
    chain = " or ".join(f'ID == "{a["ID"]}"' for a in changed)
    job, namespace = changed[0]["JobID"], changed[0]["Namespace"]
    filters = {
        f"{args.ids}-ID or-chain": chain,
        "(JobID == ...) and (chain)": f'(JobID == "{job}") and ({chain})',
        "(Namespace == ...) and (chain)": f'(Namespace == "{namespace}") and ({chain})',
    }
    builders: dict[str, Callable[[str], Predicate]] = {
        "grouped": compile_filter.__wrapped__,  # uncached, so the parse is timed too
        "ungrouped": _compile_ungrouped,
    }
    print(f"{args.allocs} allocations, best of {args.runs} runs")
    for name, expr in filters.items():
        kept: dict[str, list[str]] = {}
        for label, build in builders.items():
            keep = build(expr)
            kept[label] = [a["ID"] for a in apply(keep, allocs)]
            parse = best(args.runs, partial(build, expr))
            applied = best(args.runs, partial(apply, keep, allocs))
            print(
                f"  {name:<31} {label:<9} apply {applied * 1000:7.2f} ms"
                f"  parse {parse * 1000:6.2f} ms  kept {len(kept[label])}"
            )
        if kept["grouped"] != kept["ungrouped"]:
            raise SystemExit(f"Error: the grouped and ungrouped filters disagree on {name}.")


if __name__ == "__main__":
    main()
