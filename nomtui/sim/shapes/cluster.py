"""Cluster-level shapes: namespaces, ACL tokens, agent self/members/health and search.

Deployment and evaluation shapes live in `deployments` and are re-exported here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Mapping

from nomtui.sim.clock import rfc3339
from nomtui.sim.shapes.common import stable_uuid
from nomtui.sim.shapes.deployments import (
    DESC_BLOCKED,
    DESC_FAILED_ALLOCATIONS,
    DESC_FAILED_BY_USER,
    DESC_NEEDS_PROMOTION,
    DESC_NEWER_JOB,
    DESC_PAUSED,
    DESC_PENDING_FOR_PEER,
    DESC_PROGRESS_DEADLINE,
    DESC_RUNNING,
    DESC_RUNNING_AUTO_PROMOTION,
    DESC_RUNNING_NEEDS_PROMOTION,
    DESC_STOPPED,
    DESC_STOPPED_JOB,
    DESC_SUCCESSFUL,
    DESC_UNBLOCKING,
    deployment,
    deployment_group_state,
    deployment_update_response,
    evaluation,
    evaluation_stub,
    no_rollback_target_description,
    promote_response,
    rollback_description,
    rollback_noop_description,
)
from nomtui.sim.state import Json

__all__ = [
    "DESC_BLOCKED",
    "DESC_FAILED_ALLOCATIONS",
    "DESC_FAILED_BY_USER",
    "DESC_NEEDS_PROMOTION",
    "DESC_NEWER_JOB",
    "DESC_PAUSED",
    "DESC_PENDING_FOR_PEER",
    "DESC_PROGRESS_DEADLINE",
    "DESC_RUNNING",
    "DESC_RUNNING_AUTO_PROMOTION",
    "DESC_RUNNING_NEEDS_PROMOTION",
    "DESC_STOPPED",
    "DESC_STOPPED_JOB",
    "DESC_SUCCESSFUL",
    "DESC_UNBLOCKING",
    "acl_token",
    "acl_token_stub",
    "agent_health",
    "agent_members",
    "agent_self",
    "deployment",
    "deployment_group_state",
    "deployment_update_response",
    "evaluation",
    "evaluation_stub",
    "fuzzy_search_response",
    "namespace",
    "no_rollback_target_description",
    "prefix_search_response",
    "promote_response",
    "rollback_description",
    "rollback_noop_description",
]

_REVISION = "6d3ea8a1ba8a2b7b6c1b5d8a5c3d53d8fd6f1a3e"
_SERF_PORT = 4648
_RPC_PORT = 4647


def _hash(*parts: str) -> str:
    """Nomad stores a blake2b hash of mutable objects, base64-encoded in JSON."""
    return base64.b64encode(
        hashlib.blake2b("\x00".join(parts).encode(), digest_size=32).digest()
    ).decode()


def namespace(
    name: str,
    description: str,
    *,
    create_index: int,
    modify_index: int,
    meta: dict[str, str] | None = None,
    quota: str = "",
) -> Json:
    return {
        "Name": name,
        "Description": description,
        "Quota": quota,
        "Meta": dict(meta) if meta is not None else None,
        "Capabilities": None,
        "NodePoolConfiguration": {"Default": "default", "Allowed": None, "Denied": None},
        "VaultConfiguration": None,
        "ConsulConfiguration": None,
        "Hash": _hash(name, description, quota),
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
    }


def acl_token(
    *,
    accessor_id: str,
    secret_id: str,
    name: str,
    type_: str,
    policies: list[str] | None,
    create_time_ns: int,
    create_index: int,
    global_: bool = False,
    modify_index: int | None = None,
) -> Json:
    """An ACLToken; management tokens carry no policies (null)."""
    return {
        "AccessorID": accessor_id,
        "SecretID": secret_id,
        "Name": name,
        "Type": type_,
        "Policies": list(policies) if policies else None,
        "Roles": None,
        "Global": global_,
        "Hash": _hash(accessor_id, name, type_, *(policies or [])),
        "CreateTime": rfc3339(create_time_ns),
        "ExpirationTime": None,
        "ExpirationTTL": 0,
        "CreateIndex": create_index,
        "ModifyIndex": modify_index if modify_index is not None else create_index,
    }


def acl_token_stub(token: Json) -> Json:
    """ACLTokenListStub: the token without its secret."""
    return {k: copy.deepcopy(v) for k, v in token.items() if k != "SecretID"}


def _member(name: str, addr: str, region: str, datacenter: str, version: str) -> Json:
    return {
        "Name": f"{name}.{region}",
        "Addr": addr,
        "Port": _SERF_PORT,
        "Tags": {
            "role": "nomad",
            "region": region,
            "dc": datacenter,
            "vsn": "1",
            "mvn": "1",
            "build": version,
            "revision": _REVISION,
            "port": str(_RPC_PORT),
            "rpc_addr": addr,
            "raft_vsn": "3",
            "expect": "3",
            "bootstrap": "0",
            "id": stable_uuid(f"server:{name}"),
        },
        "Status": "alive",
        "ProtocolMin": 1,
        "ProtocolMax": 5,
        "ProtocolCur": 2,
        "DelegateMin": 2,
        "DelegateMax": 5,
        "DelegateCur": 4,
    }


def agent_members(
    *, servers: list[tuple[str, str, int]], region: str, datacenter: str, version: str
) -> Json:
    """GET /v1/agent/members: the server gossip pool. `servers` are (name, addr, serf port)."""
    members = []
    for name, addr, port in servers:
        member = _member(name, addr, region, datacenter, version)
        member["Port"] = port
        members.append(member)
    return {
        "ServerName": servers[0][0] if servers else "",
        "ServerRegion": region,
        "ServerDC": datacenter,
        "Members": members,
    }


def agent_self(
    *,
    node_name: str,
    region: str,
    datacenter: str,
    version: str,
    address: str,
    http_port: int,
    server: bool,
    client: bool,
    node_id: str = "",
    leader_addr: str = "",
    num_allocations: int = 0,
) -> Json:
    """GET /v1/agent/self: lowercase top-level keys; `member` is null on client-only agents."""
    config: Json = {
        "Addresses": {"HTTP": "0.0.0.0", "RPC": "0.0.0.0", "Serf": "0.0.0.0"},
        "AdvertiseAddrs": {
            "HTTP": f"{address}:{http_port}",
            "RPC": f"{address}:{_RPC_PORT}",
            "Serf": f"{address}:{_SERF_PORT}",
        },
        "BindAddr": "0.0.0.0",
        "Client": {"Enabled": client, "NodeClass": "", "Meta": {}, "Servers": None},
        "Datacenter": datacenter,
        "DataDir": "/opt/nomad/data",
        "DevMode": False,
        "LogLevel": "INFO",
        "NodeName": node_name,
        "Ports": {"HTTP": http_port, "RPC": _RPC_PORT, "Serf": _SERF_PORT},
        "Region": region,
        # Pre-0.7 agents sent these flat; modern ones only the Version object below.
        "Revision": _REVISION,
        "VersionPrerelease": "",
        "Server": {"BootstrapExpect": 3 if server else 0, "Enabled": server},
        "TLSConfig": {
            "CAFile": "",
            "CertFile": "",
            "EnableHTTP": False,
            "EnableRPC": False,
            "KeyFile": "",
            "VerifyHTTPSClient": False,
            "VerifyServerHostname": False,
        },
        "ACL": {"Enabled": True, "PolicyTTL": 30_000_000_000, "TokenTTL": 30_000_000_000},
        "Version": {
            "Revision": _REVISION,
            "Version": version,
            "VersionMetadata": "",
            "VersionPrerelease": "",
        },
    }
    stats: Json = {
        "runtime": {
            "arch": "amd64",
            "cpu_count": "4",
            "goroutines": "187",
            "kernel.name": "linux",
            "max_procs": "4",
            "version": "go1.22.12",
        }
    }
    if server:
        stats["nomad"] = {
            "server": "true",
            "leader": "true" if leader_addr == f"{address}:{_RPC_PORT}" else "false",
            "leader_addr": leader_addr,
            "bootstrap": "false",
            "known_regions": "1",
        }
        stats["raft"] = {
            "applied_index": "1",
            "commit_index": "1",
            "fsm_pending": "0",
            "last_contact": "0",
            "last_log_index": "1",
            "last_log_term": "2",
            "last_snapshot_index": "0",
            "last_snapshot_term": "0",
            "latest_configuration": f"[{{Suffrage:Voter ID:{address}:{_RPC_PORT} "
            f"Address:{address}:{_RPC_PORT}}}]",
            "latest_configuration_index": "0",
            "num_peers": "2",
            "protocol_version": "3",
            "protocol_version_max": "3",
            "protocol_version_min": "0",
            "snapshot_version_max": "1",
            "snapshot_version_min": "0",
            "state": "Leader" if leader_addr == f"{address}:{_RPC_PORT}" else "Follower",
            "term": "2",
        }
        stats["serf"] = {
            "coordinate_resets": "0",
            "encrypted": "false",
            "event_queue": "0",
            "event_time": "1",
            "failed": "0",
            "health_score": "0",
            "intent_queue": "0",
            "left": "0",
            "member_time": "3",
            "members": "3",
            "query_queue": "0",
            "query_time": "1",
        }
    if client:
        stats["client"] = {
            "heartbeat_ttl": "17.79568937s",
            "known_servers": leader_addr or f"{address}:{_RPC_PORT}",
            "last_heartbeat": "10.107423052s",
            "node_id": node_id,
            "num_allocations": str(num_allocations),
        }
    return {
        "config": config,
        "member": _member(node_name, address, region, datacenter, version) if server else None,
        "stats": stats,
    }


def agent_health(*, server: bool = True, client: bool = True) -> Json:
    """GET /v1/agent/health; a role the agent does not run is omitted."""
    out: Json = {}
    if client:
        out["client"] = {"message": "ok", "ok": True}
    if server:
        out["server"] = {"message": "ok", "ok": True}
    return out


def fuzzy_search_response(
    matches: Mapping[str, list[Json]], truncations: Mapping[str, bool], index: int
) -> Json:
    """POST /v1/search/fuzzy: Matches context -> [{ID, Scope}]."""
    return {
        "Index": index,
        "KnownLeader": True,
        "LastContact": 0,
        "Matches": {ctx: copy.deepcopy(hits) for ctx, hits in matches.items()},
        "Truncations": dict(truncations),
    }


def prefix_search_response(
    matches: Mapping[str, list[str] | None], truncations: Mapping[str, bool], index: int
) -> Json:
    """POST /v1/search: Matches context -> [id] (null for an empty context). Truncations
    are JSON booleans (map[Context]bool); the docs' quoted "false" is a docs artifact."""
    return {
        "Index": index,
        "KnownLeader": True,
        "LastContact": 0,
        "Matches": {k: list(v) if v else None for k, v in matches.items()},
        "Truncations": dict(truncations),
    }
