"""Job reads and watches (`/v1/jobs`, `/v1/job/:id/...`).

Job objects are namespace-scoped (PROTOCOLS.md §1.2), so every per-job call names its
namespace; lists take `*` for every namespace the token may read.
"""

from __future__ import annotations

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
from nomtui.models.allocs import AllocStub
from nomtui.models.deployments import Deployment
from nomtui.models.evals import Evaluation
from nomtui.models.job_results import JobScaleStatus, JobSubmission, JobVersions
from nomtui.models.job_spec import Job
from nomtui.models.jobs import JobStub, JobSummary


def job_path(job_id: str, suffix: str = "") -> str:
    return f"/v1/job/{seg(job_id)}{suffix}"


def sorted_jobs(jobs: list[JobStub]) -> list[JobStub]:
    """By (namespace, ID): the Go client sorts by ID; `*` lists mix namespaces."""
    return sorted(jobs, key=lambda j: (j.Namespace, j.ID))


class JobsApi(NomadBase):
    # -- reads ----------------------------------------------------------------------------

    async def list_jobs(
        self,
        namespace: str = "*",
        prefix: str | None = None,
        meta: bool = False,
        filter: str | None = None,  # the API's own parameter name
        *,
        per_page: int | None = None,
    ) -> list[JobStub]:
        """Job stubs of `namespace` (`*`: every namespace the token may read).

        `meta` adds each job's meta block; `filter` is a go-bexpr expression evaluated by
        the servers; `per_page` fetches page by page (for clusters with many jobs).
        """
        params = drop_none(
            {
                "namespace": namespace,
                "prefix": prefix,
                "meta": flag(meta) if meta else None,
                "filter": filter,
            }
        )
        return sorted_jobs(await self._list("/v1/jobs", JobStub, params, per_page))

    async def get_job(self, job_id: str, namespace: str) -> Job:
        return await self._get(job_path(job_id), Job, {"namespace": namespace})

    async def job_versions(self, job_id: str, namespace: str, diffs: bool = False) -> JobVersions:
        params = {"namespace": namespace, "diffs": flag(diffs)}
        return await self._get(job_path(job_id, "/versions"), JobVersions, params)

    async def job_summary(self, job_id: str, namespace: str) -> JobSummary:
        return await self._get(job_path(job_id, "/summary"), JobSummary, {"namespace": namespace})

    async def job_allocations(self, job_id: str, namespace: str) -> list[AllocStub]:
        path = job_path(job_id, "/allocations")
        return by_create_index(await self._get(path, list[AllocStub], {"namespace": namespace}))

    async def job_evaluations(self, job_id: str, namespace: str) -> list[Evaluation]:
        path = job_path(job_id, "/evaluations")
        return by_create_index(await self._get(path, list[Evaluation], {"namespace": namespace}))

    async def job_deployments(self, job_id: str, namespace: str) -> list[Deployment]:
        path = job_path(job_id, "/deployments")
        return by_create_index(await self._get(path, list[Deployment], {"namespace": namespace}))

    async def job_latest_deployment(self, job_id: str, namespace: str) -> Deployment | None:
        """The most recent deployment; None for a job that never had one (batch, system)."""
        path = job_path(job_id, "/deployment")
        return await self._get(path, Deployment | None, {"namespace": namespace})  # type: ignore[arg-type]

    async def job_scale(self, job_id: str, namespace: str) -> JobScaleStatus:
        path = job_path(job_id, "/scale")
        return await self._get(path, JobScaleStatus, {"namespace": namespace})

    async def job_submission(
        self, job_id: str, namespace: str, version: int | None = None
    ) -> JobSubmission:
        """The source the job was submitted with (HCL or JSON), of `version` or the current."""
        params = drop_none(
            {"namespace": namespace, "version": str(version) if version is not None else None}
        )
        return await self._get(job_path(job_id, "/submission"), JobSubmission, params)

    # -- watches ----------------------------------------------------------------------------

    def watch_jobs(
        self,
        namespace: str = "*",
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[JobStub]]:
        """Job lists as they change, sorted by (namespace, ID); `Retrying` while it cannot."""
        return self._watch_map(
            "/v1/jobs",
            list[JobStub],
            {"namespace": namespace},
            sorted_jobs,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_job(
        self,
        job_id: str,
        namespace: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[Job]:
        return self._watch(
            job_path(job_id),
            Job,
            {"namespace": namespace},
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_job_allocations(
        self,
        job_id: str,
        namespace: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[AllocStub]]:
        return self._watch_map(
            job_path(job_id, "/allocations"),
            list[AllocStub],
            {"namespace": namespace},
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_job_deployments(
        self,
        job_id: str,
        namespace: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[Deployment]]:
        return self._watch_map(
            job_path(job_id, "/deployments"),
            list[Deployment],
            {"namespace": namespace},
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_latest_deployment(
        self,
        job_id: str,
        namespace: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[Deployment | None]:
        return self._watch(
            job_path(job_id, "/deployment"),
            Deployment | None,  # type: ignore[arg-type]
            {"namespace": namespace},
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_job_evaluations(
        self,
        job_id: str,
        namespace: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[Evaluation]]:
        return self._watch_map(
            job_path(job_id, "/evaluations"),
            list[Evaluation],
            {"namespace": namespace},
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_job_versions(
        self,
        job_id: str,
        namespace: str,
        *,
        diffs: bool = False,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[JobVersions]:
        return self._watch(
            job_path(job_id, "/versions"),
            JobVersions,
            {"namespace": namespace, "diffs": flag(diffs)},
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )


__all__ = ["JobsApi", "job_path", "sorted_jobs"]
