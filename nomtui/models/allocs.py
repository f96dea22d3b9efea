"""Allocations: list stubs, full objects, task states and task events (PROTOCOLS.md §1.5, §9).

`GET /v1/allocations` and `/v1/job/:id/allocations` return `AllocStub`s (with
`task_states=false` the `TaskStates` field is missing and stays None);
`GET /v1/allocation/:id` and `/v1/node/:id/allocations` return full `Allocation`s with
the embedded `Job`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from nomtui.models.base import Model, decode, ns_to_datetime, parse_time
from nomtui.models.job_spec import Job
from nomtui.models.resources import AllocatedResources, Resources

# `Allocation` has fields named like these types; inside its class body the field names
# would shadow them for later annotations, so those go through aliases.
_Resources = Resources

TERMINAL_CLIENT_STATUSES = frozenset({"complete", "failed", "lost"})


class TaskEvent(Model, frozen=True):
    """One of the last 10 events of a task (`Received`, `Started`, `Terminated`...)."""

    Type: str = ""
    Time: int = 0
    """Unix nanoseconds."""
    DisplayMessage: str = ""
    """Human text; agents before 0.8 do not send it (see `message`)."""
    Message: str = ""
    Details: dict[str, str] | None = None
    FailsTask: bool = False
    RestartReason: str = ""
    SetupError: str = ""
    DriverError: str = ""
    DriverMessage: str = ""
    DownloadError: str = ""
    ValidationError: str = ""
    KillError: str = ""
    KillReason: str = ""
    KillTimeout: int = 0
    ExitCode: int = 0
    Signal: int = 0
    StartDelay: int = 0
    FailedSibling: str = ""
    TaskSignal: str = ""
    TaskSignalReason: str = ""
    GenericSource: str = ""

    @property
    def time(self) -> datetime | None:
        return ns_to_datetime(self.Time)

    @property
    def message(self) -> str:
        """What to show for the event: `DisplayMessage`, else the first detail that is set."""
        for text in (
            self.DisplayMessage,
            self.Message,
            self.DriverError,
            self.SetupError,
            self.DownloadError,
            self.ValidationError,
            self.KillError,
            self.KillReason,
            self.RestartReason,
            self.DriverMessage,
        ):
            if text:
                return text
        if self.Type == "Terminated":
            return f"Exit Code: {self.ExitCode}"
        return ""


_NULL = msgspec.Raw(b"null")


class TaskState(Model, frozen=True):
    """State of one task of an allocation.

    The times are RFC 3339 strings as the agent sent them: real agents send Go's zero time
    `0001-01-01T00:00:00Z`, `null` (newer servers), or timestamps with offsets such as
    `+01:00`. They stay strings so decoding never fails on a format; the properties parse.

    `Events` (up to 10 per task, most of an allocation list's bytes) is kept as the raw
    JSON text and decoded by `events` when a detail view asks. Decoding them eagerly made
    10,000 stubs take ~105 ms instead of ~47 ms (bench/decode.py), and a malformed event
    now fails only the view that reads it, not the whole list. The raw text is a view into
    the response buffer, which therefore lives as long as any stub decoded from it.
    """

    State: str = ""
    """`pending`, `running` or `dead`."""
    Failed: bool = False
    Restarts: int = 0
    StartedAt: str | None = None
    FinishedAt: str | None = None
    LastRestart: str | None = None
    Events: msgspec.Raw = _NULL
    """JSON array of `TaskEvent` (or `null`); read `events`."""

    @property
    def events(self) -> list[TaskEvent]:
        """The task's events, oldest first; raises `ModelError` if they are malformed."""
        if self.Events == _NULL:
            return []
        return decode(list[TaskEvent], self.Events)

    @staticmethod
    def raw_events(events: list[TaskEvent]) -> msgspec.Raw:
        """`Events` for a state built in code (tests, fixtures): `TaskState(Events=...)`."""
        return msgspec.Raw(msgspec.json.encode(events))

    @property
    def started(self) -> datetime | None:
        return parse_time(self.StartedAt)

    @property
    def finished(self) -> datetime | None:
        return parse_time(self.FinishedAt)

    @property
    def last_restart(self) -> datetime | None:
        return parse_time(self.LastRestart)

    @property
    def last_event(self) -> TaskEvent | None:
        events = self.events
        return events[-1] if events else None


class DeploymentStatus(Model, frozen=True):
    """Health of an allocation within its deployment; `Healthy` is None until decided."""

    Healthy: bool | None = None
    Timestamp: str | None = None
    """RFC 3339, may carry an offset (`+01:00`)."""
    Canary: bool = False
    ModifyIndex: int = 0


class DesiredTransition(Model, frozen=True):
    Migrate: bool | None = None
    Reschedule: bool | None = None
    ForceReschedule: bool | None = None
    NoShutdownDelay: bool | None = None


class RescheduleEvent(Model, frozen=True):
    RescheduleTime: int = 0
    PrevAllocID: str = ""
    PrevNodeID: str = ""
    Delay: int | str = 0
    """Nanoseconds; the docs' "Read Allocation" sample has it as a string, so both decode."""


class RescheduleTracker(Model, frozen=True):
    Events: list[RescheduleEvent] | None = None


class NodeScoreMeta(Model, frozen=True):
    NodeID: str = ""
    Scores: dict[str, float] | None = None
    NormScore: float = 0.0


class AllocMetric(Model, frozen=True):
    """Why the scheduler placed (or could not place) allocations; also `FailedTGAllocs`."""

    NodesEvaluated: int = 0
    NodesFiltered: int = 0
    NodesInPool: int = 0
    NodesAvailable: dict[str, int] | None = None
    ClassFiltered: dict[str, int] | None = None
    ConstraintFiltered: dict[str, int] | None = None
    NodesExhausted: int = 0
    ClassExhausted: dict[str, int] | None = None
    DimensionExhausted: dict[str, int] | None = None
    QuotaExhausted: list[str] | None = None
    ResourcesExhausted: dict[str, Any] | None = None
    Scores: dict[str, float] | None = None
    ScoreMetaData: list[NodeScoreMeta] | None = None
    AllocationTime: int = 0
    CoalescedFailures: int = 0


class NetworkStatus(Model, frozen=True):
    InterfaceName: str = ""
    Address: str = ""
    DNS: dict[str, Any] | None = None


class AllocStub(Model, frozen=True):
    """A row of an allocation list (`AllocationListStub`)."""

    ID: str = ""
    EvalID: str = ""
    Name: str = ""
    """`<job>.<group>[<index>]`."""
    Namespace: str = "default"
    NodeID: str = ""
    NodeName: str = ""
    JobID: str = ""
    JobType: str = ""
    JobVersion: int = 0
    TaskGroup: str = ""
    DesiredStatus: str = ""
    """`run`, `stop` or `evict`."""
    DesiredDescription: str = ""
    DesiredTransition: DesiredTransition | None = None
    ClientStatus: str = ""
    """`pending`, `running`, `complete`, `failed`, `lost` or `unknown`."""
    ClientDescription: str = ""
    TaskStates: dict[str, TaskState] | None = None
    DeploymentStatus: DeploymentStatus | None = None
    AllocatedResources: AllocatedResources | None = None
    """Only with `resources=true` on list endpoints."""
    FollowupEvalID: str = ""
    NextAllocation: str = ""
    PreviousAllocation: str = ""
    RescheduleTracker: RescheduleTracker | None = None
    PreemptedAllocations: list[str] | None = None
    PreemptedByAllocation: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0
    CreateTime: int = 0
    """Unix nanoseconds."""
    ModifyTime: int = 0

    @property
    def short_id(self) -> str:
        return self.ID[:8]

    @property
    def job_version(self) -> int:
        return self.JobVersion

    @property
    def job_type(self) -> str:
        return self.JobType

    @property
    def is_terminal(self) -> bool:
        """The allocation will not run again (its client status is final)."""
        return self.ClientStatus in TERMINAL_CLIENT_STATUSES

    @property
    def healthy(self) -> bool | None:
        return self.DeploymentStatus.Healthy if self.DeploymentStatus else None

    @property
    def is_canary(self) -> bool:
        return self.DeploymentStatus is not None and self.DeploymentStatus.Canary

    @property
    def tasks(self) -> dict[str, TaskState]:
        return self.TaskStates or {}

    @property
    def restarts(self) -> int:
        return sum(state.Restarts for state in self.tasks.values())

    @property
    def created(self) -> datetime | None:
        return ns_to_datetime(self.CreateTime)

    @property
    def modified(self) -> datetime | None:
        return ns_to_datetime(self.ModifyTime)


class Allocation(AllocStub, frozen=True):
    """A full allocation (`GET /v1/allocation/:id`, `/v1/node/:id/allocations`, and the
    event stream's `Allocation` payloads).

    The server sends no `JobType`/`JobVersion` here (it derives them for stubs from the
    embedded job), so those fields stay at their defaults; read `job_type`/`job_version`,
    which take them from `Job`. Event payloads have no `Job` either: there the version
    is unknown (0) and must be kept from an earlier stub.
    """

    Job: Job | None = None
    DeploymentID: str = ""
    Resources: Resources | None = None
    SharedResources: _Resources | None = None
    TaskResources: dict[str, _Resources] | None = None
    Metrics: AllocMetric | None = None
    NetworkStatus: NetworkStatus | None = None
    AllocModifyIndex: int = 0

    @property
    def job_version(self) -> int:
        return self.Job.Version if self.Job is not None else self.JobVersion

    @property
    def job_type(self) -> str:
        return self.Job.Type if self.Job is not None else self.JobType


class AllocStopResponse(Model, frozen=True):
    """Answer of `POST /v1/allocation/:id/stop`."""

    EvalID: str = ""
    Index: int = 0


__all__ = [
    "TERMINAL_CLIENT_STATUSES",
    "AllocMetric",
    "AllocStopResponse",
    "AllocStub",
    "Allocation",
    "DeploymentStatus",
    "DesiredTransition",
    "NetworkStatus",
    "NodeScoreMeta",
    "RescheduleEvent",
    "RescheduleTracker",
    "TaskEvent",
    "TaskState",
]
