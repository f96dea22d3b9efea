"""Node reads, watches and writes (`/v1/nodes`, `/v1/node/:id/...`, `/v1/client/stats`).

Node endpoints are answered by the servers; host stats come from the client agent of
the node, asked through a server with `node_id` (PROTOCOLS.md §7, §8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nomtui.client.base import (
    DEFAULT_MIN_INTERVAL_S,
    DEFAULT_WAIT_S,
    NomadBase,
    Watch,
    by_create_index,
    drop_none,
    flag,
    seg,
)
from nomtui.models.allocs import Allocation
from nomtui.models.nodes import Node, NodeStub, NodeUpdateResponse
from nomtui.models.stats import NodeStats

NS_PER_S = 1_000_000_000


def sorted_nodes(nodes: list[NodeStub]) -> list[NodeStub]:
    """By name, then ID: how people find a node; the server orders by ID."""
    return sorted(nodes, key=lambda n: (n.Name, n.ID))


class NodesApi(NomadBase):
    # -- reads ----------------------------------------------------------------------------

    async def list_nodes(
        self,
        prefix: str | None = None,
        resources: bool = False,
        filter: str | None = None,  # the API's own parameter name
        *,
        per_page: int | None = None,
    ) -> list[NodeStub]:
        """Node stubs by name; `resources` adds NodeResources/ReservedResources."""
        params = drop_none(
            {
                "prefix": prefix,
                "resources": flag(resources) if resources else None,
                "filter": filter,
            }
        )
        return sorted_nodes(await self._list("/v1/nodes", NodeStub, params, per_page))

    async def get_node(self, node_id: str) -> Node:
        return await self._get(f"/v1/node/{seg(node_id)}", Node)

    async def node_allocations(self, node_id: str) -> list[Allocation]:
        """Full allocations (each with its `Job`) placed on the node, newest first."""
        path = f"/v1/node/{seg(node_id)}/allocations"
        return by_create_index(await self._get(path, list[Allocation]))

    async def node_stats(self, node_id: str) -> NodeStats:
        """Host CPU, memory and disk of the node now (poll it; not a blocking query)."""
        return await self._get("/v1/client/stats", NodeStats, {"node_id": node_id})

    # -- watches ----------------------------------------------------------------------------

    def watch_nodes(
        self,
        *,
        resources: bool = False,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[NodeStub]]:
        return self._watch_map(
            "/v1/nodes",
            list[NodeStub],
            {"resources": flag(resources)} if resources else None,
            sorted_nodes,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_node(
        self,
        node_id: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[Node]:
        return self._watch(
            f"/v1/node/{seg(node_id)}", Node, None, wait_s=wait_s, min_interval_s=min_interval_s
        )

    def watch_node_allocations(
        self,
        node_id: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[Allocation]]:
        return self._watch_map(
            f"/v1/node/{seg(node_id)}/allocations",
            list[Allocation],
            None,
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    # -- writes -----------------------------------------------------------------------------

    async def drain_node(
        self,
        node_id: str,
        deadline_s: float | None,
        ignore_system_jobs: bool = False,
        mark_eligible: bool = False,
        meta: Mapping[str, str] | None = None,
    ) -> NodeUpdateResponse:
        """Start draining the node, or cancel a drain with `deadline_s=None`.

        `deadline_s`: how long allocations may take to move before they are stopped;
        0 means no deadline, a negative value forces the drain now (Nomad's -1).
        `mark_eligible` only matters when cancelling: the node takes work again.
        """
        spec: dict[str, Any] | None = None
        if deadline_s is not None:
            deadline_ns = -1 if deadline_s < 0 else round(deadline_s * NS_PER_S)
            spec = {"Deadline": deadline_ns, "IgnoreSystemJobs": ignore_system_jobs}
        body: dict[str, Any] = {
            "NodeID": node_id,
            "DrainSpec": spec,
            "MarkEligible": mark_eligible,
            "Meta": dict(meta) if meta else None,
        }
        action = f"{'cancel the drain of' if spec is None else 'drain'} node {node_id[:8]}"
        return await self._write(
            action, "PUT", f"/v1/node/{seg(node_id)}/drain", NodeUpdateResponse, body
        )

    async def set_eligibility(self, node_id: str, eligible: bool) -> NodeUpdateResponse:
        """Let the scheduler place work on the node, or stop it (running work stays)."""
        value = "eligible" if eligible else "ineligible"
        return await self._write(
            f"mark node {node_id[:8]} {value}",
            "PUT",
            f"/v1/node/{seg(node_id)}/eligibility",
            NodeUpdateResponse,
            {"NodeID": node_id, "Eligibility": value},
        )


__all__ = ["NodesApi", "sorted_nodes"]
