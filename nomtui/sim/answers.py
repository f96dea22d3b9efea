"""Computed answers kept while the data behind them is unchanged, so the sim stays cheap.

A scale cluster's `/v1/allocations` is 14 MB of JSON. Without these caches every write
(churn makes two a second) would rebuild and re-encode it once for each client parked on
it, and the sim's own CPU would drown whatever a benchmark measures. Two layers:

- `Answers`: a whole encoded answer of a blocking read, keyed by the request (path and
  query, minus `index`/`wait`) and the indexes of the tables it reads. Equal queries
  woken by the same write share one computation. A write to any of the tables moves an
  index and so makes a new key; old keys age out of a small LRU.
- `Fragments`: the encoded JSON of one list item (an allocation stub, a job stub), keyed
  by its ID and a version (its ModifyIndex, or more), so a list answer is re-encoded
  only for the items that changed and the rest is joined from bytes.

Both rely on the sim's invariant that every change goes through `State.write()` and
`emit`, which stamp ModifyIndex and the table indexes.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from nomtui.sim.state import Json, State

# Not part of what a query asks for: they only say how long to wait for it.
BLOCKING_PARAMS = frozenset({"index", "wait", "stale", "consistent"})
MAX_ANSWERS = 8
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class RawJson:
    """A body already encoded as compact JSON (see `encode` in http.py)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def join_array(parts: Iterable[bytes]) -> RawJson:
    """A JSON array from encoded items: what `json.dumps(list)` gives, byte for byte."""
    return RawJson(b"[" + b",".join(parts) + b"]")


@dataclass(frozen=True)
class Answer:
    body: Any
    index: int
    next_token: str | None = None


class Answers:
    """Whole answers of blocking reads, shared by equal queries at equal table indexes."""

    def __init__(self) -> None:
        self._lru: collections.OrderedDict[Hashable, Answer] = collections.OrderedDict()
        self.fragments: collections.defaultdict[Hashable, Fragments] = collections.defaultdict(
            Fragments
        )
        """Per kind of list item ("job_stub", ("alloc_stub", flags...), ...)."""
        self.computed = 0
        self.shared = 0

    @staticmethod
    def key(request: web.Request, state: State, tables: tuple[str, ...]) -> Hashable:
        query = tuple(sorted((k, v) for k, v in request.query.items() if k not in BLOCKING_PARAMS))
        return (request.host, request.path, query, tuple(state.table_index[t] for t in tables))

    def get(self, key: Hashable | None, compute: Callable[[], Answer]) -> Answer:
        if key is not None:
            found = self._lru.get(key)
            if found is not None:
                self._lru.move_to_end(key)
                self.shared += 1
                return found
        answer = compute()
        self.computed += 1
        if key is not None:
            self._lru[key] = answer
            self._trim()
        return answer

    def _trim(self) -> None:
        size = sum(_size(a) for a in self._lru.values())
        while len(self._lru) > MAX_ANSWERS or (size > MAX_ANSWER_BYTES and len(self._lru) > 1):
            _, dropped = self._lru.popitem(last=False)
            size -= _size(dropped)


def _size(answer: Answer) -> int:
    return len(answer.body.data) if isinstance(answer.body, RawJson) else 0


class Fragments:
    """Encoded list items by key, valid while their version is unchanged."""

    def __init__(self) -> None:
        self._items: dict[Hashable, tuple[Hashable, Json, bytes]] = {}

    def get(
        self, key: Hashable, version: Hashable, build: Callable[[], Json]
    ) -> tuple[Json, bytes]:
        found = self._items.get(key)
        if found is not None and found[0] == version:
            return found[1], found[2]
        item = build()
        data = json_bytes(item)
        self._items[key] = (version, item, data)
        return item, data

    def many(self, objs: Iterable[Json], build: Callable[[Json], Json]) -> list[tuple[Json, bytes]]:
        """Items of API objects keyed by their `ID` and versioned by their `ModifyIndex`.

        The hot loop of a 10,000-item list: kept inline, a function call per item costs
        more than the lookup itself."""
        items = self._items
        out = []
        for obj in objs:
            key, version = obj["ID"], obj.get("ModifyIndex")
            found = items.get(key)
            if found is None or found[0] != version:
                item = build(obj)
                found = items[key] = (version, item, json_bytes(item))
            out.append((found[1], found[2]))
        return out
