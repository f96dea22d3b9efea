"""The cluster itself: namespaces, regions, Raft status, the agent, the caller's token, search."""

from __future__ import annotations

from nomtui.client.base import DEFAULT_MIN_INTERVAL_S, DEFAULT_WAIT_S, NomadBase, Watch
from nomtui.models.cluster import (
    AclToken,
    AgentHealth,
    AgentMembers,
    AgentSelf,
    FuzzySearchResponse,
    Namespace,
    SearchResponse,
)

# The agent answers an unhealthy /v1/agent/health with 500 and the same JSON body.
_HEALTH_STATUS_WITH_BODY = (500,)


class ClusterApi(NomadBase):
    async def list_namespaces(self) -> list[Namespace]:
        return await self._get("/v1/namespaces", list[Namespace])

    async def regions(self) -> list[str]:
        return await self._get("/v1/regions", list[str])

    async def leader(self) -> str:
        """`host:port` of the Raft leader's RPC address; "" while there is none."""
        return await self._get("/v1/status/leader", str)

    async def peers(self) -> list[str]:
        """RPC addresses of the region's Raft peers (the servers)."""
        return await self._get("/v1/status/peers", list[str])

    async def agent_self(self) -> AgentSelf:
        return await self._get("/v1/agent/self", AgentSelf)

    async def agent_members(self) -> AgentMembers:
        return await self._get("/v1/agent/members", AgentMembers)

    async def agent_health(self) -> AgentHealth:
        """The answering agent's health; an unhealthy agent's answer (500 with the same
        JSON body) is returned too, so a header can show the agent's own message."""
        resp = await self.http.request("GET", "/v1/agent/health", allow=_HEALTH_STATUS_WITH_BODY)
        health: AgentHealth = self.http.decode(resp.content, AgentHealth, "/v1/agent/health")
        return health

    async def token_self(self) -> AclToken:
        """The caller's own token (name, type, policies); its SecretID never shows in a repr."""
        return await self._get("/v1/acl/token/self", AclToken)

    async def fuzzy_search(
        self, text: str, context: str = "all", namespace: str = "*"
    ) -> FuzzySearchResponse:
        """Substring search over job, group, task, service, node and allocation names.

        A read, though sent with PUT as the API wants: allowed on read-only clusters.
        """
        return await self.http.send(
            "PUT",
            "/v1/search/fuzzy",
            FuzzySearchResponse,
            {"Text": text, "Context": context},
            {"namespace": namespace},
        )

    async def prefix_search(
        self, prefix: str, context: str, namespace: str = "*"
    ) -> SearchResponse:
        """IDs starting with `prefix` in `context` (`jobs`, `allocs`, `nodes`, `evals`,
        `deployment`, `namespaces` or `all`); a read sent with PUT, like `fuzzy_search`."""
        return await self.http.send(
            "PUT",
            "/v1/search",
            SearchResponse,
            {"Prefix": prefix, "Context": context},
            {"namespace": namespace},
        )

    def watch_namespaces(
        self,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[Namespace]]:
        return self._watch(
            "/v1/namespaces",
            list[Namespace],
            None,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )


__all__ = ["ClusterApi"]
