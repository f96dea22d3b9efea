"""Deployments: canaries, health, promotion, failure and auto-revert, as Nomad moves them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomtui.sim import emit, scheduler, shapes
from nomtui.sim.clock import rfc3339
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

ACTIVE = ("running", "paused", "pending", "blocked", "unblocking")
# Health is decided faster than Nomad's 10 s default so the demo moves visibly.
MIN_HEALTHY_NS = 3_000_000_000
UNHEALTHY_AFTER_NS = 15_000_000_000


def active_for(sim: Sim, job: Json) -> Json | None:
    for dep in sim.state.deployments.values():
        if (
            dep["JobID"] == job["ID"]
            and dep["Namespace"] == job["Namespace"]
            and dep["Status"] in ACTIVE
        ):
            return dep
    return None


def active_jobs(sim: Sim) -> set[tuple[str, str]]:
    """(namespace, job ID) of every job with an active deployment."""
    deps = sim.state.deployments.values()
    return {(d["Namespace"], d["JobID"]) for d in deps if d["Status"] in ACTIVE}


def create(sim: Sim, txn: Txn, job: Json, canaries: dict[str, int]) -> Json:
    groups: dict[str, Json] = {}
    for group in job["TaskGroups"]:
        update = group.get("Update") or job.get("Update") or {}
        deadline = int(update.get("ProgressDeadline") or 600_000_000_000)
        groups[group["Name"]] = shapes.deployment_group_state(
            desired_total=group["Count"],
            desired_canaries=canaries.get(group["Name"], 0),
            placed_canaries=[],
            auto_promote=bool(update.get("AutoPromote")),
            auto_revert=bool(update.get("AutoRevert")),
            promoted=False,
            healthy=0,
            unhealthy=0,
            placed=0,
            progress_deadline_ns=deadline,
            require_progress_by=rfc3339(txn.now_ns + deadline),
        )
    dep = shapes.deployment(
        deployment_id=sim.ids.uuid(),
        namespace=job["Namespace"],
        job=job,
        eval_priority=job["Priority"],
        status="running",
        status_description=shapes.DESC_RUNNING,
        groups=groups,
        create_index=txn.index,
        modify_index=txn.index,
    )
    sim.state.deployments[dep["ID"]] = dep
    emit.deployment(txn, dep)
    return dep


def cancel_active(sim: Sim, txn: Txn, job: Json, description: str) -> None:
    dep = active_for(sim, job)
    if dep is not None:
        dep["Status"] = "cancelled"
        dep["StatusDescription"] = description
        emit.deployment(txn, dep)


def decide_health(sim: Sim, txn: Txn, alloc: Json) -> None:
    """Healthy after min_healthy_time of a passing check; unhealthy when it keeps failing."""
    dep_status = alloc.get("DeploymentStatus")
    if dep_status is None or dep_status.get("Healthy") is not None:
        return
    started = sim.runtime.started_ns.get(alloc["ID"])
    if started is None or alloc["ClientStatus"] in scheduler.TERMINAL:
        return
    health = sim.state.alloc_health.get(alloc["ID"], "passing")
    running = alloc["ClientStatus"] == "running"
    if running and health == "passing" and txn.now_ns - started >= MIN_HEALTHY_NS:
        dep_status["Healthy"] = True
    elif health == "critical" and txn.now_ns - alloc["CreateTime"] >= UNHEALTHY_AFTER_NS:
        # a task that keeps failing its check, or keeps restarting, misses the deadline
        dep_status["Healthy"] = False
    else:
        return
    dep_status["Timestamp"] = rfc3339(txn.now_ns)
    dep_status["ModifyIndex"] = txn.index
    emit.alloc(sim, txn, alloc)


def progress(sim: Sim, txn: Txn, dep: Json) -> None:
    """Recount the groups; promote, complete or fail the deployment when it is time."""
    if dep["Status"] != "running":
        return
    allocs = [
        a
        for a in sim.state.allocs_of_job(dep["Namespace"], dep["JobID"])
        if a.get("DeploymentID") == dep["ID"]
    ]
    changed = False
    for name, group in dep["TaskGroups"].items():
        mine = [a for a in allocs if a["TaskGroup"] == name]
        counts = (
            len(mine),
            sum(1 for a in mine if (a["DeploymentStatus"] or {}).get("Healthy") is True),
            sum(1 for a in mine if (a["DeploymentStatus"] or {}).get("Healthy") is False),
        )
        if counts != (group["PlacedAllocs"], group["HealthyAllocs"], group["UnhealthyAllocs"]):
            group["PlacedAllocs"], group["HealthyAllocs"], group["UnhealthyAllocs"] = counts
            changed = True
        canaries = [a["ID"] for a in mine if (a["DeploymentStatus"] or {}).get("Canary")]
        if group["DesiredCanaries"] and sorted(canaries) != sorted(group["PlacedCanaries"] or []):
            group["PlacedCanaries"] = canaries
            changed = True
    if any(g["UnhealthyAllocs"] for g in dep["TaskGroups"].values()):
        fail(sim, txn, dep, "Failed due to unhealthy allocations")
        return
    waiting = [g for g in dep["TaskGroups"].values() if g["DesiredCanaries"] and not g["Promoted"]]
    if waiting:
        ready = all(g["HealthyAllocs"] >= g["DesiredCanaries"] for g in waiting)
        if ready and all(g["AutoPromote"] for g in waiting):
            promote(sim, txn, dep, None)
            return
        description = shapes.DESC_NEEDS_PROMOTION if ready else shapes.DESC_RUNNING
        if dep["StatusDescription"] != description:
            dep["StatusDescription"] = description
            changed = True
    elif all(g["HealthyAllocs"] >= g["DesiredTotal"] for g in dep["TaskGroups"].values()):
        complete(sim, txn, dep)
        return
    if changed:
        emit.deployment(txn, dep)


def complete(sim: Sim, txn: Txn, dep: Json) -> None:
    dep["Status"] = "successful"
    dep["StatusDescription"] = shapes.DESC_SUCCESSFUL
    emit.deployment(txn, dep)
    job = sim.state.job_version(dep["Namespace"], dep["JobID"], dep["JobVersion"])
    if job is not None and not job["Stable"]:
        job["Stable"] = True
        job["ModifyIndex"] = txn.index
        emit.job(txn, job)


def promote(sim: Sim, txn: Txn, dep: Json, groups: list[str] | None) -> None:
    """Canaries become the new version; the old allocations make way for the rest."""
    job = sim.state.job(dep["Namespace"], dep["JobID"])
    assert job is not None
    for name, group in dep["TaskGroups"].items():
        if groups is not None and name not in groups:
            continue
        if not group["DesiredCanaries"] or group["Promoted"]:
            continue
        group["Promoted"] = True
        for alloc_id in group["PlacedCanaries"] or []:
            alloc = sim.state.allocs.get(alloc_id)
            if alloc is not None and alloc["DeploymentStatus"]:
                alloc["DeploymentStatus"]["Canary"] = False
                emit.alloc(sim, txn, alloc)
        old = [
            a for a in scheduler.live_allocs(sim, job, name) if a["JobVersion"] != job["Version"]
        ]
        for alloc in old:
            scheduler.stop(sim, txn, alloc, "alloc is being updated due to job update")
        have = len(
            [a for a in scheduler.live_allocs(sim, job, name) if a["JobVersion"] == job["Version"]]
        )
        ev = scheduler.new_eval(sim, txn, job, "deployment-watcher", deployment_id=dep["ID"])
        for _ in range(group["DesiredTotal"] - have):
            scheduler.place(sim, txn, job, name, ev["ID"], deployment_id=dep["ID"])
    dep["StatusDescription"] = shapes.DESC_RUNNING
    emit.deployment(txn, dep, "DeploymentPromotion")


def fail(sim: Sim, txn: Txn, dep: Json, description: str) -> int | None:
    """Mark failed; with auto_revert, register the last stable version again."""
    dep["Status"] = "failed"
    auto_revert = any(g["AutoRevert"] for g in dep["TaskGroups"].values())
    target = last_stable(sim, dep) if auto_revert else None
    if target is not None:
        dep["StatusDescription"] = (
            f"{description} - rolling back to job version {target['Version']}"
        )
    else:
        dep["StatusDescription"] = description
    emit.deployment(txn, dep)
    if target is None:
        return None
    from nomtui.sim import jobs_ops

    jobs_ops.revert_in(sim, txn, target)
    return int(target["Version"])


def last_stable(sim: Sim, dep: Json) -> Json | None:
    for version in sim.state.job_versions.get((dep["Namespace"], dep["JobID"]), []):
        if version["Version"] < dep["JobVersion"] and version["Stable"]:
            return version
    return None
