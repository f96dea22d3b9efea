"""Allocation shapes: the full Allocation, its list stub and placement metrics.

Task states, task events and alloc stats live in `taskstate` and are re-exported here.
"""

from __future__ import annotations

import copy

from nomtui.sim.shapes.common import ZERO_TIME, stable_fraction
from nomtui.sim.shapes.taskstate import (
    MAX_TASK_EVENTS,
    alloc_stats,
    append_event,
    task_event,
    task_state,
)
from nomtui.sim.state import Json

__all__ = [
    "MAX_TASK_EVENTS",
    "alloc_stats",
    "alloc_stop_response",
    "alloc_stub",
    "allocation",
    "append_event",
    "placement_metrics",
    "task_event",
    "task_state",
]

_STUB_KEYS = (
    "ID",
    "EvalID",
    "Name",
    "Namespace",
    "NodeID",
    "NodeName",
    "JobID",
    "JobType",
    "JobVersion",
    "TaskGroup",
    "DesiredStatus",
    "DesiredDescription",
    "DesiredTransition",
    "ClientStatus",
    "ClientDescription",
    "DeploymentStatus",
    "FollowupEvalID",
    "NextAllocation",
    "PreviousAllocation",
    "RescheduleTracker",
    "PreemptedAllocations",
    "PreemptedByAllocation",
    "CreateIndex",
    "ModifyIndex",
    "CreateTime",
    "ModifyTime",
)


def placement_metrics(
    *,
    node_id: str,
    datacenter: str,
    nodes_evaluated: int = 1,
    nodes_in_pool: int | None = None,
    seed: str = "",
) -> Json:
    """AllocMetric as the scheduler records it: 1.x reports per-node ScoreMetaData and
    leaves the legacy Scores map nil."""
    binpack = round(0.15 + 0.7 * stable_fraction(f"binpack:{seed}:{node_id}"), 16)
    return {
        "NodesEvaluated": nodes_evaluated,
        "NodesFiltered": 0,
        "NodesInPool": nodes_in_pool if nodes_in_pool is not None else nodes_evaluated,
        "NodesAvailable": {datacenter: nodes_evaluated},
        "ClassFiltered": None,
        "ConstraintFiltered": None,
        "NodesExhausted": 0,
        "ClassExhausted": None,
        "DimensionExhausted": None,
        "QuotaExhausted": None,
        "ResourcesExhausted": None,
        "Scores": None,
        "ScoreMetaData": [
            {
                "NodeID": node_id,
                "Scores": {
                    "binpack": binpack,
                    "job-anti-affinity": 0,
                    "node-reschedule-penalty": 0,
                    "node-affinity": 0,
                },
                "NormScore": binpack,
            }
        ],
        "AllocationTime": 20_000 + int(200_000 * stable_fraction(f"time:{seed}")),
        "CoalescedFailures": 0,
    }


def _group(job: Json, name: str) -> Json:
    for tg in job["TaskGroups"]:
        if tg["Name"] == name:
            return dict(tg)
    raise KeyError(f"job {job['ID']!r} has no task group {name!r}")


def _shared_network(
    tg: Json, ports: dict[str, int], node_ip: str
) -> tuple[Json | None, list[Json]]:
    """The group network as placed on the node: dynamic ports resolved to host ports."""
    nets = tg.get("Networks") or []
    if not nets:
        return None, []
    net = nets[0]
    mappings: list[Json] = []

    def placed(port: Json, static: bool) -> Json:
        value = port["Value"] if static else ports.get(port["Label"], port["Value"])
        mappings.append(
            {"Label": port["Label"], "Value": value, "To": port.get("To", 0), "HostIP": node_ip}
        )
        return {**port, "Value": value}

    resolved: Json = {
        "Mode": net.get("Mode") or "host",
        "Device": "",
        "CIDR": "",
        "IP": node_ip,
        "Hostname": "",
        "MBits": net.get("MBits", 0),
        "DNS": copy.deepcopy(net.get("DNS")),
        "ReservedPorts": [placed(p, True) for p in net.get("ReservedPorts") or []] or None,
        "DynamicPorts": [placed(p, False) for p in net.get("DynamicPorts") or []] or None,
    }
    return resolved, mappings


def _resources(tg: Json, shared_net: Json | None, ports: list[Json]) -> Json:
    tasks = tg["Tasks"]
    disk = tg["EphemeralDisk"]["SizeMB"]
    networks = [shared_net] if shared_net else None

    def legacy(cpu: int, mem: int, disk_mb: int, nets: list[Json] | None) -> Json:
        return {
            "CPU": cpu,
            "Cores": 0,
            "MemoryMB": mem,
            "MemoryMaxMB": 0,
            "DiskMB": disk_mb,
            "IOPS": 0,
            "Networks": copy.deepcopy(nets),
            "Devices": None,
        }

    return {
        "AllocatedResources": {
            "Tasks": {
                t["Name"]: {
                    "Cpu": {"CpuShares": t["Resources"]["CPU"], "ReservedCores": None},
                    "Memory": {
                        "MemoryMB": t["Resources"]["MemoryMB"],
                        "MemoryMaxMB": t["Resources"].get("MemoryMaxMB", 0),
                    },
                    "Networks": None,
                    "Devices": None,
                }
                for t in tasks
            },
            "TaskLifecycles": {t["Name"]: copy.deepcopy(t.get("Lifecycle")) for t in tasks},
            "Shared": {
                "Networks": copy.deepcopy(networks),
                "DiskMB": disk,
                "Ports": ports or None,
            },
        },
        # Pre-0.9 resource fields: still populated by 1.x servers, read by older tools.
        "Resources": legacy(
            sum(t["Resources"]["CPU"] for t in tasks),
            sum(t["Resources"]["MemoryMB"] for t in tasks),
            disk,
            networks,
        ),
        "SharedResources": legacy(0, 0, disk, None),
        "TaskResources": {
            t["Name"]: legacy(t["Resources"]["CPU"], t["Resources"]["MemoryMB"], 0, None)
            for t in tasks
        },
    }


def allocation(
    *,
    alloc_id: str,
    eval_id: str,
    name: str,
    namespace: str,
    node_id: str,
    node_name: str,
    job: Json,
    task_group: str,
    now_ns: int,
    create_index: int,
    deployment_id: str = "",
    canary: bool = False,
    previous_allocation: str = "",
    ports: dict[str, int] | None = None,
    node_ip: str = "127.0.0.1",
    datacenter: str = "dc1",
    nodes_evaluated: int = 1,
) -> Json:
    """A just-placed Allocation (everything but the embedded Job, added at read time)."""
    tg = _group(job, task_group)
    shared_net, port_map = _shared_network(tg, ports or {}, node_ip)
    alloc: Json = {
        "ID": alloc_id,
        "Namespace": namespace,
        "EvalID": eval_id,
        "Name": name,
        "NodeID": node_id,
        "NodeName": node_name,
        "JobID": job["ID"],
        "JobType": job["Type"],
        "JobVersion": job["Version"],
        "TaskGroup": task_group,
        **_resources(tg, shared_net, port_map),
        "Metrics": placement_metrics(
            node_id=node_id, datacenter=datacenter, nodes_evaluated=nodes_evaluated, seed=alloc_id
        ),
        "DesiredStatus": "run",
        "DesiredDescription": "",
        "DesiredTransition": {
            "Migrate": None,
            "Reschedule": None,
            "ForceReschedule": None,
            "NoShutdownDelay": None,
        },
        "ClientStatus": "pending",
        "ClientDescription": "No tasks have started",
        "TaskStates": {
            t["Name"]: task_state("pending", events=[task_event("Received", now_ns)])
            for t in tg["Tasks"]
        },
        "AllocStates": None,
        "PreviousAllocation": previous_allocation,
        "NextAllocation": "",
        "DeploymentID": deployment_id,
        # Health is undecided (null) until the deployment watcher judges the alloc.
        "DeploymentStatus": (
            {"Healthy": None, "Timestamp": ZERO_TIME, "Canary": canary, "ModifyIndex": 0}
            if deployment_id
            else None
        ),
        "RescheduleTracker": None,
        "NetworkStatus": {"InterfaceName": "", "Address": "", "DNS": None},
        "FollowupEvalID": "",
        "PreemptedAllocations": None,
        "PreemptedByAllocation": "",
        "CreateIndex": create_index,
        "ModifyIndex": create_index,
        "AllocModifyIndex": create_index,
        "CreateTime": now_ns,
        "ModifyTime": now_ns,
    }
    return alloc


def alloc_stub(alloc: Json, *, resources: bool = False, task_states: bool = True) -> Json:
    """AllocationListStub; `resources`/`task_states` mirror the list endpoints' query flags."""
    stub = {key: copy.deepcopy(alloc.get(key)) for key in _STUB_KEYS}
    stub["TaskStates"] = copy.deepcopy(alloc.get("TaskStates")) if task_states else None
    if resources:
        stub["AllocatedResources"] = copy.deepcopy(alloc.get("AllocatedResources"))
    return stub


def alloc_stop_response(*, eval_id: str, index: int) -> Json:
    return {"EvalID": eval_id, "Index": index}
