"""Client nodes: list stubs, full nodes, and the answers of node actions (PROTOCOLS.md §9).

Capacity lives in `NodeResources`/`ReservedResources` (Nomad 0.9+); agents 0.8-1.0 (and
node stubs from 0.7) have only the legacy `Resources`/`Reserved` blocks, some have both.
`cpu_mhz()`/`memory_mb()`/`disk_mb()` read whichever is there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nomtui.models.base import Model, parse_time
from nomtui.models.resources import CpuShares, DiskMB, MemoryMB, NetworkResource, Resources

# `Node` has a field named `Resources`; later annotations in its body use this alias.
_Resources = Resources


class DriverInfo(Model, frozen=True):
    Attributes: dict[str, str] | None = None
    Detected: bool = False
    Healthy: bool = False
    HealthDescription: str = ""
    UpdateTime: str | None = None
    """RFC 3339 with the agent's local offset."""


class NodeEvent(Model, frozen=True):
    Message: str = ""
    Subsystem: str = ""
    Details: dict[str, str] | None = None
    Timestamp: str | None = None
    """RFC 3339."""
    CreateIndex: int = 0

    @property
    def time(self) -> datetime | None:
        return parse_time(self.Timestamp)


class DrainSpec(Model, frozen=True):
    Deadline: int = 0
    """Nanoseconds; -1 means "force now", 0 "no deadline"."""
    IgnoreSystemJobs: bool = False


class DrainStrategy(Model, frozen=True):
    """Present (not null) while a node drains."""

    DrainSpec: DrainSpec | None = None
    Deadline: int = 0
    IgnoreSystemJobs: bool = False
    ForceDeadline: str | None = None
    StartedAt: str | None = None


class LastDrain(Model, frozen=True):
    Status: str = ""
    """`draining`, `complete` or `canceled`."""
    AccessorID: str = ""
    Meta: dict[str, str] | None = None
    StartedAt: str | None = None
    UpdatedAt: str | None = None


class HostVolume(Model, frozen=True):
    Name: str = ""
    Path: str = ""
    ReadOnly: bool = False


class NodeResources(Model, frozen=True):
    Cpu: CpuShares | None = None
    Memory: MemoryMB | None = None
    Disk: DiskMB | None = None
    Networks: list[NetworkResource] | None = None


class NodeReservedResources(Model, frozen=True):
    """What the agent holds back from scheduling; `Networks` here is not a list."""

    Cpu: CpuShares | None = None
    Memory: MemoryMB | None = None
    Disk: DiskMB | None = None


class _NodeCommon(Model, frozen=True):
    """Fields stubs and full nodes share, with the capacity helpers."""

    ID: str = ""
    Name: str = ""
    Datacenter: str = ""
    NodeClass: str = ""
    NodePool: str = ""
    Status: str = ""
    """`initializing`, `ready`, `down` or `disconnected`."""
    StatusDescription: str = ""
    SchedulingEligibility: str = ""
    """`eligible` or `ineligible`."""
    Drain: bool = False
    LastDrain: LastDrain | None = None
    Attributes: dict[str, str] | None = None
    Drivers: dict[str, DriverInfo] | None = None
    NodeResources: NodeResources | None = None
    ReservedResources: NodeReservedResources | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0

    @property
    def short_id(self) -> str:
        return self.ID[:8]

    @property
    def nomad_version(self) -> str:
        """Nomad version of the client agent (fingerprinted as `nomad.version`)."""
        return (self.Attributes or {}).get("nomad.version", "")

    @property
    def eligible(self) -> bool:
        # Agents before 0.8 have no eligibility; their nodes are eligible unless draining.
        if not self.SchedulingEligibility:
            return not self.Drain
        return self.SchedulingEligibility == "eligible"

    def _legacy(self) -> Resources | None:
        return None

    def cpu_mhz(self) -> int:
        """Total CPU of the node in MHz, from whichever resources block the agent sent."""
        if self.NodeResources and self.NodeResources.Cpu:
            return self.NodeResources.Cpu.CpuShares
        legacy = self._legacy()
        return legacy.CPU if legacy else 0

    def memory_mb(self) -> int:
        if self.NodeResources and self.NodeResources.Memory:
            return self.NodeResources.Memory.MemoryMB
        legacy = self._legacy()
        return legacy.MemoryMB if legacy else 0

    def disk_mb(self) -> int:
        if self.NodeResources and self.NodeResources.Disk:
            return self.NodeResources.Disk.DiskMB
        legacy = self._legacy()
        return legacy.DiskMB if legacy else 0


class NodeStub(_NodeCommon, frozen=True):
    """A row of `GET /v1/nodes` (`resources=true` adds the resources blocks)."""

    Address: str = ""
    Version: str = ""
    """Nomad version of the client agent (full nodes carry it in `Attributes`)."""

    @property
    def nomad_version(self) -> str:
        return self.Version or super().nomad_version


class Node(_NodeCommon, frozen=True):
    """`GET /v1/node/:id`."""

    HTTPAddr: str = ""
    TLSEnabled: bool = False
    ComputedClass: str = ""
    Meta: dict[str, str] | None = None
    Links: dict[str, str] | None = None
    DrainStrategy: DrainStrategy | None = None
    Events: list[NodeEvent] | None = None
    HostVolumes: dict[str, HostVolume] | None = None
    HostNetworks: dict[str, dict[str, Any]] | None = None
    Resources: Resources | None = None
    """Legacy capacity block (agents before 0.9 have only this)."""
    Reserved: _Resources | None = None
    StatusUpdatedAt: int = 0
    """Unix seconds (not nanoseconds)."""

    def _legacy(self) -> _Resources | None:
        return self.Resources


class NodeUpdateResponse(Model, frozen=True):
    """Answer of node drain, eligibility, evaluate and purge."""

    EvalIDs: list[str] | None = None
    EvalCreateIndex: int = 0
    NodeModifyIndex: int = 0
    Index: int = 0


class ClientMetadata(Model, frozen=True):
    """`GET`/`POST /v1/client/metadata`: node meta, split into static and dynamic parts."""

    Meta: dict[str, str] | None = None
    Dynamic: dict[str, str | None] | None = None
    """A `null` value is a key being unset."""
    Static: dict[str, str] | None = None


class ClientIdentity(Model, frozen=True):
    """`GET /v1/client/identity` (1.11+): the claims of the node's identity token."""

    Claims: dict[str, Any] | None = None


__all__ = [
    "ClientIdentity",
    "ClientMetadata",
    "DrainSpec",
    "DrainStrategy",
    "DriverInfo",
    "HostVolume",
    "LastDrain",
    "Node",
    "NodeEvent",
    "NodeReservedResources",
    "NodeResources",
    "NodeStub",
    "NodeUpdateResponse",
]
