"""Shared, reference-counted watches: channels, subscriptions and the two producers.

Two layers of channels live in one `Hub`:

- a *source* channel runs one client watch (a blocking query, or a read that waits for
  a trigger: `nomtui.store.info`) and publishes a `SourceState`: the last good value
  plus the failure being retried, if any;
- a *view* channel holds several source channels and publishes a `ViewState` built from
  their latest values whenever one of them changes. A view may also hold *optional*
  sources (Consul, for the cluster header): their states, failures included, are data
  for the view's builder, and their outages are not the view's.

A channel keeps only its latest value and a version number. Listeners are
`asyncio.Event`s that a publish sets, so a slow reader never queues anything: it wakes
up, reads the newest value and skips the ones it missed ("latest wins"). A channel's
producer task starts with its first holder and is cancelled when the last one lets go;
views share sources the same way, so the cluster header and the jobs screen both
showing the job list cost one blocking query, not two.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Hashable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, TypeVar

from nomtui.client.blocking import QueryMeta, Retrying, Snapshot
from nomtui.errors import NomtuiError
from nomtui.store.views import Connection, ViewKey, ViewState

log = logging.getLogger(__name__)

V = TypeVar("V")
T = TypeVar("T")

Clock = Callable[[], datetime]
SourceWatch = AsyncGenerator[Snapshot[Any] | Retrying, None]


class Channel(Generic[V]):
    """The latest value of one producer, and who is waiting for the next."""

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.latest: V | None = None
        self.version = 0
        self.refs = 0
        self.closed = False
        self.task: asyncio.Task[None] | None = None
        self._listeners: set[asyncio.Event] = set()

    def publish(self, value: V) -> None:
        self.latest = value
        self.version += 1
        for event in self._listeners:
            event.set()

    def close(self) -> None:
        self.closed = True
        for event in self._listeners:
            event.set()

    def listen(self, event: asyncio.Event) -> None:
        self._listeners.add(event)

    def unlisten(self, event: asyncio.Event) -> None:
        self._listeners.discard(event)


Producer = Callable[[Channel[Any]], Coroutine[Any, Any, None]]


class Hub:
    """Channels by key, each with a producer task that runs while it is held."""

    def __init__(self) -> None:
        self._channels: dict[Hashable, Channel[Any]] = {}
        self.starts: Counter[Hashable] = Counter()
        """How often each key's producer was started (tests check sharing with it)."""
        self.closed = False

    def acquire(self, key: Hashable, producer: Producer) -> Channel[Any]:
        if self.closed:
            raise RuntimeError("the store is closed")
        channel = self._channels.get(key)
        if channel is None:
            channel = Channel[Any](key)
            self._channels[key] = channel
            self.starts[key] += 1
            channel.task = asyncio.create_task(producer(channel), name=f"nomtui-store {key!r}")
        channel.refs += 1
        return channel

    async def release(self, channel: Channel[Any]) -> None:
        """Drop one hold; the last one stops the producer and waits until it has stopped."""
        channel.refs -= 1
        if channel.refs > 0:
            return
        if self._channels.get(channel.key) is channel:
            del self._channels[channel.key]
        task = channel.task
        if task is not None and not task.done():
            task.cancel()
            # asyncio.wait, not await: awaiting a cancelled task raises CancelledError
            # here, which would look as if the caller itself had been cancelled.
            await asyncio.wait([task])

    def get(self, key: Hashable) -> Channel[Any] | None:
        return self._channels.get(key)

    def running(self) -> list[Hashable]:
        """Keys whose producer is running now."""
        return [k for k, c in self._channels.items() if c.task is not None and not c.task.done()]

    async def aclose(self) -> None:
        self.closed = True
        channels = list(self._channels.values())
        self._channels.clear()
        tasks = [c.task for c in channels if c.task is not None and not c.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for channel in channels:
            channel.close()


class Subscription(Generic[T]):
    """An async iterator of a view's states, newest only; also an async context manager.

    The view's watches start at the first `__anext__` (or `async with`) and stop when
    the last subscription of the view is closed, so close it: `async with` does that.
    """

    def __init__(
        self,
        view: ViewKey[T],
        open_: Callable[[], Channel[ViewState[T]]],
        release: Callable[[Channel[Any]], Awaitable[None]],
    ) -> None:
        self.view = view
        self._open = open_
        self._release = release
        self._channel: Channel[ViewState[T]] | None = None
        self._event = asyncio.Event()
        self._seen = 0
        self._done = False

    def _ensure_open(self) -> Channel[ViewState[T]]:
        if self._channel is None:
            self._channel = self._open()
            self._channel.listen(self._event)
        return self._channel

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> ViewState[T]:
        if self._done:
            raise StopAsyncIteration
        channel = self._ensure_open()
        while True:
            self._event.clear()
            if channel.version > self._seen and channel.latest is not None:
                self._seen = channel.version
                return channel.latest
            if channel.closed:
                await self.aclose()
                raise StopAsyncIteration
            await self._event.wait()

    async def aclose(self) -> None:
        if self._done:
            return
        self._done = True
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.unlisten(self._event)
            await self._release(channel)

    async def __aenter__(self) -> Subscription[T]:
        self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# -- source producer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceState:
    """What one watch knows: its last good value and the failure it is retrying."""

    value: Any = None
    has_value: bool = False
    index: int = 0
    error: NomtuiError | None = None
    failing_since: datetime | None = None
    final: bool = False
    """The watch gave up (a `ConfigError`, or a bug); it will not recover by itself."""
    meta: QueryMeta | None = None
    """The leader headers of the last answer (Nomad watches only)."""


async def run_source(
    channel: Channel[SourceState],
    watch: SourceWatch,
    clock: Clock,
    observe: Callable[[SourceState, SourceState], None] | None = None,
) -> None:
    """Publish what `watch` yields; `observe(before, after)` sees every change first."""
    state = SourceState()
    try:
        async with aclosing(watch) as events:
            async for event in events:
                if isinstance(event, Snapshot):
                    new = SourceState(event.value, True, event.index, meta=event.meta)
                else:
                    since = state.failing_since or clock()
                    new = replace(state, error=event.error, failing_since=since)
                if observe is not None:
                    observe(state, new)
                state = new
                channel.publish(state)
    except NomtuiError as exc:  # the watch raises only what retrying cannot fix
        failure: NomtuiError = exc
    except Exception as exc:
        log.exception("watch %r failed", channel.key)
        failure = NomtuiError(f"nomtui stopped watching {channel.key!r} after a bug: {exc!r}.")
    else:
        return
    channel.publish(
        replace(state, error=failure, failing_since=state.failing_since or clock(), final=True)
    )


# -- view producer -------------------------------------------------------------------------------


MIN_BUILD_INTERVAL_S = 0.1
"""A view is built at most this often; what changes meanwhile goes into the next build."""

Build = Callable[[Sequence[Any]], Any]
"""Gets the values of the view's sources, then the states (or None) of its optional ones."""


async def run_view(
    channel: Channel[ViewState[Any]],
    view: ViewKey[Any],
    sources: Sequence[Channel[SourceState]],
    release: Callable[[Channel[Any]], Awaitable[None]],
    build: Build,
    *,
    clock: Clock,
    stale_after_s: float,
    optional: Sequence[Channel[SourceState]] = (),
    min_build_interval_s: float = MIN_BUILD_INTERVAL_S,
) -> None:
    """Publish a `ViewState` whenever a source changes (and once when an outage turns
    stale). `sources` and `optional` are already held; they are released when this task
    ends. The view is built once every one of `sources` has a value; `optional` ones
    neither hold it back nor make it reconnecting."""
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    held = (*sources, *optional)
    for source in held:
        source.listen(wake)
    seen: tuple[int, ...] | None = None
    built_at = -min_build_interval_s
    built_from: tuple[Any, ...] | None = None
    data: Any = None
    build_error: NomtuiError | None = None
    connection: Connection | None = None
    try:
        while True:
            wake.clear()
            states = [s.latest for s in sources]
            extras = [s.latest for s in optional]
            versions = tuple(s.version for s in held)
            now = clock()
            since = _failing_since(states)
            stale = since is not None and (now - since).total_seconds() >= stale_after_s
            new_connection: Connection = (
                "live" if since is None else ("stale" if stale else "reconnecting")
            )
            if versions != seen or new_connection != connection:
                # The objects themselves, compared by identity (an id() could be reused
                # once the old value is freed). Optional sources count as changed with
                # every new state: their failures are part of what the builder shows.
                values = (*(s.value if s else None for s in states), *extras)
                changed = built_from is None or any(
                    a is not b for a, b in zip(values, built_from, strict=True)
                )
                ready = all(s is not None and s.has_value for s in states)
                # A change rarely comes alone (an allocation moves the job list, the
                # allocation list and Consul within a few hundred ms), and a build walks
                # every item: changes close together make one build.
                pause = built_at + min_build_interval_s - loop.time()
                if changed and ready and data is not None and pause > 0:
                    await asyncio.sleep(pause)
                    continue
                seen, connection = versions, new_connection
                if changed and ready:
                    built_at = loop.time()
                    built_from = values
                    data, build_error = _build(build, states, extras, view, data)
                error = build_error or next((s.error for s in states if s and s.error), None)
                # Nothing to say yet while the first answers are on their way: a
                # "loading" state would only make screens flash.
                if data is not None or error is not None:
                    channel.publish(
                        ViewState(
                            view=view,
                            data=data,
                            index=states[0].index if states and states[0] else 0,
                            connection=new_connection,
                            stale_since=since,
                            error=error,
                            at=now,
                        )
                    )
            timeout = None
            if since is not None and not stale:
                timeout = max(0.05, stale_after_s - (now - since).total_seconds())
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
                # cancellation that lands as the event fires, and this task would never end.
                async with asyncio.timeout(timeout):
                    await wake.wait()
            except TimeoutError:
                continue  # the outage may just have turned stale
    finally:
        for source in held:
            source.unlisten(wake)
        for source in held:
            await release(source)


def _failing_since(states: Sequence[SourceState | None]) -> datetime | None:
    times = [s.failing_since for s in states if s is not None and s.failing_since is not None]
    return min(times) if times else None


def _build(
    build: Build,
    states: Sequence[SourceState | None],
    extras: Sequence[SourceState | None],
    view: ViewKey[Any],
    previous: Any,
) -> tuple[Any, NomtuiError | None]:
    """(new data, None), or (previous data, the error) when the builder fails.

    The builder gets the values of `states` (the view's sources, each with a value by
    now), then `extras` (its optional sources' states, as they are). It is pure code
    over decoded models, so failing is a bug; the view keeps showing its previous data
    with the error rather than dying with it.
    """
    try:
        return build([s.value for s in states if s is not None] + list(extras)), None
    except Exception as exc:
        log.exception("building %r failed", view)
        return previous, NomtuiError(f"nomtui could not build {view!r} (a bug): {exc!r}.")


__all__ = [
    "Channel",
    "Hub",
    "SourceState",
    "SourceWatch",
    "Subscription",
    "run_source",
    "run_view",
]
