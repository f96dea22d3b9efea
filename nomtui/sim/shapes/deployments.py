"""Deployment and evaluation shapes, plus Nomad's deployment status descriptions."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from nomtui.sim.shapes.common import MINUTE, ZERO_TIME
from nomtui.sim.state import Json

# structs.DeploymentStatusDescription*: UIs match on these strings, so keep them verbatim.
DESC_RUNNING = "Deployment is running"
DESC_RUNNING_NEEDS_PROMOTION = "Deployment is running but requires manual promotion"
DESC_RUNNING_AUTO_PROMOTION = "Deployment is running pending automatic promotion"
DESC_PAUSED = "Deployment is paused"
DESC_SUCCESSFUL = "Deployment completed successfully"
DESC_STOPPED_JOB = "Cancelled because job is stopped"
DESC_NEWER_JOB = "Cancelled due to newer version of job"
DESC_FAILED_ALLOCATIONS = "Failed due to unhealthy allocations"
DESC_PROGRESS_DEADLINE = "Failed due to progress deadline"
DESC_FAILED_BY_USER = "Deployment marked as failed"
DESC_PENDING_FOR_PEER = "Deployment is pending, waiting for peer region"
DESC_BLOCKED = "Deployment is complete but waiting for peer region"
DESC_UNBLOCKING = "Deployment is unblocking remaining regions"
# Short aliases used by the sim's deployment watcher.
DESC_NEEDS_PROMOTION = DESC_RUNNING_NEEDS_PROMOTION
DESC_STOPPED = DESC_STOPPED_JOB


def rollback_description(base: str, job_version: int) -> str:
    """E.g. "Deployment marked as failed - rolling back to job version 3"."""
    return f"{base} - rolling back to job version {job_version}"


def rollback_noop_description(base: str, job_version: int) -> str:
    return (
        f"{base} - not rolling back to stable job version {job_version} "
        "as current job has same specification"
    )


def no_rollback_target_description(base: str) -> str:
    return f"{base} - no stable job version to auto revert to"


def deployment_group_state(
    *,
    desired_total: int,
    desired_canaries: int = 0,
    placed_canaries: list[str] | None = None,
    auto_promote: bool = False,
    auto_revert: bool = False,
    promoted: bool = False,
    healthy: int = 0,
    unhealthy: int = 0,
    placed: int = 0,
    progress_deadline_ns: int = 10 * MINUTE,
    require_progress_by: str | None = None,
) -> Json:
    """DeploymentState for one task group; RequireProgressBy is null until first placement."""
    return {
        "AutoPromote": auto_promote,
        "AutoRevert": auto_revert,
        "Promoted": promoted,
        "PlacedCanaries": list(placed_canaries) if placed_canaries else None,
        "DesiredCanaries": desired_canaries,
        "DesiredTotal": desired_total,
        "PlacedAllocs": placed,
        "HealthyAllocs": healthy,
        "UnhealthyAllocs": unhealthy,
        "ProgressDeadline": progress_deadline_ns,
        "RequireProgressBy": require_progress_by,
    }


def deployment(
    *,
    deployment_id: str,
    namespace: str,
    job: Json,
    status: str,
    status_description: str,
    groups: Mapping[str, Json],
    create_index: int,
    modify_index: int,
    eval_priority: int = 50,
    create_time_ns: int = 0,
    modify_time_ns: int | None = None,
) -> Json:
    """A Deployment of `job`'s current version. As in structs.NewDeployment, JobModifyIndex
    is the job's ModifyIndex and JobSpecModifyIndex its JobModifyIndex."""
    return {
        "ID": deployment_id,
        "Namespace": namespace,
        "JobID": job["ID"],
        "JobVersion": job["Version"],
        "JobModifyIndex": job["ModifyIndex"],
        "JobSpecModifyIndex": job["JobModifyIndex"],
        "JobCreateIndex": job["CreateIndex"],
        "IsMultiregion": job.get("Multiregion") is not None,
        "TaskGroups": {name: copy.deepcopy(state) for name, state in groups.items()},
        "Status": status,
        "StatusDescription": status_description,
        "EvalPriority": eval_priority,
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
        "CreateTime": create_time_ns,
        "ModifyTime": modify_time_ns if modify_time_ns is not None else create_time_ns,
    }


def deployment_update_response(
    *,
    eval_id: str,
    eval_create_index: int,
    deployment_modify_index: int,
    index: int,
    reverted_job_version: int | None = None,
) -> Json:
    """DeploymentUpdateResponse (fail, pause, promote, allocation-health). Nomad always
    encodes RevertedJobVersion, null unless the update triggered an auto-revert."""
    return {
        "EvalID": eval_id,
        "EvalCreateIndex": eval_create_index,
        "DeploymentModifyIndex": deployment_modify_index,
        "RevertedJobVersion": reverted_job_version,
        "Index": index,
    }


def promote_response(
    *, eval_id: str, eval_create_index: int, deployment_modify_index: int, index: int
) -> Json:
    return deployment_update_response(
        eval_id=eval_id,
        eval_create_index=eval_create_index,
        deployment_modify_index=deployment_modify_index,
        index=index,
    )


def evaluation(
    *,
    eval_id: str,
    namespace: str,
    job_id: str,
    job_type: str,
    triggered_by: str,
    status: str,
    now_ns: int,
    create_index: int,
    modify_index: int,
    deployment_id: str = "",
    node_id: str = "",
    priority: int = 50,
    failed_tg_allocs: Json | None = None,
    blocked_eval: str = "",
    status_description: str = "",
    job_modify_index: int = 0,
    node_modify_index: int = 0,
    queued_allocations: dict[str, int] | None = None,
    previous_eval: str = "",
    next_eval: str = "",
    wait_ns: int = 0,
    snapshot_index: int | None = None,
    modify_time_ns: int | None = None,
) -> Json:
    """An Evaluation; `failed_tg_allocs` maps group -> AllocMetric (see placement_metrics)."""
    return {
        "ID": eval_id,
        "Namespace": namespace,
        "Priority": priority,
        "Type": job_type,
        "TriggeredBy": triggered_by,
        "JobID": job_id,
        "JobModifyIndex": job_modify_index,
        "NodeID": node_id,
        "NodeModifyIndex": node_modify_index,
        "DeploymentID": deployment_id,
        "Status": status,
        "StatusDescription": status_description,
        "Wait": wait_ns,
        "WaitUntil": ZERO_TIME,
        "NextEval": next_eval,
        "PreviousEval": previous_eval,
        "BlockedEval": blocked_eval,
        "RelatedEvals": None,
        "FailedTGAllocs": copy.deepcopy(failed_tg_allocs),
        "ClassEligibility": None,
        "QuotaLimitReached": "",
        "EscapedComputedClass": False,
        "AnnotatePlan": False,
        "QueuedAllocations": dict(queued_allocations) if queued_allocations is not None else None,
        "LeaderACL": "",
        "SnapshotIndex": snapshot_index if snapshot_index is not None else create_index,
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
        "CreateTime": now_ns,
        "ModifyTime": modify_time_ns if modify_time_ns is not None else now_ns,
    }


def evaluation_stub(ev: Json) -> Json:
    """EvaluationStub, as used in RelatedEvals of GET /v1/evaluation/:id?related=true."""
    keys = (
        "ID",
        "Namespace",
        "Priority",
        "Type",
        "TriggeredBy",
        "JobID",
        "NodeID",
        "DeploymentID",
        "Status",
        "StatusDescription",
        "WaitUntil",
        "NextEval",
        "PreviousEval",
        "BlockedEval",
        "CreateIndex",
        "ModifyIndex",
        "CreateTime",
        "ModifyTime",
    )
    stub = {k: copy.deepcopy(ev.get(k)) for k in keys}
    if stub["WaitUntil"] == ZERO_TIME:
        stub["WaitUntil"] = None  # a *time.Time in the stub: unset is null, not zero time
    return stub
