"""Allocation, deployment and node writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomtui.sim import deployments, emit, scheduler, shapes
from nomtui.sim.clock import rfc3339
from nomtui.sim.http import ApiError
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


def alloc_or_404(sim: Sim, alloc_id: str, text: str = "allocation not found") -> Json:
    alloc = sim.state.allocs.get(alloc_id)
    if alloc is None:
        raise ApiError(404, text)
    return alloc


def client_alloc(sim: Sim, alloc_id: str) -> Json:
    """Client endpoints answer for allocations whose node is connected."""
    alloc = alloc_or_404(sim, alloc_id, f'Unknown allocation "{alloc_id}"')
    node = sim.state.nodes.get(alloc["NodeID"])
    if node is None or node["Status"] == "down":
        raise ApiError(404, "No path to node")
    return alloc


def stop_alloc(sim: Sim, alloc_id: str) -> Json:
    """Stop one allocation; the scheduler replaces it elsewhere, as `nomad alloc stop` does."""
    alloc = alloc_or_404(sim, alloc_id)
    job = sim.state.job(alloc["Namespace"], alloc["JobID"])
    eval_job = job or {
        "Namespace": alloc["Namespace"],
        "ID": alloc["JobID"],
        "Type": alloc["JobType"],
        "Priority": 50,
    }
    with sim.state.write() as txn:
        ev = scheduler.new_eval(sim, txn, eval_job, "alloc-stop")
        was_live = scheduler.is_live(alloc)
        scheduler.stop(sim, txn, alloc, "alloc was stopped by the user", migrate=True)
        if was_live and job is not None and job["Type"] == "service" and not job["Stop"]:
            scheduler.place(
                sim,
                txn,
                job,
                alloc["TaskGroup"],
                ev["ID"],
                deployment_id=alloc.get("DeploymentID") or "",
                previous=alloc,
            )
    return {"EvalID": ev["ID"], "Index": txn.index}


def running_task(alloc: Json, task: str | None) -> list[str]:
    if alloc["ClientStatus"] != "running":
        raise ApiError(400, "Allocation is not running")
    states = alloc["TaskStates"] or {}
    if task:
        if task not in states:
            raise ApiError(400, f'Failed to find task "{task}" in allocation')
        return [task]
    return [name for name, ts in states.items() if ts["State"] == "running"]


def restart_alloc(sim: Sim, alloc_id: str, task: str | None, all_tasks: bool) -> Json:
    alloc = client_alloc(sim, alloc_id)
    tasks = running_task(alloc, None if all_tasks else task)
    with sim.state.write() as txn:
        for name in tasks:
            ts = alloc["TaskStates"][name]
            for type_, display in (
                ("Restart Signaled", "User requested restart"),
                ("Terminated", "Exit Code: 0"),
                ("Restarting", "Task restarting in 0s"),
                ("Started", "Task started by client"),
            ):
                shapes.append_event(
                    ts,
                    shapes.task_event(
                        type_,
                        txn.now_ns,
                        display_message=display,
                        restart_reason="User requested restart"
                        if type_ == "Restart Signaled"
                        else "",
                    ),
                )
            ts["Restarts"] += 1
            ts["LastRestart"] = rfc3339(txn.now_ns)
            ts["State"] = "running"
        sim.runtime.started_ns[alloc["ID"]] = txn.now_ns
        emit.alloc(sim, txn, alloc)
    return {}


def signal_alloc(sim: Sim, alloc_id: str, task: str | None, signal: str) -> Json:
    alloc = client_alloc(sim, alloc_id)
    if not signal:
        raise ApiError(400, "Signal must be provided")
    with sim.state.write() as txn:
        for name in running_task(alloc, task):
            shapes.append_event(
                alloc["TaskStates"][name],
                shapes.task_event(
                    "Signaling",
                    txn.now_ns,
                    display_message=f"Task being sent signal {signal}",
                    details={"signal": signal},
                ),
            )
        emit.alloc(sim, txn, alloc)
    return {}


def deployment_or_404(sim: Sim, dep_id: str) -> Json:
    dep = sim.state.deployments.get(dep_id)
    if dep is None:
        raise ApiError(404, "deployment not found")
    return dep


def promote(sim: Sim, dep_id: str, groups: list[str] | None) -> Json:
    dep = deployment_or_404(sim, dep_id)
    if dep["Status"] not in ("running", "paused"):
        raise ApiError(400, f"can't promote terminal deployment {dep_id!r}")
    waiting = [
        n for n, g in dep["TaskGroups"].items() if g["DesiredCanaries"] and not g["Promoted"]
    ]
    if not waiting:
        raise ApiError(400, "no canaries to promote")
    for name in groups or waiting:
        group = dep["TaskGroups"].get(name)
        if group is None:
            raise ApiError(400, f"deployment has no task group {name!r}")
        healthy = group["HealthyAllocs"]
        if healthy < group["DesiredCanaries"]:
            raise ApiError(
                400,
                f'Task group "{name}" has {healthy}/{group["DesiredCanaries"]} healthy allocations',
            )
    with sim.state.write() as txn:
        deployments.promote(sim, txn, dep, groups)
        ev = last_eval(sim, dep)
    return shapes.promote_response(
        eval_id=ev, eval_create_index=txn.index, deployment_modify_index=txn.index, index=txn.index
    )


def last_eval(sim: Sim, dep: Json) -> str:
    evals = [e for e in sim.state.evals.values() if e.get("DeploymentID") == dep["ID"]]
    return max(evals, key=lambda e: e["CreateIndex"])["ID"] if evals else ""


def fail(sim: Sim, dep_id: str) -> Json:
    dep = deployment_or_404(sim, dep_id)
    if dep["Status"] not in deployments.ACTIVE:
        raise ApiError(400, f"can't fail terminal deployment {dep_id!r}")
    with sim.state.write() as txn:
        reverted = deployments.fail(sim, txn, dep, shapes.DESC_FAILED_BY_USER)
    return shapes.deployment_update_response(
        eval_id=last_eval(sim, dep),
        eval_create_index=txn.index,
        deployment_modify_index=txn.index,
        index=txn.index,
        reverted_job_version=reverted,
    )


def pause(sim: Sim, dep_id: str, paused: bool) -> Json:
    dep = deployment_or_404(sim, dep_id)
    if dep["Status"] not in deployments.ACTIVE:
        raise ApiError(400, f"can't pause terminal deployment {dep_id!r}")
    with sim.state.write() as txn:
        dep["Status"] = "paused" if paused else "running"
        dep["StatusDescription"] = shapes.DESC_PAUSED if paused else shapes.DESC_RUNNING
        emit.deployment(txn, dep)
    return shapes.promote_response(
        eval_id="", eval_create_index=0, deployment_modify_index=txn.index, index=txn.index
    )


def set_alloc_health(sim: Sim, dep_id: str, healthy: list[str], unhealthy: list[str]) -> Json:
    dep = deployment_or_404(sim, dep_id)
    with sim.state.write() as txn:
        for ids, value in ((healthy, True), (unhealthy, False)):
            for alloc_id in ids:
                alloc = alloc_or_404(sim, alloc_id)
                if alloc.get("DeploymentID") != dep_id or not alloc["DeploymentStatus"]:
                    raise ApiError(400, f"alloc {alloc_id} is not part of deployment")
                alloc["DeploymentStatus"].update(
                    Healthy=value, Timestamp=rfc3339(txn.now_ns), ModifyIndex=txn.index
                )
                emit.alloc(sim, txn, alloc)
        deployments.progress(sim, txn, dep)
    return shapes.deployment_update_response(
        eval_id=last_eval(sim, dep),
        eval_create_index=txn.index,
        deployment_modify_index=txn.index,
        index=txn.index,
        reverted_job_version=None,
    )


def node_or_404(sim: Sim, node_id: str) -> Json:
    node = sim.state.nodes.get(node_id)
    if node is None:
        raise ApiError(404, "node not found")
    return node


def node_event(node: Json, message: str, now_ns: int, details: Json | None = None) -> None:
    node["Events"] = [
        *(node.get("Events") or []),
        {
            "CreateIndex": 0,
            "Details": details,
            "Message": message,
            "Subsystem": "Drain",
            "Timestamp": rfc3339(now_ns),
        },
    ][-10:]


def drain(sim: Sim, node_id: str, spec: Json | None, mark_eligible: bool, meta: Json) -> Json:
    node = node_or_404(sim, node_id)
    with sim.state.write() as txn:
        if spec is not None:
            deadline = int(spec.get("Deadline") or 0)
            node["DrainStrategy"] = {
                "DrainSpec": {
                    "Deadline": deadline,
                    "IgnoreSystemJobs": bool(spec.get("IgnoreSystemJobs")),
                },
                "ForceDeadline": rfc3339(txn.now_ns + deadline)
                if deadline > 0
                else "0001-01-01T00:00:00Z",
                "StartedAt": rfc3339(txn.now_ns),
            }
            node["Drain"] = True
            node["SchedulingEligibility"] = "ineligible"
            if deadline > 0:
                sim.runtime.drain_deadline_ns[node_id] = txn.now_ns + deadline
            node["LastDrain"] = {
                "StartedAt": rfc3339(txn.now_ns),
                "UpdatedAt": rfc3339(txn.now_ns),
                "Status": "draining",
                "AccessorID": sim.acl.management.accessor_id,
                "Meta": meta or None,
            }
            node_event(node, "Node drain strategy set", txn.now_ns)
        else:
            if node["DrainStrategy"] is not None:
                node["LastDrain"] = {
                    **(node.get("LastDrain") or {}),
                    "UpdatedAt": rfc3339(txn.now_ns),
                    "Status": "canceled",
                }
                node_event(node, "Node drain strategy cancelled", txn.now_ns)
            node["DrainStrategy"] = None
            node["Drain"] = False
            if mark_eligible:
                node["SchedulingEligibility"] = "eligible"
        emit.node(sim, txn, node, "NodeDrain")
    return shapes.drain_response(
        eval_create_index=0, eval_ids=None, index=txn.index, node_modify_index=txn.index
    )


def finish_drain(sim: Sim, node: Json, now_ns: int) -> None:
    node["DrainStrategy"] = None
    node["Drain"] = False
    node["LastDrain"] = {
        **(node.get("LastDrain") or {}),
        "UpdatedAt": rfc3339(now_ns),
        "Status": "complete",
    }
    node_event(node, "Node drain complete", now_ns)


def eligibility(sim: Sim, node_id: str, value: str) -> Json:
    node = node_or_404(sim, node_id)
    if value not in ("eligible", "ineligible"):
        raise ApiError(400, f"invalid scheduling eligibility {value!r}")
    if value == "eligible" and node["DrainStrategy"] is not None:
        raise ApiError(
            400, "can not set node's scheduling eligibility to eligible while it is draining"
        )
    with sim.state.write() as txn:
        node["SchedulingEligibility"] = value
        node_event(node, f"Node marked as {value} for scheduling", txn.now_ns)
        emit.node(sim, txn, node, "NodeEligibility")
    return shapes.eligibility_response(
        eval_create_index=0, eval_ids=None, index=txn.index, node_modify_index=txn.index
    )
