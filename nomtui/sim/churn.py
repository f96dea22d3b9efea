"""Churn: the steady trickle of changes a busy cluster makes, as load for benchmarks.

`SimConfig.churn_per_min` is the fraction of the running allocations changed per minute
(0.01: 1%, about 100 a minute at 10,000 allocations). Each lifecycle tick turns the clock
time since the last one into credit, and each change spends as many allocations as it
touches, so changes come spread evenly over time. What changes, and which allocation or
job, comes from a generator seeded by the sim's seed and the change's number: a fixed
clock gives the same changes in every run.

The changes a real cluster makes, each made in the tick's transaction through the same
write path as everything else (indexes, events, Consul registrations):

- restart: the `http` task of a running allocation exits and restarts after its delay,
  as restart mode "delay" does; Consul drops the instance meanwhile (its health flips);
- reschedule: a running allocation fails; its replacement goes to another node;
- new version: a job is registered with a new image; its deployment replaces every
  allocation of the job.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nomtui.sim import deployments, jobs_ops, scheduler
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

# restart, reschedule, new version: weights over the changes, not over allocations
KINDS = (("restart", 6), ("reschedule", 3), ("version", 1))
MINUTE_NS = 60 * 10**9
# a clock that jumps (a long `advance`, a stalled loop) must not unleash a storm
MAX_PER_TICK = 200
PICK_TRIES = 8


@dataclass
class Churn:
    """Where the churn stands: the credit carried between ticks and what it has done."""

    at_ns: int = 0
    """Clock time the credit was last topped up (0: churn has not started)."""
    credit: float = 0.0
    changes: int = 0
    done: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in KINDS})
    touched: int = 0
    """Allocations touched so far (the unit of `churn_per_min`)."""
    pool: list[str] = field(default_factory=list)
    """Running service allocations to pick from, refreshed once a minute of clock time."""
    pool_at_ns: int = 0


def step(sim: Sim, txn: Txn, state: Churn) -> None:
    rate = sim.config.churn_per_min
    if rate <= 0:
        state.at_ns = 0  # switched off: no credit piles up for when it comes back
        return
    if state.at_ns == 0 or txn.now_ns < state.at_ns:
        state.at_ns = txn.now_ns
        return
    if not state.pool or txn.now_ns - state.pool_at_ns >= MINUTE_NS:
        state.pool = _running(sim)
        state.pool_at_ns = txn.now_ns
    elapsed = txn.now_ns - state.at_ns
    state.at_ns = txn.now_ns
    state.credit += rate * len(state.pool) * elapsed / MINUTE_NS
    made = 0
    while state.credit >= 1.0 and made < MAX_PER_TICK and state.pool:
        rng = random.Random(f"{sim.config.seed}:churn:{state.changes}")
        state.changes += 1
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        touched = _change(sim, txn, state, kind, rng)
        if touched:
            state.done[kind] += 1
            state.touched += touched
            state.credit -= touched
            made += 1
    if made >= MAX_PER_TICK:
        state.credit = 0.0


def _running(sim: Sim) -> list[str]:
    return [
        a["ID"]
        for a in sim.state.allocs.values()
        if a["ClientStatus"] == "running"
        and a["DesiredStatus"] == "run"
        and a["JobType"] == "service"
    ]


def _change(sim: Sim, txn: Txn, state: Churn, kind: str, rng: random.Random) -> int:
    """Make one change of `kind`; the number of allocations it touched (0: none fit)."""
    for _ in range(PICK_TRIES):
        alloc = sim.state.allocs.get(rng.choice(state.pool))
        if alloc is None or alloc["ClientStatus"] != "running" or alloc["DesiredStatus"] != "run":
            continue
        job = sim.state.job(alloc["Namespace"], alloc["JobID"])
        if job is None or job["Stop"] or deployments.active_for(sim, job) is not None:
            continue
        if kind == "restart":
            return restart(sim, txn, alloc)
        if kind == "reschedule":
            return reschedule(sim, txn, job, alloc)
        return new_version(sim, txn, job, state.changes)
    return 0


def restart(sim: Sim, txn: Txn, alloc: Json) -> int:
    from nomtui.sim import lifecycle  # lifecycle runs churn; imported late to avoid a cycle

    if "http" not in (alloc["TaskStates"] or {}):
        return 0
    lifecycle.crash(sim, txn, alloc)
    return 1


def reschedule(sim: Sim, txn: Txn, job: Json, alloc: Json) -> int:
    """The allocation fails for good; the scheduler places a replacement elsewhere."""
    scheduler.finish(sim, txn, alloc, "failed", killed=False, exit_code=137)
    ev = scheduler.new_eval(sim, txn, job, "alloc-failure")
    scheduler.place(sim, txn, job, alloc["TaskGroup"], ev["ID"], previous=alloc)
    scheduler.refresh_job_status(sim, txn, job)
    return 1


def new_version(sim: Sim, txn: Txn, job: Json, number: int) -> int:
    """Register the job again with a new image tag, as a pipeline deploying a commit does."""
    spec = copy.deepcopy(job)
    retagged = False
    for group in spec["TaskGroups"]:
        for task in group["Tasks"]:
            image = (task.get("Config") or {}).get("image")
            if task["Name"] == "http" and isinstance(image, str):
                task["Config"]["image"] = f"{image.rsplit(':', 1)[0]}:churn-{number}"
                retagged = True
    if not retagged:
        return 0
    before = len(scheduler.live_allocs(sim, job))
    jobs_ops.register_in(sim, txn, spec)
    return max(1, before)


def as_dict(state: Churn) -> Json:
    return {"Changes": dict(state.done), "AllocationsTouched": state.touched}


__all__ = ["Churn", "as_dict", "step"]
