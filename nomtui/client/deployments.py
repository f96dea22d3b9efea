"""Deployment and evaluation reads, watches and the deployment actions.

`/v1/deployments`, `/v1/deployment/:id`, `/v1/deployment/allocations/:id`,
`/v1/deployment/{promote,fail,pause,allocation-health}/:id`, `/v1/evaluations`,
`/v1/evaluation/:id`. Bodies of the actions follow PROTOCOLS.md §12.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nomtui.client.base import (
    DEFAULT_MIN_INTERVAL_S,
    DEFAULT_WAIT_S,
    NomadBase,
    Watch,
    by_create_index,
    drop_none,
    seg,
)
from nomtui.models.allocs import AllocStub
from nomtui.models.deployments import Deployment, DeploymentUpdateResponse
from nomtui.models.evals import Evaluation


class DeploymentsApi(NomadBase):
    # -- reads ----------------------------------------------------------------------------

    async def list_deployments(
        self, namespace: str = "*", *, per_page: int | None = None
    ) -> list[Deployment]:
        """Deployments, newest first."""
        params = {"namespace": namespace}
        return by_create_index(await self._list("/v1/deployments", Deployment, params, per_page))

    async def get_deployment(self, dep_id: str) -> Deployment:
        return await self._get(f"/v1/deployment/{seg(dep_id)}", Deployment)

    async def deployment_allocations(self, dep_id: str) -> list[AllocStub]:
        path = f"/v1/deployment/allocations/{seg(dep_id)}"
        return by_create_index(await self._get(path, list[AllocStub]))

    async def list_evaluations(
        self,
        namespace: str = "*",
        job: str | None = None,
        status: str | None = None,
        *,
        per_page: int | None = None,
    ) -> list[Evaluation]:
        """Evaluations, newest first; `job` and `status` narrow the list on the server."""
        params = drop_none({"namespace": namespace, "job": job, "status": status})
        return by_create_index(await self._list("/v1/evaluations", Evaluation, params, per_page))

    async def get_evaluation(self, eval_id: str) -> Evaluation:
        return await self._get(f"/v1/evaluation/{seg(eval_id)}", Evaluation)

    # -- watches ----------------------------------------------------------------------------

    def watch_deployments(
        self,
        namespace: str = "*",
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[Deployment]]:
        return self._watch_map(
            "/v1/deployments",
            list[Deployment],
            {"namespace": namespace},
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_deployment(
        self,
        dep_id: str,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[Deployment]:
        return self._watch(
            f"/v1/deployment/{seg(dep_id)}",
            Deployment,
            None,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    def watch_evaluations(
        self,
        namespace: str = "*",
        *,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> Watch[list[Evaluation]]:
        return self._watch_map(
            "/v1/evaluations",
            list[Evaluation],
            {"namespace": namespace},
            by_create_index,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
        )

    # -- writes -----------------------------------------------------------------------------

    async def _deployment_action(
        self, action: str, verb: str, dep_id: str, body: dict[str, Any]
    ) -> DeploymentUpdateResponse:
        return await self._write(
            f"{verb} deployment {dep_id[:8]}",
            "PUT",
            f"/v1/deployment/{action}/{seg(dep_id)}",
            DeploymentUpdateResponse,
            {"DeploymentID": dep_id, **body},
        )

    async def promote_deployment(
        self, dep_id: str, groups: Sequence[str] | None = None
    ) -> DeploymentUpdateResponse:
        """Promote the canaries of `groups`, or of every group when None."""
        body: dict[str, Any] = {"All": True} if groups is None else {"Groups": list(groups)}
        return await self._deployment_action("promote", "promote", dep_id, body)

    async def fail_deployment(self, dep_id: str) -> DeploymentUpdateResponse:
        """Mark the deployment failed; with auto-revert the job rolls back
        (`RevertedJobVersion` in the answer)."""
        return await self._deployment_action("fail", "fail", dep_id, {})

    async def pause_deployment(self, dep_id: str, pause: bool) -> DeploymentUpdateResponse:
        verb = "pause" if pause else "resume"
        return await self._deployment_action("pause", verb, dep_id, {"Pause": pause})

    async def set_allocation_health(
        self, dep_id: str, healthy: Sequence[str], unhealthy: Sequence[str]
    ) -> DeploymentUpdateResponse:
        """Decide the health of allocations by hand (deployments with manual health checks)."""
        body = {"HealthyAllocationIDs": list(healthy), "UnhealthyAllocationIDs": list(unhealthy)}
        return await self._deployment_action(
            "allocation-health", "set allocation health in", dep_id, body
        )


__all__ = ["DeploymentsApi"]
