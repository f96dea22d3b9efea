"""Client statistics: allocation usage and host usage (PROTOCOLS.md §8).

Percentages and tick counts are Go `float64`s: JSON may carry them as `80` or as
`92.92929292929293`, and msgspec's `float` accepts both. Byte counts are `uint64` ints.
"""

from __future__ import annotations

from nomtui.models.base import Model


class CpuStats(Model, frozen=True):
    Percent: float = 0.0
    SystemMode: float = 0.0
    UserMode: float = 0.0
    TotalTicks: float = 0.0
    ThrottledPeriods: int = 0
    ThrottledTime: int = 0
    Measured: list[str] | None = None
    """Which numbers the driver filled in; the others are 0, not measured zeros."""


class MemoryStats(Model, frozen=True):
    RSS: int = 0
    Cache: int = 0
    Swap: int = 0
    Usage: int = 0
    MaxUsage: int = 0
    KernelUsage: int = 0
    KernelMaxUsage: int = 0
    MappedFile: int = 0
    Measured: list[str] | None = None

    @property
    def used_bytes(self) -> int:
        """The best single "memory used" number the driver gave (RSS, else usage)."""
        return self.RSS or self.Usage


class ResourceUsage(Model, frozen=True):
    CpuStats: CpuStats | None = None
    MemoryStats: MemoryStats | None = None


# `TaskResourceUsage` has a field named `ResourceUsage`; its later annotation uses this.
_ResourceUsage = ResourceUsage


class TaskResourceUsage(Model, frozen=True):
    ResourceUsage: ResourceUsage | None = None
    Timestamp: int = 0
    """Unix nanoseconds."""
    Pids: dict[str, _ResourceUsage] | None = None


class AllocStats(Model, frozen=True):
    """`GET /v1/client/allocation/:id/stats`."""

    ResourceUsage: ResourceUsage | None = None
    Tasks: dict[str, TaskResourceUsage] | None = None
    Timestamp: int = 0

    @property
    def cpu_percent(self) -> float:
        usage = self.ResourceUsage
        return usage.CpuStats.Percent if usage and usage.CpuStats else 0.0

    @property
    def memory_bytes(self) -> int:
        usage = self.ResourceUsage
        return usage.MemoryStats.used_bytes if usage and usage.MemoryStats else 0


class HostCPUStats(Model, frozen=True):
    CPU: str = ""
    """Core name, e.g. `cpu0`."""
    User: float = 0.0
    System: float = 0.0
    Idle: float = 0.0
    Total: float = 0.0


class HostMemoryStats(Model, frozen=True):
    Total: int = 0
    Available: int = 0
    Used: int = 0
    Free: int = 0


class HostDiskStats(Model, frozen=True):
    Device: str = ""
    Mountpoint: str = ""
    Size: int = 0
    Used: int = 0
    Available: int = 0
    UsedPercent: float = 0.0
    InodesUsedPercent: float = 0.0


class NodeStats(Model, frozen=True):
    """`GET /v1/client/stats`: the host a client agent runs on."""

    CPU: list[HostCPUStats] | None = None
    CPUTicksConsumed: float = 0.0
    Memory: HostMemoryStats | None = None
    DiskStats: list[HostDiskStats] | None = None
    AllocDirStats: HostDiskStats | None = None
    Uptime: int = 0
    """Seconds."""
    Timestamp: int = 0
    """Unix nanoseconds."""

    @property
    def cpu_percent(self) -> float:
        """Mean busy percentage over all cores."""
        cores = self.CPU or []
        return sum(c.Total for c in cores) / len(cores) if cores else 0.0


__all__ = [
    "AllocStats",
    "CpuStats",
    "HostCPUStats",
    "HostDiskStats",
    "HostMemoryStats",
    "MemoryStats",
    "NodeStats",
    "ResourceUsage",
    "TaskResourceUsage",
]
