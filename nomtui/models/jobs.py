"""Job list stubs as `GET /v1/jobs` returns them (PROTOCOLS.md §1.5).

The rules of `nomtui.models.base` apply (API field names, defaults everywhere but `ID`,
unknown fields ignored, nil containers as `None`); the helper properties hide the `None`s
from callers.
"""

from __future__ import annotations

from nomtui.models.base import Model


class TaskGroupSummary(Model, frozen=True):
    """Allocation counts of one task group, by client status."""

    Queued: int = 0
    Starting: int = 0
    Running: int = 0
    Complete: int = 0
    Failed: int = 0
    Lost: int = 0
    Unknown: int = 0


class JobChildrenSummary(Model, frozen=True):
    """Counts of child jobs, for periodic and parameterized parents."""

    Pending: int = 0
    Running: int = 0
    Dead: int = 0


class JobSummary(Model, frozen=True):
    JobID: str = ""
    Namespace: str = "default"
    Summary: dict[str, TaskGroupSummary] | None = None
    Children: JobChildrenSummary | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0


# `JobStub` has a field called `JobSummary`; inside its class body that name would
# shadow the type, so the annotation goes through an alias.
_JobSummary = JobSummary


class AllocCounts(Model, frozen=True):
    """What the jobs table shows in its Allocs column."""

    running: int = 0
    pending: int = 0
    failed: int = 0


class JobStub(Model, frozen=True):
    ID: str
    Name: str = ""
    Namespace: str = "default"
    Type: str = ""
    Status: str = ""
    StatusDescription: str = ""
    Priority: int = 0
    Periodic: bool = False
    ParameterizedJob: bool = False
    ParentID: str = ""
    Stop: bool = False
    SubmitTime: int = 0
    """Unix nanoseconds."""
    Datacenters: tuple[str, ...] | None = None
    JobSummary: _JobSummary | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0
    JobModifyIndex: int = 0
    Meta: dict[str, str] | None = None
    """Only sent with `meta=true`."""

    @property
    def key(self) -> str:
        """Unique across namespaces; the namespace cannot contain `/`, the ID can."""
        return f"{self.Namespace}/{self.ID}"

    @property
    def groups(self) -> dict[str, TaskGroupSummary]:
        if self.JobSummary is None or self.JobSummary.Summary is None:
            return {}
        return self.JobSummary.Summary

    @property
    def children(self) -> JobChildrenSummary:
        if self.JobSummary is None or self.JobSummary.Children is None:
            return JobChildrenSummary()
        return self.JobSummary.Children

    @property
    def groups_running(self) -> int:
        """Task groups with at least one running allocation."""
        return sum(1 for g in self.groups.values() if g.Running > 0)

    @property
    def allocs(self) -> AllocCounts:
        groups = self.groups.values()
        return AllocCounts(
            running=sum(g.Running for g in groups),
            pending=sum(g.Queued + g.Starting for g in groups),
            failed=sum(g.Failed + g.Lost for g in groups),
        )

    @property
    def kind(self) -> str:
        """`Type` plus what makes the job a template for others (`batch/periodic`)."""
        if self.Periodic:
            return f"{self.Type}/periodic"
        if self.ParameterizedJob:
            return f"{self.Type}/param"
        return self.Type


JobStubs = list[JobStub]

__all__ = [
    "AllocCounts",
    "JobChildrenSummary",
    "JobStub",
    "JobStubs",
    "JobSummary",
    "TaskGroupSummary",
]
