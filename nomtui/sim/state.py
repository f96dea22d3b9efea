"""The sim's in-memory cluster state: API-shaped JSON plus raft-style indexes.

Everything is stored as the JSON the real API would return (PascalCase dicts), never as
nomtui models, so a parsing bug in nomtui cannot hide behind a shared type. Every write
goes through `State.write()`, which bumps the index, stamps the touched tables, appends one
event batch to the event buffer and wakes blocking queries and event streams.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Collection, Iterable, Iterator
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


class AllocTable(dict[str, Json]):
    """Allocations by ID, indexed by job and by node (an allocation never changes either).

    Scale mode holds ten thousand allocations; without the indexes every "allocations of
    this job" read scans them all. `awake` holds the IDs the lifecycle loop should look
    at: every insert and every `emit.alloc` adds one, the loop drops the settled ones.
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_job: dict[tuple[str, str], dict[str, Json]] = {}
        self.by_node: dict[str, dict[str, Json]] = {}
        self.awake: set[str] = set()
        self.job_index: dict[tuple[str, str], int] = {}
        """(namespace, job ID) -> the newest ModifyIndex among the job's allocations."""
        self._order: dict[str, int] = {}
        self._sorted: list[str] | None = None

    def sorted_by_id(self) -> list[Json]:
        """Every allocation in ID order (a fresh list; the order is cached between inserts)."""
        if self._sorted is None:
            self._sorted = sorted(self)
        return [self[i] for i in self._sorted]

    def changed(self, alloc: Json) -> None:
        """A write changed (and stamped) `alloc`: the lifecycle and the job look again."""
        self.awake.add(alloc["ID"])
        job_key = _keys(alloc)[0]
        self.job_index[job_key] = max(self.job_index.get(job_key, 0), alloc["ModifyIndex"])

    def awake_in_order(self) -> list[Json]:
        """The awake allocations in creation order, as a full scan would visit them."""
        order = self._order
        return [self[i] for i in sorted(self.awake, key=order.__getitem__) if i in self]

    def __setitem__(self, alloc_id: str, alloc: Json) -> None:
        self._order.setdefault(alloc_id, len(self._order))
        if alloc_id not in self:
            self._sorted = None
        old = self.get(alloc_id)
        if old is not None and _keys(old) != _keys(alloc):
            self._unindex(alloc_id, old)
        super().__setitem__(alloc_id, alloc)
        job_key, node_id = _keys(alloc)
        # assigning an existing key keeps its place, so per-job order stays creation order
        self.by_job.setdefault(job_key, {})[alloc_id] = alloc
        self.by_node.setdefault(node_id, {})[alloc_id] = alloc
        self.awake.add(alloc_id)
        index = alloc.get("ModifyIndex") or 0
        self.job_index[job_key] = max(self.job_index.get(job_key, 0), index)

    def __delitem__(self, alloc_id: str) -> None:
        self._unindex(alloc_id, self[alloc_id])
        super().__delitem__(alloc_id)

    def pop(self, alloc_id: str, *default: Any) -> Any:
        if alloc_id in self:
            self._unindex(alloc_id, self[alloc_id])
        return super().pop(alloc_id, *default)

    def _unindex(self, alloc_id: str, alloc: Json) -> None:
        self._sorted = None
        job_key, node_id = _keys(alloc)
        self.by_job.get(job_key, {}).pop(alloc_id, None)
        self.by_node.get(node_id, {}).pop(alloc_id, None)
        self.awake.discard(alloc_id)

    # dict's own bulk mutators bypass __setitem__ and would leave the indexes behind
    def update(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("AllocTable: set allocations one by one")

    def setdefault(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("AllocTable: set allocations one by one")

    def popitem(self) -> tuple[str, Json]:
        raise TypeError("AllocTable: remove allocations by ID")

    def clear(self) -> None:
        super().clear()
        self._order.clear()
        self._sorted = None
        self.job_index.clear()
        self.by_job.clear()
        self.by_node.clear()
        self.awake.clear()


def _keys(alloc: Json) -> tuple[tuple[str, str], str]:
    return (alloc.get("Namespace", "default"), alloc.get("JobID", "")), alloc.get("NodeID", "")


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
        self.allocs = AllocTable()
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
        # table name (None: any write) -> events of the blocking reads waiting on it
        self._waiters: dict[str | None, set[asyncio.Event]] = {}

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
        self.notify(txn.tables)

    def notify(self, tables: Iterable[str] | None = None) -> None:
        """Wake the waiters of `tables` and those of any write; None wakes everyone."""
        keys: list[str | None] = list(self._waiters) if tables is None else [None, *tables]
        for key in keys:
            for event in self._waiters.pop(key, ()):
                event.set()

    # -- reads ------------------------------------------------------------------------

    def max_index(self, *tables: str) -> int:
        return max(self.table_index[t] for t in tables)

    async def wait_change(self, timeout: float, tables: Collection[str] | None = None) -> bool:
        """Sleep until a write touches one of `tables` (None: any write) or `timeout`;
        True when woken by a write. Writes to other tables leave the caller asleep, as
        memdb's watch sets do for a real server's blocking query."""
        event = asyncio.Event()
        keys: Collection[str | None] = (None,) if tables is None else tables
        for key in keys:
            self._waiters.setdefault(key, set()).add(event)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        finally:
            for key in keys:
                waiting = self._waiters.get(key)
                if waiting is not None:
                    waiting.discard(event)
        return True

    def waiting(self) -> int:
        """Blocking reads and streams parked on a write now (each counted once)."""
        return len({id(e) for events in self._waiters.values() for e in events})

    def job(self, namespace: str, job_id: str) -> Json | None:
        return self.jobs.get((namespace, job_id))

    def allocs_of_job(self, namespace: str, job_id: str) -> list[Json]:
        return list(self.allocs.by_job.get((namespace, job_id), {}).values())

    def allocs_of_node(self, node_id: str) -> list[Json]:
        return list(self.allocs.by_node.get(node_id, {}).values())

    def job_version(self, namespace: str, job_id: str, version: int) -> Json | None:
        for job in self.job_versions.get((namespace, job_id), []):
            if job["Version"] == version:
                return job
        return None
