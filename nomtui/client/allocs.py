"""Allocation reads, watches and writes (`/v1/allocations`, `/v1/allocation/:id`, and the
client endpoints `/v1/client/allocation/:id/{stats,restart,signal}`).

Allocations are keyed by UUID, so single reads need no namespace (PROTOCOLS.md §1.2).
Stats, restart and signal are answered by the client node running the allocation; when
that node is down the server answers 404 `No path to node` (§7), i.e. `NotFound`.
"""

from __future__ import annotations

import json
from typing import Any

from nomtui.client.base import (
    DEFAULT_MIN_INTERVAL_S,
    DEFAULT_WAIT_S,
    NomadBase,
    Watch,
    by_create_index,
    drop_none,
    flag,
    seg,
)
from nomtui.models.allocs import Allocation, AllocStopResponse, AllocStub
from nomtui.models.base import Empty
from nomtui.models.stats import AllocStats


def bexpr_string(text: str) -> str:
    """`text` as a go-bexpr string literal: raw (`` `...` ``) unless it holds a backtick,
    since go-bexpr cannot escape a double quote inside "..." (JSON escapes are Go's)."""
    if "`" not in text:
        return f"`{text}`"
    return json.dumps(text, ensure_ascii=False)


def job_filter(job_id: str) -> str:
    """The `filter=` that keeps one job's allocations (of the namespace queried)."""
    return f"JobID == {bexpr_string(job_id)}"


def _list_params(
    namespace: str, prefix: str | None, task_states: bool, resources: bool, filter: str | None
) -> dict[str, str]:
    return drop_none(
        {
            "namespace": namespace,
            "prefix": prefix,
            # `task_states=false` drops most of the payload of a big list (§1.5)
            "task_states": flag(task_states),
            "resources": flag(resources) if resources else None,
            "filter": filter,
        }
    )


class AllocsApi(NomadBase):
    # -- reads ----------------------------------------------------------------------------

    async def list_allocations(
        self,
        namespace: str = "*",
        prefix: str | None = None,
        task_states: bool = True,
        resources: bool = False,
        filter: str | None = None,  # the API's own parameter name
        *,
        per_page: int | None = None,
    ) -> list[AllocStub]:
        """Allocation stubs, newest first. `prefix` needs an even number of hex digits."""
        params = _list_params(namespace, prefix, task_states, resources, filter)
        return by_create_index(await self._list("/v1/allocations", AllocStub, params, per_page))

    async def get_allocation(self, alloc_id: str) -> Allocation:
        """The full allocation, with the job version it runs (`Job`)."""
        return await self._get(f"/v1/allocation/{seg(alloc_id)}", Allocation)

    async def alloc_stats(self, alloc_id: str, task: str | None = None) -> AllocStats:
        """Resource usage now (not a blocking query: poll it every second or two)."""
        params = {"task": task} if task else None
        return await self._get(f"/v1/client/allocation/{seg(alloc_id)}/stats", AllocStats, params)

    # -- watches ----------------------------------------------------------------------------

    def watch_allocations(
        self,
        namespace: str = "*",
        task_states: bool = True,
        *,
        resources: bool = False,
        filter: str | None = None,  # the API's own parameter name
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[AllocStub]]:
        """Allocation stubs as they change, newest first; `resources` adds each one's
        `AllocatedResources`, `filter` (go-bexpr) keeps only the matching ones."""
        return self._watch_map(
            "/v1/allocations",
            list[AllocStub],
            _list_params(namespace, None, task_states, resources, filter),
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_allocation(
        self,
        alloc_id: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[Allocation]:
        return self._watch(
            f"/v1/allocation/{seg(alloc_id)}",
            Allocation,
            None,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    # -- writes -----------------------------------------------------------------------------

    async def stop_allocation(self, alloc_id: str) -> AllocStopResponse:
        """Stop one allocation; the scheduler places a replacement (as `nomad alloc stop`)."""
        return await self._write(
            f"stop allocation {alloc_id[:8]}",
            "PUT",
            f"/v1/allocation/{seg(alloc_id)}/stop",
            AllocStopResponse,
        )

    async def restart_allocation(
        self, alloc_id: str, task: str | None = None, all_tasks: bool = False
    ) -> Empty:
        """Restart one task, every running task (default), or with `all_tasks` every task
        including finished prestart/poststart ones."""
        body: dict[str, Any] = {}
        if task:
            body["TaskName"] = task
        if all_tasks:
            body["AllTasks"] = True
        return await self._write(
            f"restart allocation {alloc_id[:8]}",
            "PUT",
            f"/v1/client/allocation/{seg(alloc_id)}/restart",
            Empty,
            body,
        )

    async def signal_allocation(self, alloc_id: str, signal: str, task: str | None = None) -> Empty:
        """Send `signal` (e.g. `SIGHUP`) to one task, or to every task without `task`."""
        body: dict[str, Any] = {"Signal": signal}
        if task:
            body["Task"] = task
        return await self._write(
            f"send {signal} to allocation {alloc_id[:8]}",
            "PUT",
            f"/v1/client/allocation/{seg(alloc_id)}/signal",
            Empty,
            body,
        )


__all__ = ["AllocsApi", "bexpr_string", "job_filter"]
