"""`NomadClient`: typed access to the Nomad HTTP API.

It grows by area: each area (jobs, allocations, nodes, ...) gets its own module of
request functions over `HttpClient` once it is more than a few lines, and `NomadClient`
keeps thin methods that call them, so callers hold one object per cluster.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from types import TracebackType

import msgspec

from nomtui.client.blocking import Retrying, Snapshot
from nomtui.client.http import HttpClient, Secret
from nomtui.errors import BadResponse
from nomtui.models.cluster import AgentSelf
from nomtui.models.jobs import JobStub

DEFAULT_ADDRESS = "http://127.0.0.1:4646"

JobsWatch = AsyncIterator[Snapshot[list[JobStub]] | Retrying]


class NomadClient:
    """One Nomad cluster. Use as `async with NomadClient(addr, token) as nomad:`."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        token: str | Secret | None = None,
        *,
        region: str | None = None,
        namespace: str | None = None,
        verify: ssl.SSLContext | bool = True,
        http: HttpClient | None = None,
    ) -> None:
        self.http = http or HttpClient(
            address, token, region=region, namespace=namespace, verify=verify
        )

    @property
    def address(self) -> str:
        return self.http.address

    def __repr__(self) -> str:
        return f"NomadClient({self.http!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> NomadClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- status / agent -------------------------------------------------------------------

    async def leader(self) -> str:
        """`host:port` of the Raft leader's RPC address; "" when there is none."""
        body, _ = await self.http.get("/v1/status/leader", str)
        return body

    async def agent_self(self) -> AgentSelf:
        body, _ = await self.http.get("/v1/agent/self", AgentSelf)
        return body

    # -- jobs -----------------------------------------------------------------------------

    async def list_jobs(self, namespace: str = "*") -> list[JobStub]:
        """Job stubs of `namespace` (`*`: every namespace the token may read)."""
        body, _ = await self.http.get("/v1/jobs", list[JobStub], {"namespace": namespace})
        return _sorted_jobs(body)

    async def watch_jobs(
        self, namespace: str = "*", *, wait_s: float = 60.0, min_interval_s: float = 0.5
    ) -> JobsWatch:
        """Job lists as they change, from blocking queries; `Retrying` while it cannot.

        Lists are sorted by (namespace, ID), as the Go client sorts them.
        """
        watch = self.http.watch(
            "/v1/jobs",
            list[JobStub],
            {"namespace": namespace},
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )
        async for update in watch:
            if isinstance(update, Snapshot):
                yield Snapshot(_sorted_jobs(update.value), update.index)
            else:
                yield update


def _sorted_jobs(jobs: list[JobStub]) -> list[JobStub]:
    return sorted(jobs, key=lambda j: (j.Namespace, j.ID))


def decode_jobs(raw: bytes, address: str = DEFAULT_ADDRESS) -> list[JobStub]:
    """Decode a `/v1/jobs` body (for fixtures and tools that already hold the bytes)."""
    try:
        return msgspec.json.decode(raw, type=list[JobStub])
    except msgspec.DecodeError as exc:
        raise BadResponse(address, "/v1/jobs", str(exc)) from None


__all__ = ["DEFAULT_ADDRESS", "JobsWatch", "NomadClient", "decode_jobs"]
