"""Placement and allocation state changes, moving through the states real Nomad uses.

Allocations are placed `pending`; the lifecycle loop starts them, decides their health and
ends them. A stop sets DesiredStatus `stop` first and the client status follows on the next
tick, as with a real client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nomtui.sim import emit, shapes
from nomtui.sim.clock import rfc3339
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

TERMINAL = ("complete", "failed", "lost")
DYNAMIC_PORT_MIN = 20000
DYNAMIC_PORT_MAX = 32000


@dataclass
class Runtime:
    """What a real client knows but the API does not show: process timing and behaviour."""

    behaviour: dict[tuple[str, str], str] = field(default_factory=dict)
    started_ns: dict[str, int] = field(default_factory=dict)
    next_crash_ns: dict[str, int] = field(default_factory=dict)
    next_port: dict[str, int] = field(default_factory=dict)
    periodic_next_ns: dict[tuple[str, str], int] = field(default_factory=dict)
    last_reschedule_ns: int = 0
    drain_deadline_ns: dict[str, int] = field(default_factory=dict)


def is_live(a: Json) -> bool:
    return a["DesiredStatus"] == "run" and a["ClientStatus"] not in TERMINAL


def group_of(job: Json, name: str) -> Json:
    for group in job["TaskGroups"]:
        if group["Name"] == name:
            return dict(group)
    raise KeyError(name)


def task_kind(sim: Sim, alloc: Json, task: str) -> str:
    behaviour = sim.runtime.behaviour.get((alloc["Namespace"], alloc["JobID"]), "")
    if behaviour == "crash" and task == "http":
        return "crash"
    if alloc["JobType"] in ("batch", "sysbatch"):
        return "batch"
    if task in ("db", "kv"):
        return task
    return "http"


def group_resources(group: Json) -> tuple[int, int]:
    cpu = sum(t["Resources"]["CPU"] for t in group["Tasks"])
    mem = sum(t["Resources"]["MemoryMB"] for t in group["Tasks"])
    return cpu, mem


def node_usage(sim: Sim, node_id: str) -> tuple[int, int]:
    cpu = mem = 0
    for a in sim.state.allocs_of_node(node_id):
        if is_live(a):
            res = a["AllocatedResources"]["Tasks"]
            cpu += sum(t["Cpu"]["CpuShares"] for t in res.values())
            mem += sum(t["Memory"]["MemoryMB"] for t in res.values())
    return cpu, mem


def node_capacity(node: Json) -> tuple[int, int]:
    res = node["NodeResources"]
    return res["Cpu"]["CpuShares"], res["Memory"]["MemoryMB"]


def pick_node(sim: Sim, job: Json, group: Json, avoid: str = "") -> Json | None:
    """Least-loaded eligible ready node in the job's datacenters that fits the group."""
    need_cpu, need_mem = group_resources(group)
    dcs = job["Datacenters"] or ["*"]
    best: tuple[float, str] | None = None
    for node in sim.state.nodes.values():
        if node["Status"] != "ready" or node["SchedulingEligibility"] != "eligible":
            continue
        if node["ID"] == avoid or ("*" not in dcs and node["Datacenter"] not in dcs):
            continue
        if not satisfies(
            node, [*(job.get("Constraints") or []), *(group.get("Constraints") or [])]
        ):
            continue
        used_cpu, used_mem = node_usage(sim, node["ID"])
        cap_cpu, cap_mem = node_capacity(node)
        if used_cpu + need_cpu > cap_cpu or used_mem + need_mem > cap_mem:
            continue
        load = max((used_cpu + need_cpu) / cap_cpu, (used_mem + need_mem) / cap_mem)
        if best is None or (load, node["ID"]) < best:
            best = (load, node["ID"])
    return sim.state.nodes[best[1]] if best else None


def satisfies(node: Json, constraints: list[Json]) -> bool:
    """The equality constraints the demo uses: pinning a group to a node or a class."""
    targets = {
        "${node.unique.name}": node["Name"],
        "${node.unique.id}": node["ID"],
        "${node.class}": node["NodeClass"],
        "${node.datacenter}": node["Datacenter"],
    }
    for c in constraints:
        actual = targets.get(c.get("LTarget", ""))
        if actual is None:
            actual = (node.get("Attributes") or {}).get(
                c.get("LTarget", "").removeprefix("${attr.").removesuffix("}")
            )
        operand = c.get("Operand", "=")
        if operand in ("=", "==", "is") and actual != c.get("RTarget"):
            return False
        if operand == "!=" and actual == c.get("RTarget"):
            return False
    return True


def node_ip(node: Json) -> str:
    return str(node["HTTPAddr"]).rsplit(":", 1)[0]


def allocate_ports(sim: Sim, node: Json, group: Json) -> dict[str, int]:
    labels: list[str] = []
    for net in group.get("Networks") or []:
        labels += [p["Label"] for p in net.get("DynamicPorts") or []]
    ports: dict[str, int] = {}
    for label in labels:
        port = sim.runtime.next_port.get(node["ID"], DYNAMIC_PORT_MIN)
        sim.runtime.next_port[node["ID"]] = (
            port + 1 if port < DYNAMIC_PORT_MAX else DYNAMIC_PORT_MIN
        )
        ports[label] = port
    for net in group.get("Networks") or []:
        for p in net.get("ReservedPorts") or []:
            ports[p["Label"]] = p["Value"]
    return ports


def next_alloc_index(sim: Sim, job: Json, group: str) -> int:
    used = {
        int(a["Name"].rsplit("[", 1)[1].rstrip("]"))
        for a in sim.state.allocs_of_job(job["Namespace"], job["ID"])
        if a["TaskGroup"] == group and is_live(a)
    }
    index = 0
    while index in used:
        index += 1
    return index


def place(
    sim: Sim,
    txn: Txn,
    job: Json,
    group_name: str,
    eval_id: str,
    *,
    deployment_id: str = "",
    canary: bool = False,
    previous: Json | None = None,
) -> Json | None:
    group = group_of(job, group_name)
    node = pick_node(sim, job, group, avoid=previous["NodeID"] if previous else "")
    if node is None:
        return None
    index = previous_index(previous) if previous else next_alloc_index(sim, job, group_name)
    alloc = shapes.allocation(
        alloc_id=sim.ids.uuid(),
        eval_id=eval_id,
        name=f"{job['ID']}.{group_name}[{index}]",
        namespace=job["Namespace"],
        node_id=node["ID"],
        node_name=node["Name"],
        job=job,
        task_group=group_name,
        now_ns=txn.now_ns,
        create_index=txn.index,
        deployment_id=deployment_id,
        canary=canary,
        previous_allocation=previous["ID"] if previous else "",
        ports=allocate_ports(sim, node, group),
        node_ip=node_ip(node),
    )
    sim.state.allocs[alloc["ID"]] = alloc
    sim.files.create(alloc, [t["Name"] for t in group["Tasks"]])
    if previous is not None:
        previous["NextAllocation"] = alloc["ID"]
        emit.alloc(sim, txn, previous)
    emit.alloc(sim, txn, alloc, "AllocationCreated")
    return alloc


def previous_index(previous: Json) -> int:
    return int(previous["Name"].rsplit("[", 1)[1].rstrip("]"))


def stop(sim: Sim, txn: Txn, alloc: Json, description: str, *, migrate: bool = False) -> None:
    """Desired stop now; the client kills the tasks on the next lifecycle tick."""
    if alloc["DesiredStatus"] != "run":
        return
    alloc["DesiredStatus"] = "stop"
    alloc["DesiredDescription"] = description
    if migrate:
        alloc["DesiredTransition"]["Migrate"] = True
    if alloc["ClientStatus"] == "pending":
        finish(sim, txn, alloc, "complete", killed=True)
        return
    emit.alloc(sim, txn, alloc, "AllocationUpdateDesiredStatus")


def finish(
    sim: Sim, txn: Txn, alloc: Json, status: str, *, killed: bool, exit_code: int = 0
) -> None:
    """Every task ends; the allocation becomes terminal with `status`."""
    for name, ts in alloc["TaskStates"].items():
        if ts["State"] != "dead":
            if killed:
                shapes.append_event(
                    ts, shapes.task_event("Killing", txn.now_ns, display_message="Sent interrupt")
                )
                shapes.append_event(
                    ts,
                    shapes.task_event(
                        "Killed", txn.now_ns, display_message="Task successfully killed"
                    ),
                )
            else:
                shapes.append_event(
                    ts,
                    shapes.task_event(
                        "Terminated",
                        txn.now_ns,
                        exit_code=exit_code,
                        display_message=f"Exit Code: {exit_code}",
                    ),
                )
            ts["State"] = "dead"
            ts["Failed"] = status == "failed"
            ts["FinishedAt"] = rfc3339(txn.now_ns)
        sim.files.stop_task(alloc["ID"], name)
    if status == "lost":
        # the scheduler stops what a down node was running, as Nomad does
        alloc["DesiredStatus"] = "stop"
        alloc["DesiredDescription"] = "alloc is lost since its node is down"
    alloc["ClientStatus"] = status
    alloc["ClientDescription"] = {
        "complete": "All tasks have completed",
        "failed": "Failed tasks",
        "lost": "alloc is lost since its node is down",
    }[status]
    sim.state.alloc_health.pop(alloc["ID"], None)
    sim.runtime.started_ns.pop(alloc["ID"], None)
    sim.runtime.next_crash_ns.pop(alloc["ID"], None)
    emit.alloc(sim, txn, alloc)


def start(sim: Sim, txn: Txn, alloc: Json) -> None:
    """The client starts the tasks: prestart tasks run to completion first."""
    job = sim.state.job_version(alloc["Namespace"], alloc["JobID"], alloc["JobVersion"])
    assert job is not None
    group = group_of(job, alloc["TaskGroup"])
    for task in group["Tasks"]:
        ts = alloc["TaskStates"][task["Name"]]
        shapes.append_event(
            ts,
            shapes.task_event(
                "Task Setup",
                txn.now_ns,
                message="Building Task Directory",
                display_message="Building Task Directory",
                details={"message": "Building Task Directory"},
            ),
        )
        shapes.append_event(
            ts, shapes.task_event("Started", txn.now_ns, display_message="Task started by client")
        )
        ts["StartedAt"] = rfc3339(txn.now_ns)
        hook = (task.get("Lifecycle") or {}).get("Hook", "")
        sidecar = (task.get("Lifecycle") or {}).get("Sidecar", False)
        kind = task_kind(sim, alloc, task["Name"])
        sim.files.run_task(alloc["ID"], task["Name"], kind=kind)
        if hook == "prestart" and not sidecar:
            shapes.append_event(
                ts, shapes.task_event("Terminated", txn.now_ns, display_message="Exit Code: 0")
            )
            ts["State"] = "dead"
            ts["FinishedAt"] = rfc3339(txn.now_ns)
            sim.files.stop_task(alloc["ID"], task["Name"])
        else:
            ts["State"] = "running"
    alloc["ClientStatus"] = "running"
    alloc["ClientDescription"] = "Tasks are running"
    sim.runtime.started_ns[alloc["ID"]] = txn.now_ns
    behaviour = sim.runtime.behaviour.get((alloc["Namespace"], alloc["JobID"]), "")
    sim.state.alloc_health[alloc["ID"]] = "critical" if behaviour == "crash" else "passing"
    emit.alloc(sim, txn, alloc)


def live_allocs(sim: Sim, job: Json, group: str | None = None) -> list[Json]:
    return [
        a
        for a in sim.state.allocs_of_job(job["Namespace"], job["ID"])
        if is_live(a) and (group is None or a["TaskGroup"] == group)
    ]


def new_eval(
    sim: Sim,
    txn: Txn,
    job: Json,
    triggered_by: str,
    *,
    deployment_id: str = "",
    node_id: str = "",
    status: str = "complete",
) -> Json:
    ev = shapes.evaluation(
        eval_id=sim.ids.uuid(),
        namespace=job["Namespace"],
        job_id=job["ID"],
        job_type=job["Type"],
        triggered_by=triggered_by,
        status=status,
        now_ns=txn.now_ns,
        create_index=txn.index,
        modify_index=txn.index,
        deployment_id=deployment_id,
        node_id=node_id,
        priority=job["Priority"],
    )
    sim.state.evals[ev["ID"]] = ev
    emit.evaluation(txn, ev)
    return ev


def refresh_job_status(sim: Sim, txn: Txn, job: Json) -> None:
    """Nomad's job status: running while any allocation lives, dead once all are done."""
    allocs = sim.state.allocs_of_job(job["Namespace"], job["ID"])
    if job.get("Periodic") or job.get("ParameterizedJob"):
        status = "dead" if job["Stop"] else "running"
    elif any(a["ClientStatus"] not in TERMINAL for a in allocs):
        status = "running"
    elif not allocs and not job["Stop"]:
        status = "pending"
    else:
        status = "dead"
    if job["Status"] != status:
        # the current job is also the newest entry of its version list: one dict, one status
        job["Status"] = status
        job["ModifyIndex"] = txn.index
        emit.job(txn, job)
