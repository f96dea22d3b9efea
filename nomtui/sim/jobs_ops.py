"""Job writes: register, reconcile, stop, purge, revert, scale, dispatch, periodic force."""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING

from nomtui.sim import deployments, emit, scheduler, shapes
from nomtui.sim.http import ApiError
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

TRACKED_VERSIONS = 6
# Fields that change on every write and so never count as a change of the spec.
NON_SPEC = (
    "Status",
    "StatusDescription",
    "Stable",
    "Version",
    "SubmitTime",
    "CreateIndex",
    "ModifyIndex",
    "JobModifyIndex",
)


def spec_of(job: Json) -> Json:
    return {k: v for k, v in job.items() if k not in NON_SPEC}


def register(sim: Sim, spec: Json, namespace: str, *, source: str | None = None) -> Json:
    if not spec.get("ID"):
        raise ApiError(400, "Job ID does not exist")
    if not spec.get("TaskGroups"):
        raise ApiError(400, "1 error occurred:\n\t* Missing job task groups\n\n")
    namespace = spec.get("Namespace") or namespace
    if namespace not in sim.state.namespaces:
        raise ApiError(400, f'job "{spec["ID"]}" is in nonexistent namespace "{namespace}"')
    job = shapes.canonical_job(spec, namespace=namespace)
    with sim.state.write() as txn:
        ev, job = register_in(sim, txn, job, source=source)
    return shapes.register_response(
        eval_id=ev["ID"],
        eval_create_index=ev["CreateIndex"],
        job_modify_index=job["JobModifyIndex"],
        index=txn.index,
    )


def register_in(
    sim: Sim,
    txn: Txn,
    job: Json,
    *,
    source: str | None = None,
    triggered_by: str = "job-register",
) -> tuple[Json, Json]:
    key = (job["Namespace"], job["ID"])
    old = sim.state.jobs.get(key)
    changed = old is None or spec_of(old) != spec_of(job)
    job["SubmitTime"] = txn.now_ns
    job["ModifyIndex"] = txn.index
    job["Stable"] = False
    job["StatusDescription"] = old["StatusDescription"] if old else ""
    if old is None:
        job["Version"] = 0
        job["CreateIndex"] = txn.index
        job["JobModifyIndex"] = txn.index
        job["Status"] = "pending"
    else:
        job["Version"] = old["Version"] + 1 if changed else old["Version"]
        job["CreateIndex"] = old["CreateIndex"]
        job["JobModifyIndex"] = txn.index if changed else old["JobModifyIndex"]
        job["Status"] = old["Status"]
        job["Stable"] = False if changed else old["Stable"]
    versions = sim.state.job_versions.setdefault(key, [])
    if changed:
        versions.insert(0, job)
        del versions[TRACKED_VERSIONS:]
    else:
        versions[0] = job
    sim.state.jobs[key] = job
    sim.state.submissions[(*key, job["Version"])] = shapes.job_submission(
        job, source=source or shapes.hcl_source(job)
    )
    emit.job(txn, job)
    ev = scheduler.new_eval(sim, txn, job, triggered_by)
    reconcile(sim, txn, job, ev, update=changed and old is not None)
    scheduler.refresh_job_status(sim, txn, job)
    return ev, job


def update_block(job: Json, group: Json) -> Json:
    return dict(group.get("Update") or job.get("Update") or {})


def reconcile(sim: Sim, txn: Txn, job: Json, ev: Json, *, update: bool) -> None:
    """Make the allocations match the job, through a deployment for service jobs."""
    if job["Stop"]:
        for alloc in scheduler.live_allocs(sim, job):
            scheduler.stop(sim, txn, alloc, "alloc not needed since job is stopped")
        deployments.cancel_active(sim, txn, job, shapes.DESC_STOPPED)
        return
    if job.get("Periodic") or job.get("ParameterizedJob"):
        return
    if job["Type"] in ("batch", "sysbatch"):
        place_batch(sim, txn, job, ev)
        return
    plans: dict[str, tuple[list[Json], list[Json], int]] = {}
    for group in job["TaskGroups"]:
        live = scheduler.live_allocs(sim, job, group["Name"])
        old = [a for a in live if a["JobVersion"] != job["Version"]]
        new = [a for a in live if a["JobVersion"] == job["Version"]]
        canaries = int(update_block(job, group).get("Canary") or 0) if update and old else 0
        plans[group["Name"]] = (old, new, canaries)
    needs_work = any(
        old or len(new) != group["Count"]
        for group, (old, new, _) in zip(job["TaskGroups"], plans.values(), strict=True)
    )
    dep = None
    if needs_work and job["Type"] == "service" and job.get("Update"):
        deployments.cancel_active(sim, txn, job, shapes.DESC_NEWER_JOB)
        dep = deployments.create(sim, txn, job, {g: p[2] for g, p in plans.items()})
    dep_id = dep["ID"] if dep else ""
    failed: list[str] = []
    for group in job["TaskGroups"]:
        name = group["Name"]
        old, new, canaries = plans[name]
        if canaries:
            for _ in range(canaries):
                if not scheduler.place(
                    sim, txn, job, name, ev["ID"], deployment_id=dep_id, canary=True
                ):
                    failed.append(name)
            continue
        for alloc in old:
            scheduler.stop(sim, txn, alloc, "alloc is being updated due to job update")
        for _ in range(group["Count"] - len(new)):
            if not scheduler.place(sim, txn, job, name, ev["ID"], deployment_id=dep_id):
                failed.append(name)
        for alloc in sorted(new, key=scheduler.previous_index)[group["Count"] :]:
            scheduler.stop(sim, txn, alloc, "alloc not needed due to job update")
    if failed:
        block(sim, txn, job, ev, failed)


def place_batch(sim: Sim, txn: Txn, job: Json, ev: Json) -> None:
    failed: list[str] = []
    for group in job["TaskGroups"]:
        done = [
            a
            for a in sim.state.allocs_of_job(job["Namespace"], job["ID"])
            if a["TaskGroup"] == group["Name"]
            and a["JobVersion"] == job["Version"]
            and (scheduler.is_live(a) or a["ClientStatus"] == "complete")
        ]
        for _ in range(group["Count"] - len(done)):
            if not scheduler.place(sim, txn, job, group["Name"], ev["ID"]):
                failed.append(group["Name"])
    if failed:
        block(sim, txn, job, ev, failed)


def block(sim: Sim, txn: Txn, job: Json, ev: Json, groups: list[str]) -> None:
    """Unplaceable groups: the eval records why, and a blocked eval waits for capacity."""
    nodes = len(sim.state.nodes)
    ready = sum(1 for n in sim.state.nodes.values() if n["Status"] == "ready")
    metrics = {
        name: {
            "NodesEvaluated": ready,
            "NodesFiltered": nodes - ready,
            "NodesInPool": nodes,
            "NodesAvailable": {"dc1": ready},
            "ClassFiltered": None,
            "ConstraintFiltered": None,
            "NodesExhausted": ready,
            "ClassExhausted": None,
            "DimensionExhausted": {"memory": ready},
            "QuotaExhausted": None,
            "ResourcesExhausted": None,
            "Scores": None,
            "ScoreMetaData": None,
            "AllocationTime": 41_000,
            "CoalescedFailures": groups.count(name) - 1,
        }
        for name in dict.fromkeys(groups)
    }
    blocked = scheduler.new_eval(sim, txn, job, "queued-allocs", status="blocked")
    blocked["StatusDescription"] = "created to place remaining allocations"
    blocked["PreviousEval"] = ev["ID"]
    ev["FailedTGAllocs"] = metrics
    ev["BlockedEval"] = blocked["ID"]
    emit.evaluation(txn, ev)
    emit.evaluation(txn, blocked)


def job_or_404(sim: Sim, namespace: str, job_id: str) -> Json:
    job = sim.state.job(namespace, job_id)
    if job is None:
        raise ApiError(404, "job not found")
    return job


def deregister(sim: Sim, namespace: str, job_id: str, *, purge: bool) -> Json:
    job = job_or_404(sim, namespace, job_id)
    with sim.state.write() as txn:
        if purge:
            ev = scheduler.new_eval(sim, txn, job, "job-deregister")
            for alloc in scheduler.live_allocs(sim, job):
                scheduler.stop(sim, txn, alloc, "alloc not needed since job is stopped")
            deployments.cancel_active(sim, txn, job, shapes.DESC_STOPPED)
            key = (namespace, job_id)
            sim.state.jobs.pop(key)
            sim.state.job_versions.pop(key, None)
            for sub_key in [k for k in sim.state.submissions if k[:2] == key]:
                del sim.state.submissions[sub_key]
            emit.job(txn, job, "JobDeregistered")
            job_modify = txn.index
        else:
            stopped = copy.deepcopy(job)
            stopped["Stop"] = True
            ev, stopped = register_in(sim, txn, stopped, triggered_by="job-deregister")
            job_modify = stopped["JobModifyIndex"]
    return shapes.register_response(
        eval_id=ev["ID"],
        eval_create_index=ev["CreateIndex"],
        job_modify_index=job_modify,
        index=txn.index,
    )


def revert(sim: Sim, namespace: str, job_id: str, version: int, enforce: int | None) -> Json:
    job = job_or_404(sim, namespace, job_id)
    if enforce is not None and job["Version"] != enforce:
        raise ApiError(
            400, f"Current job has version {job['Version']}; enforcing version {enforce}"
        )
    if version == job["Version"]:
        raise ApiError(400, f"can't revert to current version {version}")
    target = sim.state.job_version(namespace, job_id, version)
    if target is None:
        raise ApiError(400, f"job {job_id!r} at version {version} not found")
    with sim.state.write() as txn:
        ev, job = revert_in(sim, txn, target)
    return shapes.register_response(
        eval_id=ev["ID"],
        eval_create_index=ev["CreateIndex"],
        job_modify_index=job["JobModifyIndex"],
        index=txn.index,
    )


def revert_in(sim: Sim, txn: Txn, target: Json) -> tuple[Json, Json]:
    return register_in(sim, txn, copy.deepcopy(target))


def scale(sim: Sim, namespace: str, job_id: str, group: str, count: int | None) -> Json:
    job = job_or_404(sim, namespace, job_id)
    if group not in {g["Name"] for g in job["TaskGroups"]}:
        raise ApiError(400, f"task group {group!r} specified for scaling does not exist in job")
    if count is None:
        raise ApiError(400, "Count must be specified")
    if count < 0:
        raise ApiError(400, "scaling action count can't be negative")
    if deployments.active_for(sim, job) is not None:
        raise ApiError(400, "job scaling blocked due to active deployment")
    scaled = copy.deepcopy(job)
    for g in scaled["TaskGroups"]:
        if g["Name"] == group:
            g["Count"] = count
    with sim.state.write() as txn:
        ev, scaled = register_in(sim, txn, scaled, triggered_by="job-scaling")
    return shapes.register_response(
        eval_id=ev["ID"],
        eval_create_index=ev["CreateIndex"],
        job_modify_index=scaled["JobModifyIndex"],
        index=txn.index,
    )


def child_of(parent: Json, child_id: str) -> Json:
    child = copy.deepcopy(spec_of(parent))
    child.update(
        ID=child_id, Name=child_id, ParentID=parent["ID"], Periodic=None, ParameterizedJob=None
    )
    return child


def dispatch(sim: Sim, namespace: str, job_id: str, payload: str | None, meta: Json) -> Json:
    parent = job_or_404(sim, namespace, job_id)
    param = parent.get("ParameterizedJob")
    if not param:
        raise ApiError(400, f'Specified job "{job_id}" is not a parameterized job')
    missing = [k for k in param.get("MetaRequired") or [] if k not in meta]
    if missing:
        raise ApiError(400, f"Dispatch did not provide required meta keys: {missing}")
    if param.get("Payload") == "required" and not payload:
        raise ApiError(400, "Payload is not provided but required by parameterized job")
    if param.get("Payload") == "forbidden" and payload:
        raise ApiError(400, "Payload provided but forbidden by parameterized job")
    now = sim.clock.now_ns()
    # derived from the request rather than from randomness, so a fixed clock always builds
    # the same cluster (and the seeded ID sequence is not disturbed)
    suffix = hashlib.sha1(f"{namespace}/{job_id}/{now}/{len(sim.state.jobs)}".encode()).hexdigest()[
        :8
    ]
    child = child_of(parent, f"{job_id}/dispatch-{now // 10**9}-{suffix}")
    child.update(Dispatched=True, Payload=payload, Meta={**(parent.get("Meta") or {}), **meta})
    with sim.state.write() as txn:
        ev, child = register_in(sim, txn, child, triggered_by="job-register")
        scheduler.refresh_job_status(sim, txn, parent)
    return shapes.dispatch_response(
        dispatched_job_id=child["ID"],
        eval_id=ev["ID"],
        eval_create_index=ev["CreateIndex"],
        job_create_index=child["CreateIndex"],
        index=txn.index,
    )


def periodic_force(sim: Sim, namespace: str, job_id: str) -> Json:
    parent = job_or_404(sim, namespace, job_id)
    if not (parent.get("Periodic") or {}).get("Enabled"):
        raise ApiError(400, "can't force launch non-periodic job")
    with sim.state.write() as txn:
        ev, _ = launch_periodic(sim, txn, parent)
    return shapes.periodic_force_response(
        eval_id=ev["ID"], eval_create_index=ev["CreateIndex"], index=txn.index
    )


def launch_periodic(sim: Sim, txn: Txn, parent: Json) -> tuple[Json, Json]:
    child_id = f"{parent['ID']}/periodic-{txn.now_ns // 10**9}"
    while sim.state.job(parent["Namespace"], child_id) is not None:
        child_id += "-1"
    return register_in(sim, txn, child_of(parent, child_id), triggered_by="periodic-job")


def set_stable(sim: Sim, namespace: str, job_id: str, version: int, stable: bool) -> Json:
    job_or_404(sim, namespace, job_id)
    target = sim.state.job_version(namespace, job_id, version)
    if target is None:
        raise ApiError(404, f"job {job_id!r} at version {version} not found")
    with sim.state.write() as txn:
        target["Stable"] = stable
        target["ModifyIndex"] = txn.index
        txn.touch("job_version")
        emit.job(txn, target)
    return {"JobModifyIndex": txn.index, "Index": txn.index}


def evaluate(sim: Sim, namespace: str, job_id: str) -> Json:
    job = job_or_404(sim, namespace, job_id)
    with sim.state.write() as txn:
        ev = scheduler.new_eval(sim, txn, job, "job-eval")
        reconcile(sim, txn, job, ev, update=False)
        scheduler.refresh_job_status(sim, txn, job)
    return shapes.register_response(
        eval_id=ev["ID"],
        eval_create_index=ev["CreateIndex"],
        job_modify_index=job["JobModifyIndex"],
        index=txn.index,
    )
