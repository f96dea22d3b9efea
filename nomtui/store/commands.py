"""Writes through the store: each returns when the API accepted it.

The effect is not applied to any snapshot here: it arrives through the watches like
every other change, so a screen never shows a state the cluster does not have (a
refused placement, an auto-revert) and there is one road for data.

Read-only mode is enforced at this layer, before the client is touched, whatever the
client's own setting and whatever the UI shows: `ReadOnlyRefused` names the action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nomtui.client.jobs import job_path
from nomtui.errors import BadResponse, ReadOnlyRefused
from nomtui.models.allocs import AllocStopResponse
from nomtui.models.base import Empty
from nomtui.models.deployments import DeploymentUpdateResponse
from nomtui.models.job_results import (
    JobDispatchResponse,
    JobRegisterResponse,
    PeriodicForceResponse,
)
from nomtui.models.nodes import NodeUpdateResponse

if TYPE_CHECKING:
    from nomtui.client.nomad import NomadClient


class StoreCommands:
    """The write half of `Store` (a mixin: `Store` provides the attributes)."""

    nomad: NomadClient
    read_only: bool
    cluster: str

    def _allow(self, action: str) -> None:
        if self.read_only:
            raise ReadOnlyRefused(action, self.cluster)

    # -- jobs -----------------------------------------------------------------------------

    async def stop_job(
        self, job_id: str, namespace: str, *, purge: bool = False
    ) -> JobRegisterResponse:
        self._allow(f"{'purge' if purge else 'stop'} job {job_id}")
        return await self.nomad.stop_job(job_id, namespace, purge=purge)

    async def start_job(self, job_id: str, namespace: str) -> JobRegisterResponse:
        """Run a stopped job again: register its current version with `Stop` false.

        The job is read as raw JSON, not as the `Job` model, because the model keeps only
        the fields nomtui shows and re-registering it would drop the rest of the spec.
        """
        self._allow(f"start job {job_id}")
        body, _ = await self.nomad.http.get_json(job_path(job_id), {"namespace": namespace})
        if not isinstance(body, dict):
            raise BadResponse(self.nomad.address, job_path(job_id), "the job is not an object")
        job: dict[str, Any] = dict(body)
        job["Stop"] = False
        return await self.nomad.register_job(job, namespace)

    async def scale(
        self, job_id: str, namespace: str, group: str, count: int, *, message: str = ""
    ) -> JobRegisterResponse:
        self._allow(f"scale {job_id}/{group} to {count}")
        return await self.nomad.scale_job(job_id, namespace, group, count, message)

    async def revert(self, job_id: str, namespace: str, version: int) -> JobRegisterResponse:
        self._allow(f"revert job {job_id} to version {version}")
        return await self.nomad.revert_job(job_id, version, namespace)

    async def dispatch(
        self,
        job_id: str,
        namespace: str,
        *,
        payload: bytes | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> JobDispatchResponse:
        self._allow(f"dispatch job {job_id}")
        return await self.nomad.dispatch_job(job_id, namespace, payload, meta)

    async def periodic_force(self, job_id: str, namespace: str) -> PeriodicForceResponse:
        self._allow(f"force a launch of periodic job {job_id}")
        return await self.nomad.periodic_force(job_id, namespace)

    # -- allocations ------------------------------------------------------------------------

    async def stop_alloc(self, alloc_id: str) -> AllocStopResponse:
        self._allow(f"stop allocation {alloc_id[:8]}")
        return await self.nomad.stop_allocation(alloc_id)

    async def restart_alloc(
        self, alloc_id: str, *, task: str | None = None, all_tasks: bool = False
    ) -> Empty:
        self._allow(f"restart allocation {alloc_id[:8]}")
        return await self.nomad.restart_allocation(alloc_id, task, all_tasks)

    async def signal_alloc(self, alloc_id: str, signal: str, *, task: str | None = None) -> Empty:
        self._allow(f"send {signal} to allocation {alloc_id[:8]}")
        return await self.nomad.signal_allocation(alloc_id, signal, task)

    # -- deployments --------------------------------------------------------------------------

    async def promote(
        self, deployment_id: str, *, groups: Sequence[str] | None = None
    ) -> DeploymentUpdateResponse:
        self._allow(f"promote deployment {deployment_id[:8]}")
        return await self.nomad.promote_deployment(deployment_id, groups)

    async def fail_deployment(self, deployment_id: str) -> DeploymentUpdateResponse:
        self._allow(f"fail deployment {deployment_id[:8]}")
        return await self.nomad.fail_deployment(deployment_id)

    # -- nodes ------------------------------------------------------------------------------

    async def drain(
        self, node_id: str, *, deadline_s: float = 3600.0, ignore_system_jobs: bool = False
    ) -> NodeUpdateResponse:
        """Start draining; `deadline_s` 0 waits forever, a negative one forces it now."""
        self._allow(f"drain node {node_id[:8]}")
        return await self.nomad.drain_node(node_id, deadline_s, ignore_system_jobs)

    async def undrain(self, node_id: str, *, mark_eligible: bool = True) -> NodeUpdateResponse:
        """Cancel a drain; by default the node takes new work again (as `-disable`)."""
        self._allow(f"cancel the drain of node {node_id[:8]}")
        return await self.nomad.drain_node(node_id, None, mark_eligible=mark_eligible)

    async def set_eligibility(self, node_id: str, eligible: bool) -> NodeUpdateResponse:
        self._allow(f"mark node {node_id[:8]} {'eligible' if eligible else 'ineligible'}")
        return await self.nomad.set_eligibility(node_id, eligible)


COMMANDS = (
    "stop_job",
    "start_job",
    "scale",
    "revert",
    "dispatch",
    "periodic_force",
    "stop_alloc",
    "restart_alloc",
    "signal_alloc",
    "promote",
    "fail_deployment",
    "drain",
    "undrain",
    "set_eligibility",
)
"""Every write the store offers (each refuses in read-only mode)."""

__all__ = ["COMMANDS", "StoreCommands"]
