"""Nomad → Consul: what Nomad's Consul integration registers for nodes and allocations.

The scheduler calls `sync_node` after every change of a Nomad node and `sync_alloc` after
every change of an allocation, inside the same write. Both compute what Consul should hold
for that object, compare it with what it holds, and write only the difference, touching
`consul_catalog` (nodes, services) and/or `consul_health` (checks) so blocking queries on
the Consul port wake only when something they can see changed.

Storage (in `sim.state`): `consul_nodes[name]`, `consul_services[node/ServiceID]` (a
registration, see consul_shapes.service_registration), `consul_checks[node/CheckID]`.
Keys carry the node because Consul IDs are only unique per node (every node has a
`serfHealth` check).
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nomtui.sim import consul_shapes as shapes
from nomtui.sim.consul_shapes import DATACENTER, Json, derived_uuid, go_duration, strip_indexes

if TYPE_CHECKING:
    from nomtui.sim.server import Sim
    from nomtui.sim.state import State, Txn

SERVICE_PREFIX = "_nomad-task-"
CHECK_PREFIX = "_nomad-check-"
# Nomad node statuses in which the Consul agent on that machine is unreachable.
NODE_GONE = ("down", "disconnected")

CONSUL_SERVICE_META = {
    "grpc_port": "8502",
    "non_voter": "false",
    "raft_version": "3",
    "read_replica": "false",
    "serf_protocol_current": "2",
    "serf_protocol_max": "5",
    "serf_protocol_min": "1",
    "version": shapes.CONSUL_VERSION,
}


def service_key(node: str, service_id: str) -> str:
    return f"{node}/{service_id}"


def check_key(node: str, check_id: str) -> str:
    return f"{node}/{check_id}"


@dataclass
class _Owned:
    services: set[str] = field(default_factory=set)
    checks: set[str] = field(default_factory=set)


# alloc id -> the keys its last sync registered. Kept beside the state (not in it) so a
# resync never scans every registration in the cluster: scale mode has tens of thousands.
_owned: weakref.WeakKeyDictionary[State, dict[str, _Owned]] = weakref.WeakKeyDictionary()


def _owned_by(state: State) -> dict[str, _Owned]:
    table = _owned.get(state)
    if table is None:
        table = _owned[state] = {}
    return table


def _put(store: dict[str, Json], key: str, record: Json, txn: Txn) -> bool:
    """Store `record` under `key` unless an equal one is there; keeps CreateIndex."""
    old = store.get(key)
    record["CreateIndex"] = old["CreateIndex"] if old is not None else txn.index
    if old is not None and strip_indexes(old) == strip_indexes(record):
        return False
    record["ModifyIndex"] = txn.index
    store[key] = record
    return True


def node_ip(node: Json) -> str:
    ip = (node.get("Attributes") or {}).get("unique.network.ip-address")
    if ip:
        return str(ip)
    return str(node.get("HTTPAddr") or "127.0.0.1").rsplit(":", 1)[0]


# -- nodes ----------------------------------------------------------------------------------


def sync_server(sim: Sim, txn: Txn) -> None:
    """The Consul server itself: its node, the `consul` service and its serfHealth."""
    state = sim.state
    if shapes.SERVER_NODE in state.consul_nodes:
        return
    name, address = shapes.SERVER_NODE, shapes.SERVER_ADDRESS
    node_id = derived_uuid("consul-node", name)
    state.consul_nodes[name] = shapes.consul_node(
        name, address, DATACENTER, node_id, txn.index, txn.index
    )
    reg = shapes.service_registration(
        node=name,
        service_id="consul",
        name="consul",
        tags=[],
        address="",
        port=shapes.SERVER_RPC_PORT,
        meta=CONSUL_SERVICE_META,
        create_index=txn.index,
        modify_index=txn.index,
    )
    state.consul_services[service_key(name, "consul")] = reg
    check = shapes.serf_check(name, True, txn.index, txn.index)
    state.consul_checks[check_key(name, shapes.SERF_CHECK_ID)] = check
    txn.touch("consul_catalog", "consul_health")


def sync_node(sim: Sim, txn: Txn, node: Json) -> None:
    """Register the Consul agent of a Nomad client: its catalog node and `serfHealth`.

    serfHealth is critical while the Nomad node is down or disconnected and passing
    otherwise (an initializing Nomad client still has a live Consul agent beside it).
    """
    sync_server(sim, txn)
    state = sim.state
    name = node["Name"]
    record = shapes.consul_node(
        name, node_ip(node), DATACENTER, derived_uuid("consul-node", node["ID"]), 0, 0
    )
    if _put(state.consul_nodes, name, record, txn):
        txn.touch("consul_catalog")
    alive = node.get("Status") not in NODE_GONE
    check = shapes.serf_check(name, alive, 0, 0)
    if _put(state.consul_checks, check_key(name, shapes.SERF_CHECK_ID), check, txn):
        txn.touch("consul_health")


def deregister_node(sim: Sim, txn: Txn, name: str) -> None:
    """Drop a Consul node with every service and check on it (a GC'd Nomad client)."""
    state = sim.state
    if state.consul_nodes.pop(name, None) is not None:
        txn.touch("consul_catalog")
    prefix = f"{name}/"
    for key in [k for k in state.consul_services if k.startswith(prefix)]:
        del state.consul_services[key]
        txn.touch("consul_catalog")
    for key in [k for k in state.consul_checks if k.startswith(prefix)]:
        del state.consul_checks[key]
        txn.touch("consul_health")
    for owned in _owned_by(state).values():
        owned.services = {k for k in owned.services if not k.startswith(prefix)}
        owned.checks = {k for k in owned.checks if not k.startswith(prefix)}


# -- allocations ----------------------------------------------------------------------------


def sync_alloc(sim: Sim, txn: Txn, alloc: Json) -> None:
    """Make Consul hold exactly the services and checks a running allocation registers.

    Running (DesiredStatus run, ClientStatus running): every Consul-provider service of
    its group and of its running tasks, with their checks, whose status follows
    `sim.state.alloc_health`. Anything else: nothing, so earlier registrations go away.
    """
    state = sim.state
    owned_table = _owned_by(state)
    owned = owned_table.get(alloc["ID"], _Owned())
    services, checks = _desired(sim, alloc)
    limit = getattr(sim.config, "consul_instances", None)
    full = limit is not None and len(state.consul_services) >= limit
    if services and not owned.services and full:
        # scale mode: past the cap, new allocations stay out of Consul
        services, checks = {}, {}
    node = state.nodes.get(alloc.get("NodeID", ""))
    if services and node is not None and node["Name"] not in state.consul_nodes:
        # Registrations hang off a catalog node; make sure the agent's node is there.
        sync_node(sim, txn, node)

    catalog_changed = health_changed = False
    for key in owned.services - services.keys():
        catalog_changed |= state.consul_services.pop(key, None) is not None
    for key in owned.checks - checks.keys():
        health_changed |= state.consul_checks.pop(key, None) is not None
    for key, reg in services.items():
        catalog_changed |= _put(state.consul_services, key, reg, txn)
    for key, check in checks.items():
        health_changed |= _put(state.consul_checks, key, check, txn)

    if services or checks:
        owned_table[alloc["ID"]] = _Owned(set(services), set(checks))
    else:
        owned_table.pop(alloc["ID"], None)
    if catalog_changed:
        txn.touch("consul_catalog")
    if health_changed:
        txn.touch("consul_health")


def _desired(sim: Sim, alloc: Json) -> tuple[dict[str, Json], dict[str, Json]]:
    if alloc.get("DesiredStatus") != "run" or alloc.get("ClientStatus") != "running":
        return {}, {}
    node = sim.state.nodes.get(alloc.get("NodeID", ""))
    if node is None:
        return {}, {}
    job = (
        sim.state.job_version(alloc["Namespace"], alloc["JobID"], alloc.get("JobVersion", 0))
        or alloc.get("Job")
        or sim.state.job(alloc["Namespace"], alloc["JobID"])
    )
    group = next(
        (g for g in (job or {}).get("TaskGroups") or [] if g["Name"] == alloc["TaskGroup"]),
        None,
    )
    if group is None:
        return {}, {}
    ctx = _AllocContext(sim, alloc, node)
    for svc in group.get("Services") or []:
        ctx.add(svc, f"group-{group['Name']}")
    task_states = alloc.get("TaskStates") or {}
    for task in group.get("Tasks") or []:
        state = (task_states.get(task["Name"]) or {}).get("State", "running")
        if state == "running":
            for svc in task.get("Services") or []:
                ctx.add(svc, task["Name"])
    return ctx.services, ctx.checks


class _AllocContext:
    """Builds one allocation's registrations the way Nomad's service hooks name them."""

    def __init__(self, sim: Sim, alloc: Json, node: Json) -> None:
        self.alloc = alloc
        self.node_name: str = node["Name"]
        self.node_ip = node_ip(node)
        self.ports = _alloc_ports(alloc)
        self.status = sim.state.alloc_health.get(alloc["ID"], "passing")
        self.canary = bool((alloc.get("DeploymentStatus") or {}).get("Canary"))
        self.services: dict[str, Json] = {}
        self.checks: dict[str, Json] = {}

    def address(self, label: str) -> tuple[str, int]:
        if label.isdigit():
            return self.node_ip, int(label)
        host_ip, port = self.ports.get(label, ("", 0))
        return host_ip or self.node_ip, port

    def add(self, svc: Json, owner: str) -> None:
        if (svc.get("Provider") or "consul") != "consul":
            return
        name = svc["Name"]
        label = svc.get("PortLabel") or ""
        service_id = f"{SERVICE_PREFIX}{self.alloc['ID']}-{owner}-{name}-{label}"
        address, port = self.address(label)
        address = svc.get("Address") or address
        tags = svc.get("Tags") or []
        meta: dict[str, str] = dict(svc.get("Meta") or {})
        if self.canary:
            tags = svc.get("CanaryTags") or tags
            meta.update(svc.get("CanaryMeta") or {})
        meta["external-source"] = "nomad"
        self.services[service_key(self.node_name, service_id)] = shapes.service_registration(
            node=self.node_name,
            service_id=service_id,
            name=name,
            tags=list(tags),
            address=address,
            port=port,
            meta=meta,
            enable_tag_override=bool(svc.get("EnableTagOverride")),
            create_index=0,
            modify_index=0,
        )
        for chk in svc.get("Checks") or []:
            self._add_check(chk, svc, service_id, list(tags), (address, port))

    def _add_check(
        self, chk: Json, svc: Json, service_id: str, tags: list[str], target: tuple[str, int]
    ) -> None:
        name = chk.get("Name") or f'service: "{svc["Name"]}" check'
        digest = hashlib.sha1(f"{self.alloc['ID']}{service_id}{name}".encode()).hexdigest()
        check_id = CHECK_PREFIX + digest
        if chk.get("PortLabel"):
            target = self.address(chk["PortLabel"])
        nomad_type = chk.get("Type") or "tcp"
        # Nomad runs script checks itself and reports to Consul through a TTL check.
        consul_type = "ttl" if nomad_type == "script" else nomad_type
        self.checks[check_key(self.node_name, check_id)] = shapes.health_check(
            node=self.node_name,
            check_id=check_id,
            name=name,
            status=self.status,
            output=self._output(nomad_type, chk, target),
            service_id=service_id,
            service_name=svc["Name"],
            service_tags=tags,
            type_=consul_type,
            interval=go_duration(int(chk.get("Interval") or 0)),
            timeout=go_duration(int(chk.get("Timeout") or 0)),
            create_index=0,
            modify_index=0,
        )

    def _listening(self) -> bool:
        """Something in the allocation runs (finished prestart tasks like `kv` don't count)."""
        states = (self.alloc.get("TaskStates") or {}).values()
        return not states or any((s or {}).get("State") == "running" for s in states)

    def _output(self, nomad_type: str, chk: Json, target: tuple[str, int]) -> str:
        """What Consul's checker would have written for this status."""
        ip, port = target
        refused = f"dial tcp {ip}:{port}: connect: connection refused"
        status = self.status
        if nomad_type == "http":
            method = chk.get("Method") or "GET"
            url = f"{chk.get('Protocol') or 'http'}://{ip}:{port}{chk.get('Path') or '/'}"
            if status == "passing":
                return f"HTTP {method} {url}: 200 OK Output: ok"
            if status == "warning":
                return f"HTTP {method} {url}: 429 Too Many Requests Output: slow down"
            if self._listening():
                return f"HTTP {method} {url}: 503 Service Unavailable Output: unhealthy"
            return f'{method.title()} "{url}": {refused}'
        if nomad_type == "tcp":
            return f"TCP connect {ip}:{port}: Success" if status != "critical" else refused
        if nomad_type == "grpc":
            if status == "critical":
                return f"gRPC check {ip}:{port}: failed: rpc error: code = Unavailable"
            return f"gRPC check {ip}:{port}: success"
        return "" if status == "passing" else f"check {status}"


def _alloc_ports(alloc: Json) -> dict[str, tuple[str, int]]:
    """Port label → (host IP, host port) from every place an allocation records ports."""
    ports: dict[str, tuple[str, int]] = {}
    resources: Json = alloc.get("AllocatedResources") or {}
    shared: Json = resources.get("Shared") or {}
    for p in shared.get("Ports") or []:
        ports.setdefault(p["Label"], (p.get("HostIP") or "", int(p.get("Value") or 0)))
    networks: list[Any] = list(shared.get("Networks") or [])
    for task in (resources.get("Tasks") or {}).values():
        networks += (task or {}).get("Networks") or []
    networks += (alloc.get("Resources") or {}).get("Networks") or []
    for net in networks:
        for p in (net.get("ReservedPorts") or []) + (net.get("DynamicPorts") or []):
            ports.setdefault(p["Label"], (net.get("IP") or "", int(p.get("Value") or 0)))
    return ports
