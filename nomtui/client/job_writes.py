"""Job writes: register, stop, revert, dispatch, periodic force, scale, evaluate, stable.

Bodies follow PROTOCOLS.md §12 and the Go client (which sends PUT; DELETE for stop).
Every method goes through `_write`, which refuses on a read-only cluster before any I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from nomtui.client.base import NomadBase, flag
from nomtui.client.jobs import job_path
from nomtui.models.job_results import (
    JobDispatchResponse,
    JobRegisterResponse,
    PeriodicForceResponse,
)


class JobWritesApi(NomadBase):
    async def register_job(
        self, job: Mapping[str, Any], namespace: str | None = None
    ) -> JobRegisterResponse:
        """Register (create or update) `job`, an API-shaped Job object (PascalCase keys).

        The job's own `Namespace` wins on the server; `namespace` fills in when it has none.
        """
        params = {"namespace": namespace} if namespace else None
        return await self._write(
            f"register job {job.get('ID', '?')}",
            "PUT",
            "/v1/jobs",
            JobRegisterResponse,
            {"Job": dict(job)},
            params,
        )

    async def stop_job(
        self, job_id: str, namespace: str, purge: bool = False
    ) -> JobRegisterResponse:
        """Stop (deregister) a job; `purge` also removes it and its history at once."""
        params = {"namespace": namespace, "purge": flag(purge)}
        action = f"{'purge' if purge else 'stop'} job {job_id}"
        return await self._write(
            action, "DELETE", job_path(job_id), JobRegisterResponse, None, params
        )

    async def revert_job(
        self,
        job_id: str,
        version: int,
        namespace: str,
        enforce_prior_version: int | None = None,
    ) -> JobRegisterResponse:
        """Roll the job back to `version`; with `enforce_prior_version`, only if the current
        version is that one (so two people reverting at once cannot both win)."""
        body: dict[str, Any] = {"JobID": job_id, "JobVersion": version}
        if enforce_prior_version is not None:
            body["EnforcePriorVersion"] = enforce_prior_version
        return await self._write(
            f"revert job {job_id} to version {version}",
            "PUT",
            job_path(job_id, "/revert"),
            JobRegisterResponse,
            body,
            {"namespace": namespace},
        )

    async def dispatch_job(
        self,
        job_id: str,
        namespace: str,
        payload: bytes | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> JobDispatchResponse:
        """Dispatch a parameterized job; the payload travels base64-encoded."""
        body: dict[str, Any] = {"Meta": dict(meta or {})}
        if payload is not None:
            body["Payload"] = base64.b64encode(payload).decode("ascii")
        return await self._write(
            f"dispatch job {job_id}",
            "PUT",
            job_path(job_id, "/dispatch"),
            JobDispatchResponse,
            body,
            {"namespace": namespace},
        )

    async def periodic_force(self, job_id: str, namespace: str) -> PeriodicForceResponse:
        """Launch a periodic job's child now instead of at its next scheduled time."""
        return await self._write(
            f"force a launch of periodic job {job_id}",
            "PUT",
            job_path(job_id, "/periodic/force"),
            PeriodicForceResponse,
            None,
            {"namespace": namespace},
        )

    async def scale_job(
        self, job_id: str, namespace: str, group: str, count: int, message: str = ""
    ) -> JobRegisterResponse:
        """Set `group`'s count (the server refuses while a deployment is active)."""
        body = {
            "Count": count,
            "Target": {"Namespace": namespace, "Job": job_id, "Group": group},
            "Message": message,
        }
        return await self._write(
            f"scale {job_id}/{group} to {count}",
            "PUT",
            job_path(job_id, "/scale"),
            JobRegisterResponse,
            body,
            {"namespace": namespace},
        )

    async def evaluate_job(
        self, job_id: str, namespace: str, force_reschedule: bool = False
    ) -> JobRegisterResponse:
        """Ask the scheduler to evaluate the job again (optionally rescheduling failed allocs)."""
        body = {"JobID": job_id, "EvalOptions": {"ForceReschedule": force_reschedule}}
        return await self._write(
            f"evaluate job {job_id}",
            "PUT",
            job_path(job_id, "/evaluate"),
            JobRegisterResponse,
            body,
            {"namespace": namespace},
        )

    async def set_job_stable(
        self, job_id: str, namespace: str, version: int, stable: bool
    ) -> JobRegisterResponse:
        """Mark a version stable (or not); auto-revert goes back to the last stable one.

        Only `JobModifyIndex` (and `Index`) are set in the answer.
        """
        body = {"JobID": job_id, "JobVersion": version, "Stable": stable}
        return await self._write(
            f"mark version {version} of job {job_id} {'stable' if stable else 'unstable'}",
            "PUT",
            job_path(job_id, "/stable"),
            JobRegisterResponse,
            body,
            {"namespace": namespace},
        )


__all__ = ["JobWritesApi"]
