"""The header's reads that have no blocking query, as watches that wait for a reason.

`watch_cluster_info` reads the leader, the agent and the token once, then sleeps on a
`Trigger` (`nomtui.store.signals` says who fires it) and reads again only the parts it
is asked for. `watch_consul_leader` does the same for Consul's leader. Both keep the
watch contract (`Snapshot` when the value changes, `Retrying` while failing,
`ConfigError` raised), so the store runs them like any blocking watch. Neither ever
reads on a timer, except to retry a failed read with backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection
from typing import TYPE_CHECKING, TypeVar

from nomtui.client.blocking import Backoff, Retrying, Snapshot
from nomtui.errors import ConfigError, NomtuiError
from nomtui.models.cluster import AclToken, AgentSelf
from nomtui.store.signals import AGENT, EVERYTHING, LEADER, TOKEN, Trigger
from nomtui.store.views import ClusterInfo
from nomtui.store.watches import SourceWatch

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient

T = TypeVar("T")


async def _optional(read: Awaitable[T]) -> T | None:
    """None when the cluster declines to say: ACLs off (400), a token that may not read
    the agent or itself (403/404). What retrying may fix still fails the read."""
    try:
        return await read
    except ConfigError:
        raise
    except NomtuiError as exc:
        if exc.transient:
            raise
        return None


async def read_cluster_info(
    nomad: NomadClient, parts: Collection[str], previous: ClusterInfo | None
) -> ClusterInfo:
    """`previous` with `parts` read again (all of them when there is no `previous`)."""

    async def leader() -> str:
        if previous is not None and LEADER not in parts:
            return previous.leader
        return await nomad.leader()

    async def agent() -> AgentSelf | None:
        if previous is not None and AGENT not in parts:
            return previous.agent
        return await _optional(nomad.agent_self())

    async def token() -> AclToken | None:
        if previous is not None and TOKEN not in parts:
            return previous.token
        return await _optional(nomad.token_self())

    found_leader, found_agent, found_token = await asyncio.gather(leader(), agent(), token())
    return ClusterInfo(leader=found_leader, agent=found_agent, token=found_token)


async def watch_cluster_info(
    nomad: NomadClient, trigger: Trigger, *, backoff: Backoff | None = None
) -> SourceWatch:
    backoff = backoff or Backoff()
    trigger.clear()  # this first read covers whatever was asked while nobody watched
    parts: set[str] = set(EVERYTHING)
    info: ClusterInfo | None = None
    attempt = 0
    while True:
        failure: NomtuiError | None = None
        try:
            fresh = await read_cluster_info(nomad, parts, info)
        except ConfigError:
            raise
        except NomtuiError as exc:
            failure = exc
        if failure is None:
            if attempt or fresh != info:
                yield Snapshot(fresh, 0)
            info, attempt = fresh, 0
            parts = set(await trigger.wait())
            continue
        attempt += 1
        delay = backoff.delay(attempt)
        yield Retrying(failure, delay, attempt)
        # Again after the backoff, or at once when a watch reconnects; the parts that
        # failed stay wanted.
        parts |= await trigger.wait(delay)


async def watch_consul_leader(consul: ConsulClient, trigger: Trigger) -> SourceWatch:
    """Consul's leader, "" while unknown. It never fails: whether Consul answers is for
    the catalog watch to say (`snapshots.consul_status`)."""
    trigger.clear()
    last: str | None = None
    while True:
        try:
            leader = await consul.leader()
        except ConfigError:
            raise
        except NomtuiError:
            leader = ""
        if leader != last:
            last = leader
            yield Snapshot(leader, 0)
        await trigger.wait()


__all__ = ["read_cluster_info", "watch_cluster_info", "watch_consul_leader"]
