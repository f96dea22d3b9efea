"""Consul catalog, health and agent bodies (PROTOCOLS.md §10).

Consul 0.3-era agents omit indexes, `ServiceTags`, `TaggedAddresses`, `ID` and
`Datacenter`; all of those default. `TaggedAddresses` differ by owner: a node's values
are plain strings (`{"lan": "10.0.0.1"}`), a service's are `{address, port}` objects
(lower-case keys in health/catalog answers; `Address`/`Port` in some agent answers), so
service-side maps stay `dict[str, Any]` and `tagged_address()` reads either form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from nomtui.models.base import Model

NODE_MAINTENANCE_CHECK_ID = "_node_maintenance"
SERVICE_MAINTENANCE_CHECK_PREFIX = "_service_maintenance:"
CONSUL_MEMBER_STATUSES = {0: "none", 1: "alive", 2: "leaving", 3: "left", 4: "failed"}
"""Serf member status numbers of `/v1/agent/members` (PROTOCOLS.md §10, [inferred])."""


class ConsulNode(Model, frozen=True):
    ID: str = ""
    Node: str = ""
    Address: str = ""
    Datacenter: str = ""
    TaggedAddresses: dict[str, str] | None = None
    Meta: dict[str, str] | None = None
    Partition: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0


class ServiceWeights(Model, frozen=True):
    Passing: int = 0
    Warning: int = 0


class ConsulService(Model, frozen=True):
    """A service instance as the health endpoints and the agent report it."""

    ID: str = ""
    Service: str = ""
    Tags: list[str] | None = None
    Address: str = ""
    """Empty means "use the node's address"."""
    Port: int = 0
    Meta: dict[str, str] | None = None
    TaggedAddresses: dict[str, Any] | None = None
    EnableTagOverride: bool = False
    Weights: ServiceWeights | None = None
    Kind: str = ""
    Namespace: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def tagged_address(self, name: str) -> tuple[str, int] | None:
        return _tagged_address((self.TaggedAddresses or {}).get(name))

    @property
    def alloc_id(self) -> str | None:
        return alloc_id_of_service_id(self.ID)


class ConsulCheck(Model, frozen=True):
    Node: str = ""
    CheckID: str = ""
    Name: str = ""
    Status: str = ""
    """`passing`, `warning` or `critical`."""
    Notes: str = ""
    Output: str = ""
    ServiceID: str = ""
    ServiceName: str = ""
    ServiceTags: list[str] | None = None
    Type: str = ""
    Namespace: str = ""
    Definition: dict[str, Any] | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0

    @property
    def is_maintenance(self) -> bool:
        return is_maintenance_check(self.CheckID)


class HealthEntry(Model, frozen=True):
    """An element of `GET /v1/health/service/:service`."""

    Node: ConsulNode | None = None
    Service: ConsulService | None = None
    Checks: list[ConsulCheck] | None = None

    @property
    def status(self) -> str:
        return aggregate_status(self.Checks or ())

    @property
    def address(self) -> str:
        """Where to reach the instance: the service address, else the node's."""
        service = self.Service.Address if self.Service else ""
        return service or (self.Node.Address if self.Node else "")

    @property
    def alloc_id(self) -> str | None:
        return self.Service.alloc_id if self.Service else None


class CatalogServiceEntry(Model, frozen=True):
    """A row of `GET /v1/catalog/service/:service` (node and service flattened)."""

    ID: str = ""
    Node: str = ""
    Address: str = ""
    Datacenter: str = ""
    TaggedAddresses: dict[str, str] | None = None
    NodeMeta: dict[str, str] | None = None
    ServiceID: str = ""
    ServiceName: str = ""
    ServiceAddress: str = ""
    ServicePort: int = 0
    ServiceTags: list[str] | None = None
    ServiceMeta: dict[str, str] | None = None
    ServiceTaggedAddresses: dict[str, Any] | None = None
    ServiceEnableTagOverride: bool = False
    ServiceKind: str = ""
    Namespace: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    @property
    def address(self) -> str:
        return self.ServiceAddress or self.Address


CatalogServices = dict[str, list[str] | None]
"""`GET /v1/catalog/services`: service name -> tags."""


class ConsulCatalogNode(Model, frozen=True):
    """`GET /v1/catalog/node/:node`: the node and its services keyed by service ID."""

    Node: ConsulNode | None = None
    Services: dict[str, ConsulService] | None = None


class ConsulMember(Model, frozen=True):
    """A gossip member of `/v1/agent/members`; `Status` is serf's number (1 = alive)."""

    Name: str = ""
    Addr: str = ""
    Port: int = 0
    Tags: dict[str, str] | None = None
    Status: int = 0
    ProtocolMin: int = 0
    ProtocolMax: int = 0
    ProtocolCur: int = 0
    DelegateMin: int = 0
    DelegateMax: int = 0
    DelegateCur: int = 0

    @property
    def status_name(self) -> str:
        return CONSUL_MEMBER_STATUSES.get(self.Status, str(self.Status))


class Coordinate(Model, frozen=True):
    """A network coordinate; agents send small values as ints (`0`) or floats."""

    Vec: list[float] | None = None
    Error: float = 0.0
    Adjustment: float = 0.0
    Height: float = 0.0


class CoordinateEntry(Model, frozen=True):
    """An element of `GET /v1/coordinate/nodes`."""

    Node: str = ""
    Segment: str = ""
    Partition: str = ""
    Coord: Coordinate | None = None


class ConsulAgentConfig(Model, frozen=True):
    Datacenter: str = ""
    PrimaryDatacenter: str | None = None
    NodeName: str = ""
    NodeID: str = ""
    Server: bool = False
    Revision: str = ""
    Version: str = ""


class ConsulAgentSelf(Model, frozen=True):
    """`GET /v1/agent/self` of Consul (PascalCase keys, unlike Nomad's)."""

    Config: ConsulAgentConfig | None = None
    Member: ConsulMember | None = None
    Coord: Coordinate | None = None
    Meta: dict[str, str] | None = None

    @property
    def datacenter(self) -> str:
        return self.Config.Datacenter if self.Config else ""

    @property
    def version(self) -> str:
        return self.Config.Version if self.Config else ""


def is_maintenance_check(check_id: str) -> bool:
    """Consul registers node/service maintenance mode as these pseudo-checks."""
    return check_id == NODE_MAINTENANCE_CHECK_ID or check_id.startswith(
        SERVICE_MAINTENANCE_CHECK_PREFIX
    )


def aggregate_status(checks: Iterable[ConsulCheck]) -> str:
    """One status for a set of checks, as Consul's Go client computes it (§10).

    Precedence: maintenance > critical > warning > passing. A maintenance pseudo-check
    counts whatever its `Status`; no checks at all is `passing`; a check with a status
    Consul does not define makes the answer `""` (unknown), as in the Go client.
    """
    maintenance = critical = warning = False
    for check in checks:
        if is_maintenance_check(check.CheckID):
            maintenance = True
            continue
        if check.Status == "critical":
            critical = True
        elif check.Status == "warning":
            warning = True
        elif check.Status != "passing":
            return ""
    if maintenance:
        return "maintenance"
    if critical:
        return "critical"
    if warning:
        return "warning"
    return "passing"


# `_nomad-task-<allocID>-...` (Nomad 0.6+) and `_nomad-executor-<allocID>-...` (0.5).
# Agent services (`_nomad-server-...`, `_nomad-client-...`) have no allocation.
_NOMAD_SERVICE_ID = re.compile(
    r"^_nomad-(?:task|executor)-"
    r"(?P<alloc>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?:-|$)"
)


def alloc_id_of_service_id(service_id: str) -> str | None:
    """The allocation ID inside a Consul service ID that Nomad registered, else None."""
    match = _NOMAD_SERVICE_ID.match(service_id)
    return match.group("alloc") if match else None


def _tagged_address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, str):
        return (value, 0) if value else None
    if isinstance(value, dict):
        address = value.get("address", value.get("Address", ""))
        port = value.get("port", value.get("Port", 0))
        if isinstance(address, str) and isinstance(port, int) and address:
            return address, port
    return None


__all__ = [
    "CONSUL_MEMBER_STATUSES",
    "NODE_MAINTENANCE_CHECK_ID",
    "SERVICE_MAINTENANCE_CHECK_PREFIX",
    "CatalogServiceEntry",
    "CatalogServices",
    "ConsulAgentConfig",
    "ConsulAgentSelf",
    "ConsulCatalogNode",
    "ConsulCheck",
    "ConsulMember",
    "ConsulNode",
    "ConsulService",
    "Coordinate",
    "CoordinateEntry",
    "HealthEntry",
    "ServiceWeights",
    "aggregate_status",
    "alloc_id_of_service_id",
    "is_maintenance_check",
]
