"""What a screen can ask the store for (view keys) and what it gets back (`ViewState`).

A view key is a small frozen dataclass naming one screen's data: `JobsView("default")`,
`JobView("default", "web")`. Keys are hashable, and equal keys share one set of watches.
Each key class is generic in the data it yields, so `store.subscribe(JobsView())` is
typed as a stream of `ViewState[Table[JobStub]]`.

Everything here is immutable: dataclasses are frozen, collections are tuples or
read-only mappings (`Table`), and the API models are frozen msgspec Structs. Screens may
keep a snapshot as long as they like; the store never changes one after publishing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeAlias, TypeVar

from nomtui.errors import NomtuiError
from nomtui.models.allocs import Allocation, AllocStub
from nomtui.models.cluster import AclToken, AgentSelf
from nomtui.models.consul import ConsulCheck
from nomtui.models.deployments import Deployment
from nomtui.models.job_spec import Job
from nomtui.models.jobs import JobStub, TaskGroupSummary
from nomtui.models.nodes import NodeStub

T = TypeVar("T")
D = TypeVar("D", covariant=True)

Connection = Literal["live", "reconnecting", "stale"]
"""`live`: every watch behind the view answers. `reconnecting`: one fails and is being
retried. `stale`: it has failed for longer than the store's `stale_after_s`."""

Table: TypeAlias = Mapping[str, T]
"""Rows keyed by ID, in display order; a read-only mapping (`types.MappingProxyType`)."""


class ViewKey(Generic[D]):
    """Base of the view keys; `D` is the type of the view's `ViewState.data`."""


# -- data of the composite views ---------------------------------------------------------------


@dataclass(frozen=True)
class JobDetail:
    """A job with its allocations and latest deployment."""

    job: Job
    allocs: Table[AllocStub]
    """Newest first, keyed by allocation ID."""
    deployment: Deployment | None
    """The latest deployment; None for jobs that never had one (batch, system)."""
    summary: Mapping[str, TaskGroupSummary]
    """Allocation counts per task group, counted from `allocs` (so `Queued` stays 0:
    queued placements have no allocation yet)."""


@dataclass(frozen=True)
class ServiceInstance:
    """One registration of a service, as Consul's checks describe it."""

    service_id: str
    node: str
    alloc_id: str | None
    """The Nomad allocation that registered it; None for services not from Nomad."""
    alloc: AllocStub | None
    """That allocation, when the allocation watch knows it."""
    checks: tuple[ConsulCheck, ...]
    """Its own checks followed by its node's checks (serfHealth), as Consul counts them."""
    status: str
    """`aggregate_status` of `checks`: passing, warning, critical, maintenance or ""."""


@dataclass(frozen=True)
class ServiceRow:
    name: str
    tags: tuple[str, ...]
    instances: tuple[ServiceInstance, ...]
    """Instances that have at least one check (Consul reports instances through checks)."""
    status: str
    """The worst instance status; `passing` when there are no instances."""

    @property
    def passing(self) -> int:
        return sum(1 for i in self.instances if i.status == "passing")


@dataclass(frozen=True)
class AllocHealth:
    checks: tuple[ConsulCheck, ...]
    status: str


@dataclass(frozen=True)
class ServicesData:
    enabled: bool
    """False when no Consul is configured; everything else is then empty."""
    services: Table[ServiceRow]
    """By service name, sorted."""
    by_alloc: Mapping[str, AllocHealth]
    """Consul health per Nomad allocation ID, for the allocation tables."""


@dataclass(frozen=True)
class AllocTotals:
    running: int = 0
    pending: int = 0
    failed: int = 0
    lost: int = 0
    complete: int = 0
    total: int = 0


@dataclass(frozen=True)
class NodeTotals:
    ready: int = 0
    down: int = 0
    """Down or disconnected."""
    initializing: int = 0
    draining: int = 0
    ineligible: int = 0
    total: int = 0


@dataclass(frozen=True)
class ConsulStatus:
    """Consul as the cluster header sees it, from the catalog watch the services view
    shares (no probe of its own)."""

    enabled: bool
    reachable: bool = False
    leader: str = ""
    error: NomtuiError | None = field(default=None, compare=False)
    pending: bool = False
    """No answer yet, neither good nor bad."""


@dataclass(frozen=True)
class ClusterInfo:
    """What the cluster header reads besides the watches: leader, agent and token (read
    once, and again when the watches give a reason: `nomtui.store.signals`)."""

    leader: str
    agent: AgentSelf | None
    token: AclToken | None
    """None when ACLs are off or the token may not read itself."""


@dataclass(frozen=True)
class ClusterData:
    leader: str
    region: str
    datacenter: str
    version: str
    agent: AgentSelf | None
    token: AclToken | None
    jobs_by_status: Mapping[str, int]
    allocs: AllocTotals
    nodes: NodeTotals
    consul: ConsulStatus


# -- view keys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobsView(ViewKey[Table[JobStub]]):
    """Job stubs keyed by `namespace/ID` (`JobStub.key`), sorted by namespace then ID."""

    namespace: str = "*"


@dataclass(frozen=True)
class JobView(ViewKey[JobDetail]):
    namespace: str
    job_id: str


@dataclass(frozen=True)
class AllocsView(ViewKey[Table[AllocStub]]):
    """Allocations of a namespace, or of one job when `job_id` is given; newest first.

    Every stub carries its `AllocatedResources`. `task_states=False` leaves out the task
    states (a third of a big list) for views that only count, place or size allocations;
    such a view of all namespaces shares its watch with the cluster header."""

    namespace: str = "*"
    job_id: str | None = None
    task_states: bool = True


@dataclass(frozen=True)
class AllocView(ViewKey[Allocation]):
    alloc_id: str


@dataclass(frozen=True)
class NodesView(ViewKey[Table[NodeStub]]):
    """Every node, with its `NodeResources` and `ReservedResources`."""


@dataclass(frozen=True)
class DeploymentsView(ViewKey[Table[Deployment]]):
    namespace: str = "*"


@dataclass(frozen=True)
class ServicesView(ViewKey[ServicesData]):
    pass


@dataclass(frozen=True)
class ClusterView(ViewKey[ClusterData]):
    pass


View: TypeAlias = (
    JobsView
    | JobView
    | AllocsView
    | AllocView
    | NodesView
    | DeploymentsView
    | ServicesView
    | ClusterView
)


@dataclass(frozen=True)
class ViewState(Generic[T]):
    """One published state of a view; never changed after publication."""

    view: ViewKey[T]
    data: T | None
    """None until every watch behind the view has answered once."""
    index: int
    """Raft index of the view's main watch (0 while unknown)."""
    connection: Connection
    stale_since: datetime | None
    """When the first failure of the current outage happened; None while live."""
    error: NomtuiError | None
    """The failure being retried (or the one that ended the view); None while live."""
    at: datetime
    """When the store built this state (from its injected clock)."""

    @property
    def loaded(self) -> bool:
        return self.data is not None


__all__ = [
    "AllocHealth",
    "AllocTotals",
    "AllocView",
    "AllocsView",
    "ClusterData",
    "ClusterInfo",
    "ClusterView",
    "Connection",
    "ConsulStatus",
    "DeploymentsView",
    "JobDetail",
    "JobView",
    "JobsView",
    "NodeTotals",
    "NodesView",
    "ServiceInstance",
    "ServiceRow",
    "ServicesData",
    "ServicesView",
    "Table",
    "View",
    "ViewKey",
    "ViewState",
]
