"""What every area of `NomadClient` shares: the HTTP base, the read-only guard, watches.

Each area (jobs, allocations, nodes, deployments, cluster) is a mixin over `NomadBase`
in its own module; `NomadClient` composes them, so callers hold one object per cluster.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from typing import Any, Protocol, TypeAlias, TypeVar
from urllib.parse import quote

from nomtui.audit import auditor_for, run_recorded, target_of
from nomtui.client.blocking import Retrying, Snapshot
from nomtui.client.http import HttpClient
from nomtui.errors import ReadOnlyRefused

T = TypeVar("T")
U = TypeVar("U")

Watch: TypeAlias = AsyncGenerator[Snapshot[T] | Retrying, None]
"""What every `watch_*` method yields: fresh data, or a failure it is retrying. Iterate it
with `async for`; `aclose()` (or cancelling the task) stops it at once."""

DEFAULT_WAIT_S = 60.0
"""Blocking-query `wait` of watches: long enough to be cheap, short enough that a dead
connection behind a NAT that drops idle flows is noticed within a minute."""
DEFAULT_MIN_INTERVAL_S = 0.5
"""Fastest a watch re-queries when the data changes all the time."""


def seg(value: str) -> str:
    """One path segment, escaped as the Go client does (`url.PathEscape`).

    Job IDs may contain `/` (periodic and dispatched children); the agent routes job
    paths by suffix and decodes the rest, so the `/` must travel as `%2F`.
    """
    return quote(value, safe="")


def flag(value: bool) -> str:
    return "true" if value else "false"


def drop_none(params: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in params.items() if v is not None}


class NomadBase:
    """State and helpers shared by the area mixins."""

    http: HttpClient
    read_only: bool
    cluster: str

    def _guard(self, action: str) -> None:
        """Refuse a write on a read-only cluster, before anything is sent."""
        if self.read_only:
            raise ReadOnlyRefused(action, self.cluster)

    async def _get(self, path: str, type_: type[T], params: Mapping[str, str] | None = None) -> T:
        value, _ = await self.http.get(path, type_, params)
        return value

    async def _list(
        self,
        path: str,
        item: type[T],
        params: Mapping[str, str] | None,
        per_page: int | None,
    ) -> list[T]:
        """A list endpoint; page by page when `per_page` is given (big clusters)."""
        if per_page:
            items, _ = await self.http.paginate(path, item, params, per_page=per_page)
            return items
        return await self._get(path, list[item], params)  # type: ignore[valid-type]

    async def _write(
        self,
        action: str,
        method: str,
        path: str,
        type_: type[T],
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> T:
        """The one road of every write: the read-only guard, then the request, then the
        audit line (`nomtui.audit`) when this client is audited."""
        auditor = auditor_for(self.http)
        if auditor is None:
            self._guard(action)
            return await self.http.send(method, path, type_, body, params)
        target = target_of(path, body, params, self.http.namespace)
        try:
            self._guard(action)
        except ReadOnlyRefused:
            auditor.write(action, target, "refused: read-only")
            raise
        return await run_recorded(
            auditor, action, target, lambda: self.http.send(method, path, type_, body, params)
        )

    def _watch(
        self,
        path: str,
        type_: type[T],
        params: Mapping[str, str] | None,
        *,
        wait_s: float,
        min_interval_s: float,
    ) -> Watch[T]:
        return self.http.watch(path, type_, params, wait_s=wait_s, min_interval_s=min_interval_s)

    def _watch_map(
        self,
        path: str,
        type_: type[T],
        params: Mapping[str, str] | None,
        change: Callable[[T], U],
        *,
        wait_s: float,
        min_interval_s: float,
    ) -> Watch[U]:
        """A watch whose snapshots pass through `change` (e.g. the Go client's sort order)."""
        inner = self._watch(path, type_, params, wait_s=wait_s, min_interval_s=min_interval_s)
        return _mapped(inner, change)


async def _mapped(inner: Watch[T], change: Callable[[T], U]) -> Watch[U]:
    # aclosing: stopping this watch must stop the inner one now, not at garbage collection.
    seen: tuple[T, U] | None = None
    async with aclosing(inner) as updates:
        async for update in updates:
            if isinstance(update, Snapshot):
                # The same value again (only its leader headers turned) maps to the same
                # object again, as `watch_loop` promises.
                if seen is None or seen[0] is not update.value:
                    seen = (update.value, change(update.value))
                yield Snapshot(seen[1], update.index, update.meta)
            else:
                yield update


class _Created(Protocol):
    @property
    def CreateIndex(self) -> int: ...


C = TypeVar("C", bound=_Created)


def by_create_index(items: list[C]) -> list[C]:
    """Newest first, as the Go client sorts allocations, deployments and evaluations."""
    return sorted(items, key=lambda i: i.CreateIndex, reverse=True)


__all__ = [
    "DEFAULT_MIN_INTERVAL_S",
    "DEFAULT_WAIT_S",
    "NomadBase",
    "Watch",
    "by_create_index",
    "drop_none",
    "flag",
    "seg",
]
