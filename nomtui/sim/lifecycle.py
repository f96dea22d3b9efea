"""The clients' side of the sim: tasks start, crash, finish; deployments and drains progress.

One tick looks at the whole cluster and writes at most one transaction, so a blocking query
sees each step of a rollout as a separate index, the way a real cluster reports it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from nomtui.sim import churn, cluster_ops, deployments, emit, jobs_ops, scheduler, shapes
from nomtui.sim.clock import rfc3339
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

log = logging.getLogger(__name__)

START_DELAY_NS = 1_000_000_000
BATCH_RUN_NS = 5_000_000_000
CRASH_AFTER_NS = 6_000_000_000
RESTART_DELAY_NS = 4_000_000_000
RESCHEDULE_EVERY_NS = 5_000_000_000
PERIODIC_INTERVAL_NS = 300_000_000_000


async def run(sim: Sim) -> None:
    while True:
        await asyncio.sleep(sim.config.tick_s)
        try:
            tick(sim)
        except Exception:
            # A bug in one tick must not freeze the whole cluster; it is logged loudly.
            log.exception("sim lifecycle tick failed")


def tick(sim: Sim) -> None:
    allocs = sim.state.allocs
    with sim.state.write() as txn:
        touched_jobs: set[tuple[str, str]] = set()
        # Only allocations with something pending: at scale nearly all of them are settled.
        awake = allocs.awake
        for alloc in allocs.awake_in_order():
            before = alloc["ModifyIndex"]
            step_alloc(sim, txn, alloc)
            deployments.decide_health(sim, txn, alloc)
            if alloc["ModifyIndex"] != before:
                touched_jobs.add((alloc["Namespace"], alloc["JobID"]))
            if settled(sim, alloc):
                awake.discard(alloc["ID"])
        for dep in list(sim.state.deployments.values()):
            deployments.progress(sim, txn, dep)
        for node in list(sim.state.nodes.values()):
            if node["DrainStrategy"] is not None:
                step_drain(sim, txn, node)
        step_periodic(sim, txn)
        step_reschedule(sim, txn)
        churn.step(sim, txn, sim.churn)
        for key in touched_jobs:
            job = sim.state.jobs.get(key)
            if job is not None:
                scheduler.refresh_job_status(sim, txn, job)


def settled(sim: Sim, alloc: Json) -> bool:
    """Nothing will happen to it by itself: only a write (which wakes it) can move it."""
    if alloc["ClientStatus"] in scheduler.TERMINAL:
        return True
    if alloc["DesiredStatus"] != "run" or alloc["ClientStatus"] != "running":
        return False
    if alloc["JobType"] in ("batch", "sysbatch"):
        return False
    if sim.runtime.behaviour.get((alloc["Namespace"], alloc["JobID"])) == "crash":
        return False
    node = sim.state.nodes.get(alloc["NodeID"])
    if node is None or node["Status"] == "down":
        return False
    health = alloc.get("DeploymentStatus")
    return health is None or health.get("Healthy") is not None


def step_alloc(sim: Sim, txn: Txn, alloc: Json) -> None:
    status, desired = alloc["ClientStatus"], alloc["DesiredStatus"]
    if status in scheduler.TERMINAL:
        return
    node = sim.state.nodes.get(alloc["NodeID"])
    if node is None or node["Status"] == "down":
        scheduler.finish(sim, txn, alloc, "lost", killed=True)
        return
    if desired != "run":
        scheduler.finish(sim, txn, alloc, "complete", killed=True)
        return
    started = sim.runtime.started_ns.get(alloc["ID"])
    if status == "pending":
        if started is not None:
            restart_after_crash(sim, txn, alloc)
        elif txn.now_ns - alloc["CreateTime"] >= START_DELAY_NS:
            scheduler.start(sim, txn, alloc)
        return
    if started is None:
        return
    if alloc["JobType"] in ("batch", "sysbatch") and txn.now_ns - started >= BATCH_RUN_NS:
        scheduler.finish(sim, txn, alloc, "complete", killed=False)
        return
    behaviour = sim.runtime.behaviour.get((alloc["Namespace"], alloc["JobID"]))
    if behaviour == "crash" and txn.now_ns - started >= CRASH_AFTER_NS:
        crash(sim, txn, alloc)


def crash(sim: Sim, txn: Txn, alloc: Json) -> None:
    """The `http` task dies and waits out its restart delay, as restart mode "delay" does."""
    ts = alloc["TaskStates"].get("http")
    if ts is None:
        return
    for event in (
        shapes.task_event(
            "Terminated",
            txn.now_ns,
            exit_code=1,
            display_message='Exit Code: 1, Exit Message: "Docker container '
            'exited with non-zero exit code: 1"',
        ),
        shapes.task_event(
            "Restarting",
            txn.now_ns,
            start_delay_ns=RESTART_DELAY_NS,
            restart_reason="Restart within policy",
            display_message="Restart within policy - Task restarting in 4s",
        ),
    ):
        shapes.append_event(ts, event)
    ts["State"] = "pending"
    ts["Restarts"] += 1
    ts["LastRestart"] = rfc3339(txn.now_ns)
    alloc["ClientStatus"] = "pending"
    alloc["ClientDescription"] = "Tasks are pending"
    sim.runtime.next_crash_ns[alloc["ID"]] = txn.now_ns + RESTART_DELAY_NS
    sim.files.stop_task(alloc["ID"], "http")
    emit.alloc(sim, txn, alloc)


def restart_after_crash(sim: Sim, txn: Txn, alloc: Json) -> None:
    if txn.now_ns < sim.runtime.next_crash_ns.get(alloc["ID"], 0):
        return
    ts = alloc["TaskStates"]["http"]
    shapes.append_event(
        ts, shapes.task_event("Started", txn.now_ns, display_message="Task started by client")
    )
    ts["State"] = "running"
    ts["StartedAt"] = rfc3339(txn.now_ns)
    alloc["ClientStatus"] = "running"
    alloc["ClientDescription"] = "Tasks are running"
    sim.runtime.started_ns[alloc["ID"]] = txn.now_ns
    sim.files.run_task(alloc["ID"], "http", kind="crash")
    emit.alloc(sim, txn, alloc)


def step_drain(sim: Sim, txn: Txn, node: Json) -> None:
    """Migrate one movable allocation per tick; what can't move waits for the deadline."""
    remaining = [
        a
        for a in sim.state.allocs_of_node(node["ID"])
        if scheduler.is_live(a) and a["JobType"] == "service"
    ]
    forced = deadline_passed(sim, node, txn.now_ns)
    for alloc in remaining:
        job = sim.state.job(alloc["Namespace"], alloc["JobID"])
        target = None
        if job is not None and not job["Stop"]:
            group = scheduler.group_of(job, alloc["TaskGroup"])
            target = scheduler.pick_node(sim, job, group, avoid=node["ID"])
        if target is None and not forced:
            continue
        scheduler.stop(sim, txn, alloc, "alloc is being migrated", migrate=True)
        if target is not None and job is not None:
            ev = scheduler.new_eval(sim, txn, job, "node-drain", node_id=node["ID"])
            scheduler.place(sim, txn, job, alloc["TaskGroup"], ev["ID"], previous=alloc)
        return
    if not remaining or forced:
        cluster_ops.finish_drain(sim, node, txn.now_ns)
        emit.node(sim, txn, node, "NodeDrain")


def deadline_passed(sim: Sim, node: Json, now_ns: int) -> bool:
    deadline = int(node["DrainStrategy"]["DrainSpec"].get("Deadline") or 0)
    if deadline < 0:
        return True  # a negative deadline forces the drain at once
    force_at = sim.runtime.drain_deadline_ns.get(node["ID"])
    return deadline > 0 and force_at is not None and now_ns >= force_at


def step_periodic(sim: Sim, txn: Txn) -> None:
    for job in list(sim.state.jobs.values()):
        periodic = job.get("Periodic")
        if not periodic or not periodic.get("Enabled") or job["Stop"]:
            continue
        key = (job["Namespace"], job["ID"])
        due = sim.runtime.periodic_next_ns.setdefault(key, txn.now_ns + PERIODIC_INTERVAL_NS)
        if txn.now_ns >= due:
            jobs_ops.launch_periodic(sim, txn, job)
            sim.runtime.periodic_next_ns[key] = txn.now_ns + PERIODIC_INTERVAL_NS


def step_reschedule(sim: Sim, txn: Txn) -> None:
    """Service groups short of their count get replacements, like a rescheduling eval."""
    if txn.now_ns - sim.runtime.last_reschedule_ns < RESCHEDULE_EVERY_NS:
        return
    sim.runtime.last_reschedule_ns = txn.now_ns
    busy = deployments.active_jobs(sim)
    for job in list(sim.state.jobs.values()):
        if job["Type"] != "service" or job["Stop"] or (job["Namespace"], job["ID"]) in busy:
            continue
        for group in job["TaskGroups"]:
            live = scheduler.live_allocs(sim, job, group["Name"])
            missing = group["Count"] - len(live)
            if missing <= 0 or scheduler.pick_node(sim, job, group) is None:
                continue
            ev = scheduler.new_eval(sim, txn, job, "alloc-failure")
            for _ in range(missing):
                scheduler.place(sim, txn, job, group["Name"], ev["ID"])
