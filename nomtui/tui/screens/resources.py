"""Node capacity and allocation sizes for the nodes, node and topology screens.

The store's node and allocation watches list stubs without `resources=true` (the other
screens do not need the extra bytes), so capacity and allocated CPU/memory are read
here, once per thing: an allocation's resources never change after placement (a new
size is a new allocation), and a node's capacity only with its `ModifyIndex`. A fetch is
triggered by the store's watches showing an unknown ID, never by a timer. When the
store's stubs do carry resources, they are used as they are and nothing is fetched.

One cache per store, shared by every screen of that store (`ResourceCache.of(store)`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from nomtui.errors import NomtuiError
from nomtui.models.allocs import AllocStub
from nomtui.models.nodes import NodeReservedResources, NodeResources, NodeStub
from nomtui.models.resources import AllocatedResources
from nomtui.store import Store
from nomtui.tui.widgets.topology import PLACED

PLACED_FILTER = " or ".join(f'ClientStatus == "{status}"' for status in sorted(PLACED))
"""Only allocations holding resources are fetched: terminal ones are most of a list."""


@dataclass(frozen=True)
class _Capacity:
    modify_index: int
    resources: NodeResources | None
    reserved: NodeReservedResources | None


class ResourceCache:
    _by_store: weakref.WeakKeyDictionary[Store, ResourceCache] = weakref.WeakKeyDictionary()

    def __init__(self, store: Store) -> None:
        self._store = store
        self._nodes: dict[str, _Capacity] = {}
        self._allocs: dict[str, AllocatedResources] = {}
        self._lock = asyncio.Lock()
        self.error: NomtuiError | None = None
        """The last fetch failure (retried when the watches next change)."""

    @classmethod
    def of(cls, store: Store) -> ResourceCache:
        cache = cls._by_store.get(store)
        if cache is None:
            cache = cls._by_store[store] = cls(store)
        return cache

    # -- what is missing ------------------------------------------------------------------

    def nodes_missing(self, nodes: Iterable[NodeStub]) -> bool:
        return any(
            n.NodeResources is None
            and (n.ID not in self._nodes or self._nodes[n.ID].modify_index != n.ModifyIndex)
            for n in nodes
        )

    def allocs_missing(self, allocs: Iterable[AllocStub]) -> bool:
        return any(
            a.ClientStatus in PLACED and a.AllocatedResources is None and a.ID not in self._allocs
            for a in allocs
        )

    # -- fetching -----------------------------------------------------------------------------

    async def fill(self, nodes: Iterable[NodeStub], allocs: Iterable[AllocStub]) -> bool:
        """Fetch what `nodes`/`allocs` lack; True when something new was learned."""
        nodes, allocs = list(nodes), list(allocs)
        async with self._lock:  # two screens asking at once make one set of requests
            want_nodes = self.nodes_missing(nodes)
            want_allocs = self.allocs_missing(allocs)
            if not (want_nodes or want_allocs):
                return False
            nomad = self._store.nomad
            try:
                if want_nodes:
                    for node in await nomad.list_nodes(resources=True):
                        self._nodes[node.ID] = _Capacity(
                            node.ModifyIndex, node.NodeResources, node.ReservedResources
                        )
                if want_allocs:
                    fetched = await nomad.list_allocations(
                        "*", task_states=False, resources=True, filter=PLACED_FILTER
                    )
                    live = {a.ID for a in allocs if a.ClientStatus in PLACED}
                    # Forget allocations gone from the cluster, so the cache stays bounded.
                    self._allocs = {k: v for k, v in self._allocs.items() if k in live}
                    for alloc in fetched:
                        # An agent without AllocatedResources (before 0.9): remember it as
                        # empty rather than asking again at every change.
                        self._allocs[alloc.ID] = alloc.AllocatedResources or AllocatedResources()
            except NomtuiError as exc:
                self.error = exc
                return False
            self.error = None
            return True

    # -- applying -----------------------------------------------------------------------------

    def with_capacity(self, nodes: Iterable[NodeStub]) -> list[NodeStub]:
        """`nodes` with the cached resources blocks filled in where the stub has none."""
        out: list[NodeStub] = []
        for node in nodes:
            known = self._nodes.get(node.ID)
            if node.NodeResources is None and known is not None:
                out.append(
                    msgspec.structs.replace(
                        node, NodeResources=known.resources, ReservedResources=known.reserved
                    )
                )
            else:
                out.append(node)
        return out

    def with_resources(self, allocs: Iterable[AllocStub]) -> list[AllocStub]:
        out: list[AllocStub] = []
        for alloc in allocs:
            found = self._allocs.get(alloc.ID)
            if alloc.AllocatedResources is None and found is not None:
                out.append(msgspec.structs.replace(alloc, AllocatedResources=found))
            else:
                out.append(alloc)
        return out


__all__ = ["PLACED_FILTER", "ResourceCache"]
