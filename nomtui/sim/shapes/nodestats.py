"""Client host stats and node write responses (drain, eligibility, evaluate, purge)."""

from __future__ import annotations

from nomtui.sim.shapes.common import stable_fraction
from nomtui.sim.state import Json


def _disk(node: Json, used_fraction: float) -> Json:
    size = int(node["NodeResources"]["Disk"]["DiskMB"]) * 1024 * 1024
    used = int(size * used_fraction)
    return {
        "Available": size - used,
        "Device": "/dev/nvme0n1p1",
        "InodesUsedPercent": round(used_fraction * 4.1, 6),
        "Mountpoint": "/",
        "Size": size,
        "Used": used,
        "UsedPercent": used_fraction * 100.0,
    }


def client_stats(
    *, node: Json, cpu_percent: float, memory_used_mb: int, now_ns: int, uptime_s: int
) -> Json:
    """GET /v1/client/stats (HostStats). Per-core load is spread around `cpu_percent`
    deterministically so the numbers look live but stay snapshot-stable."""
    attrs = node.get("Attributes") or {}
    cores = int(attrs.get("cpu.numcores", "1"))
    total_mhz = float(node["NodeResources"]["Cpu"]["CpuShares"])
    cpus = []
    for i in range(cores):
        jitter = (stable_fraction(f"cpu:{node['ID']}:{i}:{now_ns}") - 0.5) * 0.4
        total = min(100.0, max(0.0, cpu_percent * (1.0 + jitter)))
        cpus.append(
            {
                "CPU": f"cpu{i}",
                "Idle": 100.0 - total,
                "System": total * 0.35,
                "Total": total,
                "User": total * 0.65,
            }
        )
    mem_total = int(node["NodeResources"]["Memory"]["MemoryMB"]) * 1024 * 1024
    used = memory_used_mb * 1024 * 1024
    alloc_dir = {**_disk(node, 0.28), "Device": "", "Mountpoint": ""}
    return {
        "AllocDirStats": alloc_dir,
        "CPU": cpus,
        "CPUTicksConsumed": cpu_percent / 100.0 * total_mhz,
        "DeviceStats": None,
        "DiskStats": [_disk(node, 0.28)],
        "Memory": {
            "Available": mem_total - used,
            "Free": max(0, mem_total - used - mem_total // 5),
            "Total": mem_total,
            "Used": used,
        },
        "Timestamp": now_ns,
        "Uptime": uptime_s,
    }


def drain_response(
    *,
    node_modify_index: int,
    index: int,
    eval_ids: list[str] | None = None,
    eval_create_index: int = 0,
) -> Json:
    """POST /v1/node/:id/drain (NodeDrainUpdateResponse)."""
    return {
        "EvalCreateIndex": eval_create_index,
        "EvalIDs": list(eval_ids) if eval_ids else None,
        "Index": index,
        "NodeModifyIndex": node_modify_index,
    }


def eligibility_response(
    *,
    node_modify_index: int,
    index: int,
    eval_ids: list[str] | None = None,
    eval_create_index: int = 0,
) -> Json:
    """POST /v1/node/:id/eligibility (NodeEligibilityUpdateResponse): same fields as drain."""
    return drain_response(
        node_modify_index=node_modify_index,
        index=index,
        eval_ids=eval_ids,
        eval_create_index=eval_create_index,
    )


def node_update_response(
    *,
    eval_ids: list[str] | None,
    eval_create_index: int,
    node_modify_index: int,
    index: int,
    leader_rpc_addr: str = "",
    servers: list[tuple[str, str]] | None = None,
    num_nodes: int = 0,
) -> Json:
    """POST /v1/node/:id/evaluate and /purge (NodeUpdateResponse). `servers` are
    (datacenter, "ip:4647") pairs."""
    return {
        "EvalCreateIndex": eval_create_index,
        "EvalIDs": list(eval_ids) if eval_ids else None,
        "HeartbeatTTL": 0,
        "Index": index,
        "KnownLeader": False,
        "LastContact": 0,
        "LeaderRPCAddr": leader_rpc_addr,
        "NodeModifyIndex": node_modify_index,
        "NumNodes": num_nodes,
        "Servers": [
            {"Datacenter": dc, "RPCAdvertiseAddr": addr, "RPCMajorVersion": 1, "RPCMinorVersion": 1}
            for dc, addr in servers
        ]
        if servers
        else None,
    }
