"""Resource blocks shared by jobs, allocations and nodes.

Nomad has two generations of resource structs and sends both for years:
- the legacy `Resources` (`CPU`, `MemoryMB`, `DiskMB`, `Networks`), the only one before
  0.9 and still present on tasks, allocations and nodes;
- the newer `NodeResources` / `AllocatedResources` (`Cpu{CpuShares}`, `Memory{MemoryMB}`,
  `Disk{DiskMB}`, `Shared{Ports}`...).
Both are modelled; helpers on the owners pick whichever the agent sent.
"""

from __future__ import annotations

from nomtui.models.base import Model


class Port(Model, frozen=True):
    """A reserved or dynamic port (`Value` 0 until the scheduler picks one)."""

    Label: str = ""
    Value: int = 0
    To: int = 0
    HostNetwork: str = ""


class NetworkResource(Model, frozen=True):
    Mode: str = ""
    Device: str = ""
    CIDR: str = ""
    IP: str = ""
    Hostname: str = ""
    MBits: int = 0
    ReservedPorts: list[Port] | None = None
    DynamicPorts: list[Port] | None = None

    @property
    def ports(self) -> list[Port]:
        return [*(self.ReservedPorts or ()), *(self.DynamicPorts or ())]


class Resources(Model, frozen=True):
    """Legacy resources block (tasks, allocations, and nodes of agents before 0.9)."""

    CPU: int = 0
    Cores: int = 0
    MemoryMB: int = 0
    MemoryMaxMB: int = 0
    DiskMB: int = 0
    IOPS: int = 0
    Networks: list[NetworkResource] | None = None


class CpuShares(Model, frozen=True):
    CpuShares: int = 0
    """MHz."""


class MemoryMB(Model, frozen=True):
    MemoryMB: int = 0
    MemoryMaxMB: int = 0


class DiskMB(Model, frozen=True):
    DiskMB: int = 0


class AllocatedTaskResources(Model, frozen=True):
    Cpu: CpuShares | None = None
    Memory: MemoryMB | None = None
    Networks: list[NetworkResource] | None = None


class AllocatedPortMapping(Model, frozen=True):
    """A port of the allocation as the node maps it: `HostIP:Value` -> container `To`."""

    Label: str = ""
    Value: int = 0
    To: int = 0
    HostIP: str = ""


class AllocatedSharedResources(Model, frozen=True):
    DiskMB: int = 0
    Networks: list[NetworkResource] | None = None
    Ports: list[AllocatedPortMapping] | None = None


class AllocatedResources(Model, frozen=True):
    """`AllocatedResources` of an allocation (Nomad 0.9+)."""

    Tasks: dict[str, AllocatedTaskResources] | None = None
    Shared: AllocatedSharedResources | None = None

    @property
    def cpu_mhz(self) -> int:
        return sum(t.Cpu.CpuShares for t in (self.Tasks or {}).values() if t.Cpu)

    @property
    def memory_mb(self) -> int:
        return sum(t.Memory.MemoryMB for t in (self.Tasks or {}).values() if t.Memory)

    @property
    def ports(self) -> list[AllocatedPortMapping]:
        return list(self.Shared.Ports or ()) if self.Shared else []


__all__ = [
    "AllocatedPortMapping",
    "AllocatedResources",
    "AllocatedSharedResources",
    "AllocatedTaskResources",
    "CpuShares",
    "DiskMB",
    "MemoryMB",
    "NetworkResource",
    "Port",
    "Resources",
]
