"""Job read shapes (summary, list stub, versions, submission, scale status) and job write
responses. Canonicalization, diffs and HCL rendering live in sibling modules and are
re-exported here so callers can treat `jobs` as the one job-shapes module.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from nomtui.sim.shapes.hcl import hcl_source
from nomtui.sim.shapes.jobdiff import job_diff, version_diffs
from nomtui.sim.shapes.jobspec import canonical_job
from nomtui.sim.state import Json

__all__ = [
    "canonical_job",
    "dispatch_response",
    "hcl_source",
    "job_diff",
    "job_scale_status",
    "job_stub",
    "job_submission",
    "job_summary",
    "job_versions_body",
    "periodic_force_response",
    "register_response",
    "scaling_event",
    "stable_response",
    "version_diffs",
]

_SUMMARY_KEY = {
    "pending": "Starting",
    "running": "Running",
    "complete": "Complete",
    "failed": "Failed",
    "lost": "Lost",
    "unknown": "Unknown",
}
_TERMINAL = frozenset({"complete", "failed", "lost"})


def _is_parent(job: Json) -> bool:
    """Periodic and parameterized jobs only launch children; they never place allocs."""
    return bool(job.get("Periodic") or job.get("ParameterizedJob")) and not job.get("Dispatched")


def job_summary(
    job: Json,
    allocs: list[Json],
    *,
    children: Json | None = None,
    create_index: int,
    modify_index: int,
) -> Json:
    """GET /v1/job/:id/summary, derived from the job's current allocations."""
    groups: dict[str, Json] = {
        tg["Name"]: {
            "Queued": 0,
            "Complete": 0,
            "Failed": 0,
            "Running": 0,
            "Starting": 0,
            "Lost": 0,
            "Unknown": 0,
        }
        for tg in job["TaskGroups"]
    }
    active: dict[str, int] = dict.fromkeys(groups, 0)
    for alloc in allocs:
        group = alloc.get("TaskGroup", "")
        if group not in groups:
            continue  # a group removed by a later job version no longer has a summary
        status = alloc.get("ClientStatus", "pending")
        if status in _SUMMARY_KEY:
            groups[group][_SUMMARY_KEY[status]] += 1
        # A finished batch alloc still satisfies its slot; a finished service alloc does not.
        done_ok = job["Type"] in ("batch", "sysbatch") and status == "complete"
        if alloc.get("DesiredStatus") == "run" and (status not in _TERMINAL or done_ok):
            active[group] += 1
    # Queued is what the scheduler still owes; system jobs size per node, so none is "owed".
    if not job.get("Stop") and not _is_parent(job) and job["Type"] in ("service", "batch"):
        for tg in job["TaskGroups"]:
            groups[tg["Name"]]["Queued"] = max(0, int(tg["Count"]) - active[tg["Name"]])
    return {
        "JobID": job["ID"],
        "Namespace": job["Namespace"],
        "Summary": groups,
        "Children": dict(children) if children else {"Pending": 0, "Running": 0, "Dead": 0},
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
    }


def job_stub(job: Json, summary: Json, *, meta: bool = False) -> Json:
    """JobListStub for GET /v1/jobs; Periodic/ParameterizedJob collapse to booleans."""
    # Bookkeeping fields fall back to Nomad's zero values so a half-built stored job still
    # lists (a 500 on /v1/jobs would hide every other job).
    stub: Json = {
        "ID": job["ID"],
        "ParentID": job.get("ParentID", ""),
        "Name": job.get("Name") or job["ID"],
        "Namespace": job.get("Namespace", "default"),
        "Datacenters": list(job.get("Datacenters") or ["*"]),
        "NodePool": job.get("NodePool", "default"),
        "Multiregion": copy.deepcopy(job.get("Multiregion")),
        "Type": job.get("Type", "service"),
        "Priority": job.get("Priority", 50),
        "Periodic": job.get("Periodic") is not None,
        "ParameterizedJob": job.get("ParameterizedJob") is not None
        and not job.get("Dispatched", False),
        "Stop": job.get("Stop", False),
        "Status": job.get("Status", "pending"),
        "StatusDescription": job.get("StatusDescription", ""),
        "JobSummary": copy.deepcopy(summary),
        "CreateIndex": job.get("CreateIndex", 0),
        "ModifyIndex": job.get("ModifyIndex", 0),
        "JobModifyIndex": job.get("JobModifyIndex", 0),
        "SubmitTime": job.get("SubmitTime", 0),
    }
    if meta:
        stub["Meta"] = copy.deepcopy(job.get("Meta"))
    return stub


def job_versions_body(versions: list[Json], diffs: list[Json] | None, index: int) -> Json:
    """GET /v1/job/:id/versions: an object, not a bare list; Diffs null unless asked for."""
    return {
        "Diffs": copy.deepcopy(diffs) if diffs is not None else None,
        "Index": index,
        "KnownLeader": True,
        "LastContact": 0,
        "Versions": copy.deepcopy(versions),
    }


def job_submission(
    job: Json, *, source: str, fmt: str = "hcl2", variable_flags: Json | None = None
) -> Json:
    """GET /v1/job/:id/submission. VariableFlags is a nil map (null) when no -var was given."""
    return {
        "Format": fmt,
        "JobIndex": job["JobModifyIndex"],
        "JobID": job["ID"],
        "Namespace": job["Namespace"],
        "Source": source,
        "VariableFlags": dict(variable_flags) if variable_flags is not None else None,
        "Variables": "",
        "Version": job["Version"],
    }


def scaling_event(
    *,
    count: int | None,
    previous_count: int,
    message: str,
    time_ns: int,
    create_index: int,
    eval_id: str | None = None,
    error: bool = False,
    meta: Json | None = None,
) -> Json:
    """One entry of a group's scaling Events, newest first in the scale status."""
    return {
        "Count": count,
        "PreviousCount": previous_count,
        "Error": error,
        "Message": message,
        "Meta": copy.deepcopy(meta),
        "EvalID": eval_id,
        "Time": time_ns,
        "CreateIndex": create_index,
    }


def job_scale_status(
    job: Json,
    allocs: list[Json],
    *,
    deployment: Json | None = None,
    events: Mapping[str, list[Json]] | None = None,
) -> Json:
    """GET /v1/job/:id/scale. Like Nomad, Placed/Healthy/Unhealthy come from the latest
    deployment and Running from non-terminal, non-canary allocs."""
    groups: dict[str, Json] = {}
    deploy_groups: dict[str, Any] = (deployment or {}).get("TaskGroups") or {}
    for tg in job["TaskGroups"]:
        state = deploy_groups.get(tg["Name"]) or {}
        group_events = (events or {}).get(tg["Name"])
        groups[tg["Name"]] = {
            "Desired": tg["Count"],
            "Events": copy.deepcopy(group_events) if group_events else None,
            "Healthy": state.get("HealthyAllocs", 0),
            "Placed": state.get("PlacedAllocs", 0),
            "Running": 0,
            "Unhealthy": state.get("UnhealthyAllocs", 0),
        }
    for alloc in allocs:
        if (alloc.get("DeploymentStatus") or {}).get("Canary"):
            continue
        if alloc.get("DesiredStatus") != "run" or alloc.get("ClientStatus") in _TERMINAL:
            continue
        group = groups.get(alloc.get("TaskGroup", ""))
        if group is not None and alloc.get("ClientStatus") == "running":
            group["Running"] += 1
    return {
        "JobCreateIndex": job["CreateIndex"],
        "JobID": job["ID"],
        "Namespace": job["Namespace"],
        "JobModifyIndex": job["JobModifyIndex"],
        "JobStopped": job["Stop"],
        "TaskGroups": groups,
    }


def register_response(
    eval_id: str,
    eval_create_index: int,
    job_modify_index: int,
    index: int,
    warnings: str = "",
) -> Json:
    """Register/update/stop/revert/evaluate/scale all answer with JobRegisterResponse.
    EvalID is "" and EvalCreateIndex 0 when no evaluation was created (e.g. parameterized)."""
    return {
        "EvalID": eval_id,
        "EvalCreateIndex": eval_create_index,
        "JobModifyIndex": job_modify_index,
        "Warnings": warnings,
        "Index": index,
        "LastContact": 0,
        "KnownLeader": False,
    }


def dispatch_response(
    *,
    dispatched_job_id: str,
    eval_id: str,
    eval_create_index: int,
    job_create_index: int,
    index: int,
) -> Json:
    return {
        "Index": index,
        "JobCreateIndex": job_create_index,
        "EvalCreateIndex": eval_create_index,
        "EvalID": eval_id,
        "DispatchedJobID": dispatched_job_id,
    }


def periodic_force_response(*, eval_id: str, eval_create_index: int, index: int) -> Json:
    return {"EvalCreateIndex": eval_create_index, "EvalID": eval_id, "Index": index}


def stable_response(*, job_modify_index: int, index: int) -> Json:
    return {"JobModifyIndex": job_modify_index, "Index": index}
