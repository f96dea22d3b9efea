"""How fast nomtui's models decode a big allocation list (target: 10,000 stubs <= 50 ms).

The body is built from the shape of the documented `GET /v1/allocations` sample
(shared/api/nomad/GET_v1_allocations.json) with varied IDs, jobs, nodes, statuses and one
or two tasks per allocation, so it looks like a busy cluster's answer. It does not use
nomtui.sim: this measures decoding only. Two variants are timed: the full stubs, and
stubs without `TaskStates` (what `task_states=false` returns). `json.loads` of the same
bytes is timed for comparison; it builds plain dicts, no types, no validation.

Usage: python bench/decode.py [--allocs 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from nomtui.models.allocs import AllocStub
from nomtui.models.base import decode, decoder

SAMPLE = Path(__file__).resolve().parents[2] / "shared/api/nomad/GET_v1_allocations.json"
STATUSES = ["running"] * 14 + ["pending", "complete", "failed", "lost"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _template() -> dict[str, Any]:
    if not SAMPLE.is_file():
        raise SystemExit(f"{SAMPLE} not found: clone the shared/ folder beside the repo")
    stubs: list[dict[str, Any]] = json.loads(SAMPLE.read_bytes())
    return stubs[0]


def build_stubs(count: int, *, task_states: bool, seed: int = 1) -> bytes:
    """`count` allocation stubs as one JSON array, like `GET /v1/allocations`."""
    rng = random.Random(seed)
    template = _template()
    task_state = next(iter(template["TaskStates"].values()))
    nodes = [(_uuid(rng), f"worker-{n:03d}") for n in range(200)]
    jobs = [f"ia-{n:04d}-web" for n in range(count // 5 + 1)]
    base_time = template["CreateTime"]
    stubs = []
    for n in range(count):
        stub = copy.deepcopy(template)
        job = jobs[n // 5]
        node_id, node_name = rng.choice(nodes)
        created = base_time + n * 1_000_003_117
        status = rng.choice(STATUSES)
        stub.update(
            ID=_uuid(rng),
            EvalID=_uuid(rng),
            JobID=job,
            Name=f"{job}.web[{n % 5}]",
            TaskGroup="web",
            NodeID=node_id,
            NodeName=node_name,
            JobVersion=rng.randint(0, 40),
            ClientStatus=status,
            CreateIndex=10 + n,
            ModifyIndex=15 + n,
            CreateTime=created,
            ModifyTime=created + 12_392_469_000,
        )
        if task_states:
            http = copy.deepcopy(task_state)
            http["State"] = "running" if status == "running" else "dead"
            http["Restarts"] = rng.choice([0, 0, 0, 1, 3])
            states = {"http": http}
            if n % 3 == 0:  # the `kv` prestart task some jobs carry
                kv = copy.deepcopy(task_state)
                kv.update(State="dead", FinishedAt="2021-11-04T10:14:12.5+01:00")
                states["kv"] = kv
            stub["TaskStates"] = states
        else:
            stub.pop("TaskStates", None)
        stubs.append(stub)
    return json.dumps(stubs).encode()


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Best wall time in ms; the GC is collected before each run so runs are comparable."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--allocs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    decoder(list[AllocStub])  # built once in real use too; keep it out of the timing
    for label, task_states in (("alloc stubs", True), ("alloc stubs, task_states=false", False)):
        body = build_stubs(args.allocs, task_states=task_states)
        stubs = decode(list[AllocStub], body)
        assert len(stubs) == args.allocs and len({s.ID for s in stubs}) == args.allocs
        typed = best_of(args.runs, partial(decode, list[AllocStub], body))
        plain = best_of(args.runs, partial(json.loads, body))
        size = len(body) / 1e6
        print(
            f"decode {args.allocs} {label}: {typed:.1f} ms (best of {args.runs}); "
            f"json.loads {plain:.1f} ms; body {size:.1f} MB"
        )


if __name__ == "__main__":
    main()
