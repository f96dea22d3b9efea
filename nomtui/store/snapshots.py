"""Pure functions from watch answers to the immutable data of a view.

No I/O and no clock: given the same answers they build equal data, so they are tested
without a cluster and a view never shows a half-applied change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

from nomtui.client.consul import checks_by_alloc
from nomtui.models.allocs import AllocStub
from nomtui.models.consul import (
    CatalogServices,
    ConsulCheck,
    aggregate_status,
    alloc_id_of_service_id,
)
from nomtui.models.deployments import Deployment
from nomtui.models.job_spec import Job
from nomtui.models.jobs import JobStub, TaskGroupSummary
from nomtui.models.nodes import NodeStub
from nomtui.store.views import (
    AllocHealth,
    AllocTotals,
    ClusterData,
    ClusterInfo,
    ConsulStatus,
    JobDetail,
    NodeTotals,
    ServiceInstance,
    ServiceRow,
    ServicesData,
    Table,
)
from nomtui.store.watches import SourceState

T = TypeVar("T")
V = TypeVar("V")

# Worst first: the order a service's status is picked from its instances'.
_STATUS_RANK = {"maintenance": 0, "critical": 1, "": 2, "warning": 3, "passing": 4}


def frozen(items: Mapping[str, V]) -> Mapping[str, V]:
    """A read-only view of a fresh copy: nobody holds the dict underneath."""
    return MappingProxyType(dict(items))


def table(rows: Iterable[T], key: Callable[[T], str]) -> Table[T]:
    """Rows keyed by `key`, in the order given (the client's display order)."""
    return MappingProxyType({key(row): row for row in rows})


def jobs_table(jobs: Iterable[JobStub]) -> Table[JobStub]:
    return table(jobs, lambda j: j.key)


def allocs_table(allocs: Iterable[AllocStub]) -> Table[AllocStub]:
    return table(allocs, lambda a: a.ID)


def nodes_table(nodes: Iterable[NodeStub]) -> Table[NodeStub]:
    return table(nodes, lambda n: n.ID)


def deployments_table(deployments: Iterable[Deployment]) -> Table[Deployment]:
    return table(deployments, lambda d: d.ID)


def group_summary(allocs: Iterable[AllocStub]) -> Mapping[str, TaskGroupSummary]:
    """Allocation counts per task group by client status (`pending` counts as starting)."""
    counts: dict[str, Counter[str]] = {}
    for alloc in allocs:
        counts.setdefault(alloc.TaskGroup, Counter())[alloc.ClientStatus] += 1
    return frozen(
        {
            group: TaskGroupSummary(
                Starting=c["pending"],
                Running=c["running"],
                Complete=c["complete"],
                Failed=c["failed"],
                Lost=c["lost"],
                Unknown=c["unknown"],
            )
            for group, c in sorted(counts.items())
        }
    )


def job_detail(job: Job, allocs: list[AllocStub], deployment: Deployment | None) -> JobDetail:
    return JobDetail(
        job=job,
        allocs=allocs_table(allocs),
        deployment=deployment,
        summary=group_summary(allocs),
    )


def services_data(
    services: CatalogServices | None,
    checks: Iterable[ConsulCheck] | None,
    allocs: Iterable[AllocStub] | None,
) -> ServicesData:
    """Consul's services with their instances' health, joined to Nomad allocations.

    `None` for all three means no Consul is configured. Instances come from the checks
    (one `health/state/any` watch covers the whole catalog instead of one watch, and one
    parked thread, per service); an instance without any check therefore does not show.
    """
    if services is None or checks is None:
        return ServicesData(enabled=False, services=frozen({}), by_alloc=frozen({}))
    checks = list(checks)
    by_id = {a.ID: a for a in allocs or ()}
    node_checks: dict[str, list[ConsulCheck]] = {}
    own: dict[tuple[str, str], list[ConsulCheck]] = {}
    names: dict[tuple[str, str], str] = {}
    for check in checks:
        if not check.ServiceID:
            node_checks.setdefault(check.Node, []).append(check)
        else:
            key = (check.Node, check.ServiceID)
            own.setdefault(key, []).append(check)
            names[key] = check.ServiceName
    instances: dict[str, list[ServiceInstance]] = {}
    for (node, service_id), service_checks in sorted(own.items()):
        all_checks = tuple(service_checks + node_checks.get(node, []))
        instance = ServiceInstance(
            service_id=service_id,
            node=node,
            alloc_id=(alloc_id := alloc_id_of_service_id(service_id)),
            alloc=by_id.get(alloc_id) if alloc_id else None,
            checks=all_checks,
            status=aggregate_status(all_checks),
        )
        instances.setdefault(names[(node, service_id)], []).append(instance)
    rows = {}
    for name in sorted(set(services) | set(instances)):
        found = tuple(instances.get(name, ()))
        rows[name] = ServiceRow(
            name=name,
            tags=tuple(services.get(name) or ()),
            instances=found,
            status=_worst(i.status for i in found),
        )
    by_alloc = {
        alloc: AllocHealth(checks=tuple(found), status=aggregate_status(found))
        for alloc, found in sorted(checks_by_alloc(checks).items())
    }
    return ServicesData(enabled=True, services=frozen(rows), by_alloc=frozen(by_alloc))


def _worst(statuses: Iterable[str]) -> str:
    return min(statuses, key=lambda s: _STATUS_RANK.get(s, 2), default="passing")


def alloc_totals(allocs: Iterable[AllocStub]) -> AllocTotals:
    c = Counter(a.ClientStatus for a in allocs)
    return AllocTotals(
        running=c["running"],
        pending=c["pending"],
        failed=c["failed"],
        lost=c["lost"],
        complete=c["complete"],
        total=sum(c.values()),
    )


def node_totals(nodes: Iterable[NodeStub]) -> NodeTotals:
    ready = down = initializing = draining = ineligible = total = 0
    for node in nodes:
        total += 1
        if node.Status == "ready":
            ready += 1
        elif node.Status in ("down", "disconnected"):
            down += 1
        elif node.Status == "initializing":
            initializing += 1
        draining += node.Drain
        ineligible += not node.eligible
    return NodeTotals(ready, down, initializing, draining, ineligible, total)


def consul_status(catalog: SourceState | None, leader: SourceState | None) -> ConsulStatus:
    """Consul's state from the catalog watch (does it answer?) and the leader read."""
    if catalog is None:
        return ConsulStatus(enabled=True, pending=True)
    reachable = catalog.has_value and catalog.error is None
    known = leader.value if leader is not None and isinstance(leader.value, str) else ""
    return ConsulStatus(enabled=True, reachable=reachable, leader=known, error=catalog.error)


def cluster_data(
    info: ClusterInfo,
    jobs: Iterable[JobStub],
    allocs: Iterable[AllocStub],
    nodes: Iterable[NodeStub],
    consul: ConsulStatus,
) -> ClusterData:
    agent = info.agent
    by_status = Counter(j.Status for j in jobs)
    return ClusterData(
        leader=info.leader,
        region=agent.region if agent else "",
        datacenter=agent.datacenter if agent else "",
        version=agent.version if agent else "",
        agent=agent,
        token=info.token,
        jobs_by_status=frozen(dict(sorted(by_status.items()))),
        allocs=alloc_totals(allocs),
        nodes=node_totals(nodes),
        consul=consul,
    )


__all__ = [
    "alloc_totals",
    "allocs_table",
    "cluster_data",
    "consul_status",
    "deployments_table",
    "frozen",
    "group_summary",
    "job_detail",
    "jobs_table",
    "node_totals",
    "nodes_table",
    "services_data",
    "table",
]
