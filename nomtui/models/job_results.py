"""Job reads besides the spec (versions and diffs, scale status, submission, actions) and
the answers of job writes (PROTOCOLS.md §1.8).

`GET /v1/job/:id/summary` is `nomtui.models.jobs.JobSummary` (shared with the job list).
"""

from __future__ import annotations

from typing import Any

from nomtui.models.allocs import AllocMetric
from nomtui.models.base import Model
from nomtui.models.evals import Evaluation
from nomtui.models.job_spec import Job


class FieldDiff(Model, frozen=True):
    Type: str = ""
    """`Added`, `Deleted`, `Edited` or `None`."""
    Name: str = ""
    Old: str = ""
    New: str = ""
    Annotations: list[str] | None = None


class ObjectDiff(Model, frozen=True):
    Type: str = ""
    Name: str = ""
    Fields: list[FieldDiff] | None = None
    Objects: list[ObjectDiff] | None = None


class TaskDiff(Model, frozen=True):
    Type: str = ""
    Name: str = ""
    Fields: list[FieldDiff] | None = None
    Objects: list[ObjectDiff] | None = None
    Annotations: list[str] | None = None


class TaskGroupDiff(Model, frozen=True):
    Type: str = ""
    Name: str = ""
    Fields: list[FieldDiff] | None = None
    Objects: list[ObjectDiff] | None = None
    Tasks: list[TaskDiff] | None = None
    Updates: dict[str, int] | None = None
    """Planned changes by kind (`create`, `destroy`, `in-place update`...)."""


class JobDiff(Model, frozen=True):
    Type: str = ""
    ID: str = ""
    Fields: list[FieldDiff] | None = None
    Objects: list[ObjectDiff] | None = None
    TaskGroups: list[TaskGroupDiff] | None = None


class JobVersions(Model, frozen=True):
    """`GET /v1/job/:id/versions`: an object, not a bare list; `Diffs` with `diffs=true`.

    `Diffs[i]` compares `Versions[i]` with `Versions[i+1]` (newest first).
    """

    Versions: list[Job] | None = None
    Diffs: list[JobDiff] | None = None
    Index: int = 0
    KnownLeader: bool = False
    LastContact: int = 0


class ScalingEvent(Model, frozen=True):
    Time: int = 0
    Count: int | None = None
    PreviousCount: int = 0
    Message: str = ""
    Error: bool = False
    Meta: dict[str, Any] | None = None
    EvalID: str | None = None


class TaskGroupScaleStatus(Model, frozen=True):
    Desired: int = 0
    Placed: int = 0
    Running: int = 0
    Healthy: int = 0
    Unhealthy: int = 0
    Events: list[ScalingEvent] | None = None


class JobScaleStatus(Model, frozen=True):
    """`GET /v1/job/:id/scale`."""

    JobID: str = ""
    Namespace: str = "default"
    JobCreateIndex: int = 0
    JobModifyIndex: int = 0
    JobStopped: bool = False
    TaskGroups: dict[str, TaskGroupScaleStatus] | None = None


class JobSubmission(Model, frozen=True):
    """`GET /v1/job/:id/submission`: the source the job was submitted as (1.6+)."""

    Source: str = ""
    Format: str = ""
    """`hcl2`, `hcl1` or `json`."""
    VariableFlags: dict[str, str] | None = None
    Variables: str = ""
    Namespace: str = "default"
    JobID: str = ""
    Version: int = 0
    JobIndex: int = 0


class JobAction(Model, frozen=True):
    """An entry of `GET /v1/job/:id/actions` (1.7+)."""

    Name: str = ""
    Command: str = ""
    Args: list[str] | None = None
    TaskName: str = ""
    TaskGroupName: str = ""


class JobRegisterResponse(Model, frozen=True):
    """Answer of register, update, stop (DELETE), revert, evaluate, scale and stable.

    `EvalID` is empty when no evaluation was created (e.g. periodic/parameterized parents,
    `stable`).
    """

    EvalID: str = ""
    EvalCreateIndex: int = 0
    JobModifyIndex: int = 0
    Warnings: str = ""
    Index: int = 0
    KnownLeader: bool = False
    LastContact: int = 0


class JobDispatchResponse(Model, frozen=True):
    DispatchedJobID: str = ""
    EvalID: str = ""
    EvalCreateIndex: int = 0
    JobCreateIndex: int = 0
    Index: int = 0


class PeriodicForceResponse(Model, frozen=True):
    EvalID: str = ""
    EvalCreateIndex: int = 0
    Index: int = 0


class JobVersionTag(Model, frozen=True):
    """Answer of tagging a job version (1.9+)."""

    Name: str = ""
    Description: str = ""
    TaggedTime: int = 0
    Index: int = 0


class DesiredUpdates(Model, frozen=True):
    Ignore: int = 0
    Place: int = 0
    Migrate: int = 0
    Stop: int = 0
    InPlaceUpdate: int = 0
    DestructiveUpdate: int = 0
    Canary: int = 0
    Preemptions: int = 0


class PlanAnnotations(Model, frozen=True):
    DesiredTGUpdates: dict[str, DesiredUpdates] | None = None


class JobPlanResponse(Model, frozen=True):
    """Answer of `PUT /v1/job/:id/plan` (a dry run)."""

    Diff: JobDiff | None = None
    Annotations: PlanAnnotations | None = None
    FailedTGAllocs: dict[str, AllocMetric] | None = None
    CreatedEvals: list[Evaluation] | None = None
    JobModifyIndex: int = 0
    NextPeriodicLaunch: str | None = None
    Warnings: str = ""
    Index: int = 0


__all__ = [
    "DesiredUpdates",
    "FieldDiff",
    "JobAction",
    "JobDiff",
    "JobDispatchResponse",
    "JobPlanResponse",
    "JobRegisterResponse",
    "JobScaleStatus",
    "JobSubmission",
    "JobVersionTag",
    "JobVersions",
    "ObjectDiff",
    "PeriodicForceResponse",
    "PlanAnnotations",
    "ScalingEvent",
    "TaskDiff",
    "TaskGroupDiff",
    "TaskGroupScaleStatus",
]
