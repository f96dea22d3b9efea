"""Consul's JSON shapes, built from plain values: catalog nodes, services, checks, agent info.

Pure functions, no state and no I/O. Keys and JSON types follow the examples in
`shared/api/consul/*.json`; where those docs samples are older than the Consul the sim
pretends to be (1.20), the newer fields are added next to them (`Type`, `Interval`,
`ExposedPort`, `Definition` on checks); fields Consul marks omitempty and the sim never
fills (sockets, peering, locality, an empty `Kind` on a health entry) are left out.

Stored records are "registrations": the catalog row without the node fields. The API
joins them with the node at read time, as Consul joins its `services` and `nodes` tables.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

Json = dict[str, Any]

# Mirrors nomtui.sim.server (CONSUL_VERSION, DATACENTER); kept here so the shapes do not
# import the server module and its whole dependency tree.
CONSUL_VERSION = "1.20.2"
CONSUL_REVISION = "33e5727a"
DATACENTER = "dc1"
ENTERPRISE_META = {"Namespace": "default", "Partition": "default"}

SERVER_NODE = "consul-server-1"
SERVER_ADDRESS = "127.0.0.1"
SERVER_RPC_PORT = 8300
SERF_LAN_PORT = 8301

SERF_CHECK_ID = "serfHealth"
SERF_PASSING_OUTPUT = "Agent alive and reachable"
SERF_CRITICAL_OUTPUT = "Agent not live or unreachable"

# Serf member status codes (agent/members `Status`).
MEMBER_ALIVE = 1
MEMBER_FAILED = 4


def derived_uuid(*parts: str) -> str:
    """A stable UUID-shaped id from names (Consul node IDs are random, but must not flap)."""
    h = hashlib.sha1("\x00".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def go_duration(ns: int) -> str:
    """Go's time.Duration.String() for whole milliseconds and up: 10s, 1m30s, 1.5s, 0s."""
    if ns <= 0:
        return "0s"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = rest / 1e9
    if hours == 0 and minutes == 0 and seconds < 1:
        return f"{ns / 1e6:g}ms"
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{seconds:g}s"


# -- nodes ----------------------------------------------------------------------------------


def consul_node(
    name: str,
    address: str,
    datacenter: str,
    node_id: str,
    create_index: int,
    modify_index: int,
    meta: dict[str, str] | None = None,
) -> Json:
    """A catalog node, as `/v1/catalog/nodes` lists it and `Node` of a health entry."""
    return {
        "ID": node_id,
        "Node": name,
        "Address": address,
        "Datacenter": datacenter,
        "TaggedAddresses": {
            "lan": address,
            "lan_ipv4": address,
            "wan": address,
            "wan_ipv4": address,
        },
        "Meta": dict(meta)
        if meta is not None
        else {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
        "Partition": "default",
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
    }


# -- services -------------------------------------------------------------------------------


def service_registration(
    *,
    node: str,
    service_id: str,
    name: str,
    tags: list[str],
    address: str,
    port: int,
    meta: dict[str, str] | None = None,
    create_index: int,
    modify_index: int,
    enable_tag_override: bool = False,
    kind: str = "",
) -> Json:
    """A stored service instance: the catalog row's `Service*` fields plus `Node`."""
    tagged: Json = {}
    if address:
        # The form the API docs show, which is the sim's spec (real agents also add
        # `lan_ipv4`/`wan_ipv4` with capitalised keys; clients must read both).
        tagged = {
            "lan": {"address": address, "port": port},
            "wan": {"address": address, "port": port},
        }
    return {
        "Node": node,
        "ServiceKind": kind,
        "ServiceID": service_id,
        "ServiceName": name,
        "ServiceTags": list(tags),
        "ServiceAddress": address,
        "ServiceTaggedAddresses": tagged,
        "ServiceWeights": {"Passing": 1, "Warning": 1},
        "ServiceMeta": dict(meta or {}),
        "ServicePort": port,
        "ServiceEnableTagOverride": enable_tag_override,
        "ServiceProxy": {
            "DestinationServiceName": "",
            "DestinationServiceID": "",
            "LocalServiceAddress": "",
            "LocalServicePort": 0,
            "Mode": "",
            "Config": None,
            "Upstreams": None,
            "MeshGateway": {},
            "Expose": {},
        },
        "ServiceConnect": {"Native": False, "Proxy": None},
        **ENTERPRISE_META,
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
    }


def catalog_service_row(reg: Json, node: Json) -> Json:
    """`/v1/catalog/service/:name` row: node fields first, then the registration."""
    row: Json = {
        "ID": node["ID"],
        "Node": node["Node"],
        "Address": node["Address"],
        "Datacenter": node["Datacenter"],
        "TaggedAddresses": dict(node["TaggedAddresses"]),
        "NodeMeta": dict(node["Meta"] or {}),
    }
    row.update(copy.deepcopy({k: v for k, v in reg.items() if k != "Node"}))
    return row


def node_service(reg: Json) -> Json:
    """The `Service` object of a health entry (Consul's NodeService)."""
    service: Json = {"Kind": reg["ServiceKind"]} if reg["ServiceKind"] else {}
    service.update(
        {
            "ID": reg["ServiceID"],
            "Service": reg["ServiceName"],
            "Tags": list(reg["ServiceTags"]),
            "Address": reg["ServiceAddress"],
            "TaggedAddresses": copy.deepcopy(reg["ServiceTaggedAddresses"]),
            "Meta": dict(reg["ServiceMeta"]),
            "Port": reg["ServicePort"],
            "Weights": dict(reg["ServiceWeights"]),
            "EnableTagOverride": reg["ServiceEnableTagOverride"],
            "Proxy": copy.deepcopy(reg["ServiceProxy"]),
            "Connect": copy.deepcopy(reg["ServiceConnect"]),
            "Namespace": reg["Namespace"],
            "Partition": reg["Partition"],
            "CreateIndex": reg["CreateIndex"],
            "ModifyIndex": reg["ModifyIndex"],
        }
    )
    return service


def health_entry(reg: Json, node: Json, checks: list[Json]) -> Json:
    """`/v1/health/service/:name` element: `{Node, Service, Checks}`."""
    return {
        "Node": copy.deepcopy(node),
        "Service": node_service(reg),
        "Checks": [copy.deepcopy(c) for c in checks],
    }


# -- checks ---------------------------------------------------------------------------------


def health_check(
    *,
    node: str,
    check_id: str,
    name: str,
    status: str,
    output: str = "",
    notes: str = "",
    service_id: str = "",
    service_name: str = "",
    service_tags: list[str] | None = None,
    type_: str = "",
    interval: str = "",
    timeout: str = "",
    create_index: int,
    modify_index: int,
) -> Json:
    """A health check as every `/v1/health/*` endpoint returns it."""
    return {
        "Node": node,
        "CheckID": check_id,
        "Name": name,
        "Status": status,
        "Notes": notes,
        "Output": output,
        "ServiceID": service_id,
        "ServiceName": service_name,
        # Consul answers [] rather than null for a check without a service.
        "ServiceTags": list(service_tags or []),
        "Type": type_,
        "Interval": interval,
        "Timeout": timeout,
        "ExposedPort": 0,
        # Server-side HealthCheckDefinition fields are all omitempty; agent-registered
        # checks (which is how Nomad registers) carry none of them.
        "Definition": {},
        **ENTERPRISE_META,
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
    }


def serf_check(node: str, alive: bool, create_index: int, modify_index: int) -> Json:
    return health_check(
        node=node,
        check_id=SERF_CHECK_ID,
        name="Serf Health Status",
        status="passing" if alive else "critical",
        output=SERF_PASSING_OUTPUT if alive else SERF_CRITICAL_OUTPUT,
        create_index=create_index,
        modify_index=modify_index,
    )


# -- agent ----------------------------------------------------------------------------------


def member(name: str, address: str, node_id: str, *, server: bool, alive: bool) -> Json:
    """One `/v1/agent/members` element (serf LAN view)."""
    tags = {
        "build": f"{CONSUL_VERSION}:{CONSUL_REVISION}",
        "dc": DATACENTER,
        "id": node_id,
        "role": "consul" if server else "node",
        "segment": "",
        "vsn": "2",
        "vsn_max": "3",
        "vsn_min": "2",
    }
    if server:
        tags.update(
            {
                "acls": "0",
                "bootstrap": "1",
                "ft_fs": "1",
                "ft_si": "1",
                "grpc_tls_port": "8503",
                "port": str(SERVER_RPC_PORT),
                "raft_vsn": "3",
                "use_tls": "0",
                "wan_join_port": "8302",
            }
        )
    return {
        "Name": name,
        "Addr": address,
        "Port": SERF_LAN_PORT,
        "Tags": dict(sorted(tags.items())),
        "Status": MEMBER_ALIVE if alive else MEMBER_FAILED,
        "ProtocolMin": 1,
        "ProtocolMax": 5,
        "ProtocolCur": 2,
        "DelegateMin": 2,
        "DelegateMax": 5,
        "DelegateCur": 4,
    }


def agent_self(name: str, address: str, node_id: str) -> Json:
    """`/v1/agent/self` of the server agent the sim's Consul port stands for."""
    return {
        "Config": {
            "Datacenter": DATACENTER,
            "PrimaryDatacenter": DATACENTER,
            "NodeName": name,
            "NodeID": node_id,
            "Partition": "",
            "Revision": CONSUL_REVISION,
            "Server": True,
            "Version": CONSUL_VERSION,
            "BuildDate": "2024-12-17T17:00:00Z",
        },
        # The real one is the whole runtime config (hundreds of keys); the few a UI reads.
        "DebugConfig": {
            "ACLsEnabled": False,
            "Datacenter": DATACENTER,
            "NodeName": name,
            "ServerMode": True,
            "UseStreamingBackend": True,
            "Version": CONSUL_VERSION,
        },
        "Coord": {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-05},
        "Member": member(name, address, node_id, server=True, alive=True),
        "Stats": {
            "agent": {"check_monitors": "0", "check_ttls": "0", "checks": "1", "services": "1"},
            "build": {
                "prerelease": "",
                "revision": CONSUL_REVISION,
                "version": CONSUL_VERSION,
                "version_metadata": "",
            },
            "consul": {
                "acl": "disabled",
                "bootstrap": "true",
                "known_datacenters": "1",
                "leader": "true",
                "leader_addr": f"{SERVER_ADDRESS}:{SERVER_RPC_PORT}",
                "server": "true",
            },
        },
        "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
        "xDS": {
            "SupportedProxies": {"envoy": ["1.32.2", "1.31.4", "1.30.8", "1.29.11"]},
            "Port": 8502,
            "Ports": {"Plaintext": 8502, "TLS": -1},
        },
    }


def strip_indexes(obj: Json) -> Json:
    """The record without its raft indexes, to tell a real change from a rewrite."""
    return {k: v for k, v in obj.items() if k not in ("CreateIndex", "ModifyIndex")}
