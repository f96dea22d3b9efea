"""The sim's in-memory cluster state: API-shaped JSON plus raft-style indexes.

Everything is stored as the JSON the real API would return (PascalCase dicts), never as
nomtui models, so a parsing bug in nomtui cannot hide behind a shared type. Every write
goes through `State.write()`, which bumps the index, stamps the touched tables, appends one
event batch to the event buffer and wakes blocking queries and event streams.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from nomtui.sim.clock import Clock
from nomtui.sim.ids import IdSource

Json = dict[str, Any]

# Tables whose index drives X-Nomad-Index / X-Consul-Index for list endpoints.
TABLES = (
    "jobs",
    "job_summary",
    "job_version",
    "allocs",
    "nodes",
    "deployment",
    "evals",
    "namespaces",
    "acl_token",
    "services",
    "consul_catalog",
    "consul_health",
)

EVENT_BUFFER_BATCHES = 4096


@dataclass
class Txn:
    """One write: a single index shared by every object and event it touches."""

    index: int
    now_ns: int
    quiet: bool = False
    """Seeding writes skip the event stream: the buffer starts empty, as after a restart."""
    tables: set[str] = field(default_factory=set)
    events: list[Json] = field(default_factory=list)

    def touch(self, *tables: str) -> None:
        self.tables.update(tables)

    def event(
        self,
        topic: str,
        type_: str,
        key: str,
        namespace: str,
        payload: Json,
        filter_keys: list[str] | None = None,
    ) -> None:
        if self.quiet:
            return
        self.events.append(
            {
                "Topic": topic,
                "Type": type_,
                "Key": key,
                "Namespace": namespace,
                "FilterKeys": filter_keys,
                "Index": self.index,
                "Payload": payload,
            }
        )


class State:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids
        self.index = 1
        self.table_index: dict[str, int] = dict.fromkeys(TABLES, 1)
        # (namespace, job id) -> current full Job
        self.jobs: dict[tuple[str, str], Json] = {}
        # (namespace, job id) -> every version, newest first
        self.job_versions: dict[tuple[str, str], list[Json]] = {}
        # (namespace, job id, version) -> submission source
        self.submissions: dict[tuple[str, str, int], Json] = {}
        # alloc id -> full Allocation, without the embedded Job (added at read time)
        self.allocs: dict[str, Json] = {}
        self.nodes: dict[str, Json] = {}
        self.deployments: dict[str, Json] = {}
        self.evals: dict[str, Json] = {}
        self.namespaces: dict[str, Json] = {}
        # Consul: service id -> catalog registration; check id -> health check
        self.consul_services: dict[str, Json] = {}
        self.consul_checks: dict[str, Json] = {}
        self.consul_nodes: dict[str, Json] = {}
        # alloc id -> status of its `alive` check ("passing", "warning", "critical"); the
        # lifecycle decides it, Consul registrations and deployment health follow it
        self.alloc_health: dict[str, str] = {}
        # bounded event buffer of {"Index": n, "Events": [...]}
        self.event_batches: collections.deque[Json] = collections.deque(maxlen=EVENT_BUFFER_BATCHES)
        self._changed: asyncio.Event | None = None

    # -- writes -----------------------------------------------------------------------

    @contextmanager
    def write(self, *, quiet: bool = False) -> Iterator[Txn]:
        self.index += 1
        txn = Txn(index=self.index, now_ns=self.clock.now_ns(), quiet=quiet)
        yield txn
        if not txn.tables and not txn.events:
            # nothing changed: give the index back so idle ticks leave no trace
            if self.index == txn.index:
                self.index -= 1
            return
        for table in txn.tables:
            self.table_index[table] = txn.index
        if txn.events:
            self.event_batches.append({"Index": txn.index, "Events": txn.events})
        self.notify()

    def notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    # -- reads ------------------------------------------------------------------------

    def max_index(self, *tables: str) -> int:
        return max(self.table_index[t] for t in tables)

    async def wait_change(self, timeout: float) -> bool:
        """Sleep until the next write or `timeout`; True when woken by a write."""
        if self._changed is None:
            self._changed = asyncio.Event()
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def job(self, namespace: str, job_id: str) -> Json | None:
        return self.jobs.get((namespace, job_id))

    def allocs_of_job(self, namespace: str, job_id: str) -> list[Json]:
        return [
            a for a in self.allocs.values() if a["JobID"] == job_id and a["Namespace"] == namespace
        ]

    def allocs_of_node(self, node_id: str) -> list[Json]:
        return [a for a in self.allocs.values() if a["NodeID"] == node_id]

    def job_version(self, namespace: str, job_id: str, version: int) -> Json | None:
        for job in self.job_versions.get((namespace, job_id), []):
            if job["Version"] == version:
                return job
        return None
