"""Wake-ups for the reads that have no blocking query, given by what the watches see.

The cluster header shows the agent (region, version), the caller's token and the
leader, and Consul's leader. None of them has a blocking query; polling them would be
the only requests an idle nomtui makes. So they are read once, then again only when
the blocking watches give a reason:

- a watch answers again after an outage (a reconnect): the cluster may have restarted,
  been upgraded or re-elected, so everything is read again;
- an answer's leader headers turn (`QueryMeta.leader_ok`), or an outage comes with a
  500 (how Nomad answers "No cluster leader"; errors are classified by status code,
  never by their text): the leader is read again;
- the user switches namespace (`Store.refresh_cluster_info`): everything again.

An outage is the store's, not one watch's: it starts with the first watch that fails in
a way retrying may fix (`transient`: unreachable, a 5xx; a 404 or a 403 is an answer)
and ends with the first that answers again, so however many watches fail and recover
(each after its own backoff) it costs one read at each end. A `Trigger` coalesces
what is asked while its reader is busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from nomtui.client.blocking import QueryMeta
from nomtui.errors import HttpStatusError, NomtuiError
from nomtui.store.watches import SourceState

AGENT = "agent"
TOKEN = "token"
LEADER = "leader"
EVERYTHING = frozenset({AGENT, TOKEN, LEADER})

Observer = Callable[[SourceState, SourceState], None]
"""Called by a source with its state before and after each event of its watch."""


class Trigger:
    """What a reader was asked to read again, and an event that says there is some."""

    def __init__(self) -> None:
        self._wanted: set[str] = set()
        self._event = asyncio.Event()
        self.fired = 0
        """How often `fire` was called (tests and diagnostics)."""

    def fire(self, parts: Iterable[str]) -> None:
        self.fired += 1
        self._wanted.update(parts)
        if self._wanted:
            self._event.set()

    def clear(self) -> None:
        """Forget what was asked so far (a reader that is about to read everything)."""
        self._wanted.clear()
        self._event.clear()

    async def wait(self, timeout_s: float | None = None) -> frozenset[str]:
        """What was asked for since the last call; empty when `timeout_s` passed first."""
        try:
            # asyncio.timeout, not wait_for: see `run_view` on 3.11's wait_for.
            async with asyncio.timeout(timeout_s):
                await self._event.wait()
        except TimeoutError:
            pass
        self._event.clear()
        wanted, self._wanted = frozenset(self._wanted), set()
        return wanted


def _leader_turned(before: QueryMeta | None, after: QueryMeta | None) -> bool:
    return before is not None and after is not None and before.leader_ok != after.leader_ok


def _server_failure(error: NomtuiError | None) -> bool:
    return isinstance(error, HttpStatusError) and error.status == 500


class Outages:
    """Watches one service's outages through its watches, and fires `trigger`: with
    `on_recovery` when one ends, with the leader on leader hints (`leader_hints`)."""

    def __init__(self, trigger: Trigger, on_recovery: Iterable[str], *, leader_hints: bool) -> None:
        self.trigger = trigger
        self.on_recovery = frozenset(on_recovery)
        self.leader_hints = leader_hints
        self.ongoing = False
        self._leader_asked = False

    def observe(self, before: SourceState, after: SourceState) -> None:
        """An `Observer`: `before` and `after` are one watch's states around an event."""
        if after.error is None:
            recovered = before.error is not None and before.error.transient
            if recovered and self.ongoing:
                self.ongoing = self._leader_asked = False
                self.trigger.fire(self.on_recovery)
            elif self.leader_hints and _leader_turned(before.meta, after.meta):
                self.trigger.fire({LEADER})
            return
        if not after.error.transient:
            return  # the cluster answered: no outage
        self.ongoing = True
        if self.leader_hints and not self._leader_asked and _server_failure(after.error):
            self._leader_asked = True
            self.trigger.fire({LEADER})


class Signals:
    """One store's triggers, and the outage trackers of its Nomad and Consul watches."""

    def __init__(self) -> None:
        self.nomad = Trigger()
        """Leader, agent and token (`info.watch_cluster_info`)."""
        self.consul = Trigger()
        """Consul's leader (`info.watch_consul_leader`)."""
        self.nomad_watches = Outages(self.nomad, EVERYTHING, leader_hints=True)
        self.consul_watches = Outages(self.consul, {LEADER}, leader_hints=False)


__all__ = [
    "AGENT",
    "EVERYTHING",
    "LEADER",
    "TOKEN",
    "Observer",
    "Outages",
    "Signals",
    "Trigger",
]
