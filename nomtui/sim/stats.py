"""Resource usage numbers for the client stats endpoints.

They wander smoothly over time, derived from the allocation ID and the clock rather than
from a random stream, so two reads a second apart look like a live process and a fixed
clock gives the same answer every time.
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

from nomtui.sim import shapes
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


def wave(key: str, now_ns: int, low: float, high: float) -> float:
    phase = zlib.crc32(key.encode()) / 0xFFFFFFFF * 2 * math.pi
    t = now_ns / 1e9
    mix = 0.5 + 0.35 * math.sin(t / 17 + phase) + 0.15 * math.sin(t / 3.1 + 2 * phase)
    return low + (high - low) * min(1.0, max(0.0, mix))


class StatsSource:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    def alloc_stats(self, alloc: Json, task: str | None) -> Json:
        now = self.sim.clock.now_ns()
        tasks: dict[str, tuple[float, int]] = {}
        for name, res in alloc["AllocatedResources"]["Tasks"].items():
            if task is not None and name != task:
                continue
            state = (alloc["TaskStates"] or {}).get(name) or {}
            if state.get("State") != "running":
                continue
            cpu_cap = res["Cpu"]["CpuShares"]
            mem_cap = res["Memory"]["MemoryMB"] * 1024 * 1024
            key = f"{alloc['ID']}/{name}"
            # percent of one core, the way the docker driver reports it
            cpu_pct = wave(key + "/cpu", now, 0.02, 0.9) * cpu_cap / 24
            rss = int(wave(key + "/mem", now, 0.15, 0.85) * mem_cap)
            tasks[name] = (cpu_pct, rss)
        return shapes.alloc_stats(tasks=tasks, now_ns=now)

    def node_stats(self, node: Json) -> Json:
        now = self.sim.clock.now_ns()
        live = [
            a for a in self.sim.state.allocs_of_node(node["ID"]) if a["ClientStatus"] == "running"
        ]
        used_mb = sum(
            t["Memory"]["MemoryMB"] for a in live for t in a["AllocatedResources"]["Tasks"].values()
        )
        cpu = wave(node["ID"] + "/cpu", now, 0.05, 0.6) * 100
        uptime = max(0, now // 10**9 - node["StatusUpdatedAt"])
        return shapes.client_stats(
            node=node,
            cpu_percent=cpu,
            memory_used_mb=int(used_mb * 0.7) + 900,
            now_ns=now,
            uptime_s=int(uptime),
        )
