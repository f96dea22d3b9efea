"""`nomtui overview`: a node at a glance, as the Internet Archive's `nom` showed it.

`nom` ran `d` (the containers), `nomad server members` and `nomad status` one after the
other. The same three sections here, as data: the containers from the local Docker
engine (or why there are none), the servers of the gossip pool with the leader of each
region marked the way `nomad server members` decides it (the member's address and RPC
port equal the region's `/v1/status/leader`), and the job list of `nomad status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec

from nomtui.actions.containers import ContainerRow
from nomtui.errors import NomtuiError

if TYPE_CHECKING:
    from nomtui.client.nomad import NomadClient
    from nomtui.models.cluster import AgentMember
    from nomtui.models.jobs import JobStub


class MemberRow(msgspec.Struct, kw_only=True):
    name: str
    address: str
    port: int
    status: str
    leader: bool
    raft_version: str
    build: str
    datacenter: str
    region: str


class JobRow(msgspec.Struct, kw_only=True):
    id: str
    namespace: str
    type: str
    priority: int
    status: str
    submit_time: int
    """Unix nanoseconds."""


class Overview(msgspec.Struct, kw_only=True):
    docker: str
    """The engine's address (DOCKER_HOST, or the default socket)."""
    docker_error: str | None
    """Why no containers are listed (no engine there); None when the engine answered."""
    containers: list[ContainerRow]
    members: list[MemberRow]
    jobs: list[JobRow]


def _rpc_addr(member: AgentMember) -> str:
    host = f"[{member.Addr}]" if ":" in member.Addr else member.Addr
    return f"{host}:{member.tag('port')}"


def member_rows(members: Sequence[AgentMember], leaders: Mapping[str, str]) -> list[MemberRow]:
    """`nomad server members` rows; `leaders`: region -> the leader's RPC address."""
    rows = [
        MemberRow(
            name=m.Name,
            address=m.Addr,
            port=m.Port,
            status=m.Status,
            leader=bool(leaders.get(m.tag("region"))) and leaders[m.tag("region")] == _rpc_addr(m),
            raft_version=m.tag("raft_vsn"),
            build=m.tag("build"),
            datacenter=m.tag("dc"),
            region=m.tag("region"),
        )
        for m in members
    ]
    return sorted(rows, key=lambda r: (r.region, r.name))


def job_rows(jobs: Sequence[JobStub]) -> list[JobRow]:
    """`nomad status` rows (a stopped job reads `dead (stopped)`, as there)."""
    return [
        JobRow(
            id=j.ID,
            namespace=j.Namespace,
            type=j.kind,
            priority=j.Priority,
            status=f"{j.Status} (stopped)" if j.Stop else j.Status,
            submit_time=j.SubmitTime,
        )
        for j in jobs
    ]


async def region_leaders(nomad: NomadClient, regions: Sequence[str]) -> dict[str, str]:
    """The leader's RPC address of each region; a region that does not answer has none
    (its servers then show no leader, as the nomad CLI shows them)."""

    async def one(region: str) -> tuple[str, str]:
        try:
            leader, _ = await nomad.http.get("/v1/status/leader", str, {"region": region})
        except NomtuiError:
            return region, ""
        return region, str(leader)

    return dict(await asyncio.gather(*(one(r) for r in dict.fromkeys(regions))))


async def cluster_sections(
    nomad: NomadClient, namespace: str
) -> tuple[list[MemberRow], list[JobRow]]:
    """The servers and the jobs. Raises the Nomad client's errors."""
    members, jobs = await asyncio.gather(nomad.agent_members(), nomad.list_jobs(namespace))
    found = members.Members or []
    leaders = await region_leaders(nomad, [m.tag("region") for m in found])
    return member_rows(found, leaders), job_rows(jobs)


__all__ = [
    "JobRow",
    "MemberRow",
    "Overview",
    "cluster_sections",
    "job_rows",
    "member_rows",
    "region_leaders",
]
