"""The job and allocation lists kept current from the event stream (`event_fed`).

These are what a screen holding a big list watches: one read, then only what changed.
The `watch_*` methods they fall back to stay the plain blocking queries.
"""

from __future__ import annotations

from collections.abc import Iterator

from nomtui.client.allocs import AllocsApi, job_filter
from nomtui.client.base import DEFAULT_MIN_INTERVAL_S, DEFAULT_WAIT_S, Watch, by_create_index, flag
from nomtui.client.event_fed import FedList, Key, watch_fed
from nomtui.client.jobs import JobsApi, sorted_jobs
from nomtui.models.allocs import AllocStub
from nomtui.models.events import Event
from nomtui.models.jobs import JobStub


def _namespace(event: Event) -> str:
    return event.Namespace or "default"


def alloc_keys(event: Event) -> Iterator[Key]:
    if event.Topic == "Allocation" and event.Key:
        yield (_namespace(event), event.Key)


def job_keys(event: Event) -> Iterator[Key]:
    """A job's own events, and its allocations' (they move its summary and status)."""
    if event.Topic == "Job" and event.Key:
        yield (_namespace(event), event.Key)
    elif event.Topic == "Allocation":
        alloc = (event.Payload or {}).get("Allocation")
        job = alloc.get("JobID") if isinstance(alloc, dict) else None
        if not isinstance(job, str) or not job:
            job = event.FilterKeys[0] if event.FilterKeys else None
        if job:
            yield (_namespace(event), job)


def parent_of(job: JobStub) -> Iterator[Key]:
    """A periodic or dispatched child's parent counts it in its summary."""
    if job.ParentID:
        yield (job.Namespace or "default", job.ParentID)


class LiveListsApi(JobsApi, AllocsApi):
    def follow_jobs(
        self,
        namespace: str = "*",
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[JobStub]]:
        """`watch_jobs`, fed by the event stream where the agent has one."""
        spec = FedList(
            "/v1/jobs",
            JobStub,
            {"namespace": namespace},
            ("Job", "Allocation"),
            job_keys,
            sorted_jobs,
            related=parent_of,
        )
        return watch_fed(
            self.http,
            spec,
            lambda: self.watch_jobs(namespace, wait_s=wait_s, min_interval_s=min_interval_s),
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def follow_allocations(
        self,
        namespace: str = "*",
        task_states: bool = True,
        *,
        resources: bool = False,
        job_id: str | None = None,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[AllocStub]]:
        """`watch_allocations` (of one job with `job_id`), fed by the event stream."""
        filter_ = job_filter(job_id) if job_id else None
        params = {"namespace": namespace, "task_states": flag(task_states)}
        if resources:
            params["resources"] = "true"
        if filter_:
            params["filter"] = filter_
        # A topic's filter key cannot hold a colon (the agent answers 400); such a job's
        # events come unfiltered and its `filter=` keeps the others out.
        topic = f"Allocation:{job_id}" if job_id and ":" not in job_id else "Allocation"
        spec = FedList("/v1/allocations", AllocStub, params, (topic,), alloc_keys, by_create_index)
        return watch_fed(
            self.http,
            spec,
            lambda: self.watch_allocations(
                namespace,
                task_states,
                resources=resources,
                filter=filter_,
                wait_s=wait_s,
                min_interval_s=min_interval_s,
            ),
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )


__all__ = ["LiveListsApi", "alloc_keys", "job_keys", "parent_of"]
