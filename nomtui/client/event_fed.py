"""Big lists kept current from the event stream instead of re-reading them whole.

A blocking query on `/v1/allocations` answers every change with the whole list: 14 MB
for 10,000 allocations with task states. A cluster where a few allocations change every
second makes each watcher download and decode that many times a minute. Here the list is
read once; then Nomad's event stream names what changed, and only those items are read
again, from the same endpoint with the same parameters plus
`filter=ID == "..." or ID == "..."`. Each item so keeps exactly the list's shape (job
version, task states or not, resources); event payloads could not give it, since the
stream strips job information from allocations (PROTOCOLS.md §4).

Three things an event stream alone would miss:
- deletions: garbage-collected allocations and jobs leave without an event. A blocking
  query of the same list with a filter that matches nothing (an empty answer, but the
  list's index) parks beside the stream; when that index passes the events' and they do
  not catch up within a second, the whole list is read again. A deletion followed at
  once by another change hides from that probe, so while the list changes it is also
  read whole every `resync_s`;
- a resumed stream may have skipped events (the server's buffer is bounded): after every
  reconnect the whole list is read again, and until then the watch says it is retrying;
- an agent without the stream (Nomad < 1.0: 404) or a token it refuses (403): the watch
  becomes the plain blocking query of the same list.

An agent that ignores `filter=` (Nomad < 1.1) answers an item read with the whole list;
that answer is taken as a fresh whole list, so the view stays right, only dearer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from nomtui.client.allocs import bexpr_string
from nomtui.client.blocking import (
    Backoff,
    BlockingIndex,
    QueryMeta,
    RateLimiter,
    Retrying,
    Snapshot,
    blocking_timeout,
    go_duration,
)
from nomtui.client.events import EventStream
from nomtui.client.http import HttpClient
from nomtui.client.link import LinkState, LinkStatus
from nomtui.errors import ConfigError, NomtuiError
from nomtui.models.events import Event, EventBatch

log = logging.getLogger(__name__)

RESYNC_S = 300.0
"""While the list keeps changing, read it whole at least this often: a deletion the probe
missed (see `probe`) lingers no longer than this."""
PROBE_GRACE_S = 1.0
"""How long the events may trail the probe's index before a whole read is due."""
SETTLE_S = 0.02
"""Events arriving this close together are read back in one request."""
CHUNK = 50
"""Items per read: keeps the `filter=` (and the URL) short."""

Key = tuple[str, str]
"""(namespace, ID): job IDs repeat across namespaces."""


class Keyed(Protocol):
    @property
    def ID(self) -> str: ...

    @property
    def Namespace(self) -> str: ...


K = TypeVar("K", bound=Keyed)
Watch = AsyncGenerator[Snapshot[list[K]] | Retrying, None]


def key_of(item: Keyed) -> Key:
    return (item.Namespace or "default", item.ID)


def ids_filter(ids: Iterable[str], base: str | None) -> str:
    """`ID == ... or ...`, AND-ed with the list's own filter when it has one."""
    either = " or ".join(f"ID == {bexpr_string(i)}" for i in sorted(ids))
    return f"({base}) and ({either})" if base else either


@dataclass(frozen=True)
class FedList(Generic[K]):
    """What to keep: one list endpoint and which events touch which of its items."""

    path: str
    item: type[K]
    params: Mapping[str, str]
    """The list's query (namespace, task_states, resources, filter...)."""
    topics: Sequence[str]
    keys_of: Callable[[Event], Iterable[Key]]
    order: Callable[[list[K]], list[K]]
    related: Callable[[K], Iterable[Key]] = field(default=lambda _: ())
    """Items to read again with this one (a periodic job's parent, whose summary counts
    its children but has no event of its own)."""


@dataclass(frozen=True)
class Moved:
    """The probe's answer: the list's index is now `index`."""

    index: int


Inbox = EventBatch | LinkStatus | NomtuiError | Moved | Retrying
"""What the stream (batches, its link, its fatal error) and the probe (moves, failures)
tell the watch."""


class _Fed(Generic[K]):
    def __init__(
        self,
        http: HttpClient,
        spec: FedList[K],
        backoff: Backoff,
    ) -> None:
        self.http = http
        self.spec = spec
        self.backoff = backoff
        self.table: dict[Key, K] = {}
        self.index = 0
        self.meta: QueryMeta | None = None
        self.full_at = 0.0
        self.dirty = False
        """Changed since the last whole list: a resync is due after `resync_s`."""
        self.whole_index = 0
        """The index of the last whole read."""
        self.inbox: asyncio.Queue[Inbox] = asyncio.Queue()
        self._prefix = http.index_header.removesuffix("Index")
        self._list_type: Any = list[spec.item]  # type: ignore[name-defined]

    # -- reads ------------------------------------------------------------------------------

    async def _read(self, params: Mapping[str, str]) -> list[K]:
        resp = await self.http.request("GET", self.spec.path, dict(params), retry=False)
        items: list[K] = self.http.decode(resp.content, self._list_type, self.spec.path)
        self.index = max(self.index, self.http.index_of(resp, self.spec.path))
        self.meta = QueryMeta.from_headers(resp.headers, self._prefix) or self.meta
        return items

    async def read_all(self) -> None:
        items = await self._read(self.spec.params)
        self._replace(items)

    def _replace(self, items: list[K]) -> None:
        self.table = {key_of(i): i for i in items}
        self.full_at = time.monotonic()
        self.whole_index = self.index
        self.dirty = False

    async def read_some(self, keys: set[Key]) -> bool:
        """Read `keys` again (and their related items); True when anything changed."""
        fetched = await self._read_ids(keys)
        if fetched is None:
            return True
        changed = self._merge(keys, fetched)
        related = {k for item in fetched for k in self.spec.related(item)} - keys
        if related:
            more = await self._read_ids(related)
            if more is None:
                return True
            changed |= self._merge(related, more)
        self.dirty = True
        return changed

    async def _read_ids(self, keys: set[Key]) -> list[K] | None:
        """The items of `keys`, or None when the answer was the whole list (then taken
        as such: the agent ignored `filter=`)."""
        fetched: list[K] = []
        ids = sorted({key[1] for key in keys})
        for start in range(0, len(ids), CHUNK):
            chunk = set(ids[start : start + CHUNK])
            params = dict(self.spec.params)
            params["filter"] = ids_filter(chunk, self.spec.params.get("filter"))
            got = await self._read(params)
            if any(item.ID not in chunk for item in got):
                self._replace(got)
                return None
            fetched.extend(got)
        return fetched

    def _merge(self, asked: set[Key], fetched: list[K]) -> bool:
        changed = False
        found: set[Key] = set()
        for item in fetched:
            key = key_of(item)
            found.add(key)
            if self.table.get(key) != item:
                self.table[key] = item
                changed = True
        for key in asked - found:
            # asked and not answered: deleted (purged job, or already collected)
            if self.table.pop(key, None) is not None:
                changed = True
        return changed

    def snapshot(self) -> Snapshot[list[K]]:
        return Snapshot(self.spec.order(list(self.table.values())), self.index, self.meta)

    # -- the stream -------------------------------------------------------------------------

    def on_status(self, status: LinkStatus) -> None:
        self.inbox.put_nowait(status)

    async def pump(self, stream: EventStream) -> None:
        try:
            async for batch in stream:
                self.inbox.put_nowait(batch)
        except NomtuiError as exc:
            self.inbox.put_nowait(exc)

    async def probe(self, wait_s: float, min_interval_s: float) -> None:
        """Park a blocking query of the list that matches nothing: an empty answer each
        time the list's index moves, which tells deletions apart from evented changes."""
        params = dict(self.spec.params)
        params["filter"] = 'ID == ""'
        params["wait"] = go_duration(wait_s)
        index = BlockingIndex()
        index.observe(self.index)
        limiter = RateLimiter(min_interval_s)
        failures = 0
        while True:
            await limiter.acquire()
            params["index"] = str(index.value)
            try:
                resp = await self.http.request(
                    "GET",
                    self.spec.path,
                    params,
                    timeout_s=blocking_timeout(wait_s),
                    retry=False,
                )
            except NomtuiError as exc:
                if isinstance(exc, ConfigError):
                    return  # the list's own reads report it
                # The agent answers nothing but the open stream: the list may be going
                # stale, and whoever shows it should say so.
                failures += 1
                retry = Retrying(exc, self.backoff.delay(failures), failures)
                self.inbox.put_nowait(retry)
                await self.http.recovery.pause(retry.delay_s)
                continue
            before = index.value
            index.observe(self.http.index_of(resp, self.spec.path))
            if index.value > before or failures:
                self.inbox.put_nowait(Moved(index.value))
            failures = 0

    def keys_in(self, batch: EventBatch) -> set[Key]:
        keys: set[Key] = set()
        for event in batch.Events:
            keys.update(self.spec.keys_of(event))
        return keys


async def watch_fed(
    http: HttpClient,
    spec: FedList[K],
    fallback: Callable[[], Watch[K]],
    *,
    wait_s: float = 60.0,
    min_interval_s: float = 0.5,
    resync_s: float = RESYNC_S,
    settle_s: float = SETTLE_S,
    grace_s: float = PROBE_GRACE_S,
    backoff: Backoff | None = None,
) -> Watch[K]:
    """Snapshots of the whole list as it changes, from one read plus the event stream.

    Yields like a blocking watch: a `Snapshot` after each change, a `Retrying` while the
    list cannot be read or the stream is reconnecting (then a `Snapshot` once it is
    back, changed or not). `fallback()` is the plain blocking watch of the same list;
    `wait_s` and `min_interval_s` are the probe's (a blocking query).
    """
    fed = _Fed(http, spec, backoff or Backoff())
    attempt = 0

    def retrying(exc: NomtuiError) -> Retrying:
        nonlocal attempt
        if isinstance(exc, ConfigError):
            raise exc
        attempt += 1
        return Retrying(exc, fed.backoff.delay(attempt), attempt)

    while True:
        try:
            await fed.read_all()
            break
        except NomtuiError as exc:
            retry = retrying(exc)
            yield retry
            await http.recovery.pause(retry.delay_s)
    attempt = 0
    yield fed.snapshot()

    namespace = spec.params.get("namespace", "default")
    stream = EventStream(
        http, topics=spec.topics, namespace=namespace, index=fed.index + 1, on_status=fed.on_status
    )
    tasks = [
        asyncio.create_task(fed.pump(stream), name=f"nomtui events {spec.path}"),
        asyncio.create_task(fed.probe(wait_s, min_interval_s), name=f"nomtui probe {spec.path}"),
    ]
    pending: set[Key] = set()
    whole = False
    """A whole read is due: the stream came back after a drop, a deletion, the resync."""
    lost = False
    suspect: tuple[int, float] | None = None
    """(index, since when): the probe saw an index the events have not reached yet."""
    held: Inbox | None = None
    probe_down = False
    try:
        while True:
            deadlines = []
            if fed.dirty:
                deadlines.append(fed.full_at + resync_s)
            if suspect is not None:
                deadlines.append(suspect[1] + grace_s)
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            got: Inbox | None
            if held is not None:
                got, held = held, None
            else:
                try:
                    async with asyncio.timeout(timeout):
                        got = await fed.inbox.get()
                except TimeoutError:
                    got = None
            if got is None:  # a deadline passed
                now = time.monotonic()
                if suspect is not None and now >= suspect[1] + grace_s:
                    whole = whole or suspect[0] > max(stream.last_index, fed.whole_index)
                    suspect = None
                if fed.dirty and now >= fed.full_at + resync_s:
                    whole = True
            elif isinstance(got, NomtuiError):
                # no stream for us (an old agent, a token without the capability)
                log.info("no event stream for %s (%s): blocking queries", spec.path, got)
                for task in tasks:
                    task.cancel()
                async for update in fallback():
                    yield update
                return
            elif isinstance(got, Retrying):
                probe_down = True
                yield got
            elif isinstance(got, Moved):
                if got.index > max(stream.last_index, fed.whole_index) and suspect is None:
                    suspect = (got.index, time.monotonic())
                if probe_down and not lost:
                    probe_down = False
                    yield fed.snapshot()  # the agent answers again
            elif isinstance(got, LinkStatus):
                if got.state is LinkState.RECONNECTING and got.error is not None:
                    lost = True
                    yield Retrying(got.error, got.delay_s, got.attempt)
                elif got.state is LinkState.CONNECTED and lost:
                    whole, lost = True, False
            else:
                pending |= fed.keys_in(got)
                await asyncio.sleep(settle_s)
                while not fed.inbox.empty():
                    more = fed.inbox.get_nowait()
                    if not isinstance(more, EventBatch):
                        held = more  # handled in its turn, after this read
                        break
                    pending |= fed.keys_in(more)
            while whole or pending:
                try:
                    if whole:
                        await fed.read_all()
                        changed, whole = True, False
                        pending.clear()
                        if suspect is not None and suspect[0] <= fed.whole_index:
                            suspect = None
                    else:
                        changed = await fed.read_some(pending)
                        pending.clear()
                except NomtuiError as exc:
                    retry = retrying(exc)
                    yield retry
                    await http.recovery.pause(retry.delay_s)
                    continue
                if changed or attempt:
                    attempt = 0
                    yield fed.snapshot()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        await stream.aclose()
