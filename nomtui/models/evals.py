"""Evaluations (PROTOCOLS.md §9): why the scheduler did or did not place allocations."""

from __future__ import annotations

from datetime import datetime

from nomtui.models.allocs import AllocMetric
from nomtui.models.base import Model, ns_to_datetime


class Evaluation(Model, frozen=True):
    ID: str = ""
    Namespace: str = "default"
    Priority: int = 0
    Type: str = ""
    TriggeredBy: str = ""
    """`job-register`, `node-update`, `deployment-watcher`, `queued-allocs`..."""
    JobID: str = ""
    JobModifyIndex: int = 0
    NodeID: str = ""
    NodeModifyIndex: int = 0
    DeploymentID: str = ""
    Status: str = ""
    """`blocked`, `pending`, `complete`, `failed` or `canceled`."""
    StatusDescription: str = ""
    Wait: int = 0
    WaitUntil: str | None = None
    NextEval: str = ""
    PreviousEval: str = ""
    BlockedEval: str = ""
    FailedTGAllocs: dict[str, AllocMetric] | None = None
    """Per task group: why placements failed (the "could not place" explanation)."""
    ClassEligibility: dict[str, bool] | None = None
    QueuedAllocations: dict[str, int] | None = None
    SnapshotIndex: int = 0
    RelatedEvals: list[Evaluation] | None = None
    """Only with `related=true`; the related evaluations are stubs."""
    CreateIndex: int = 0
    ModifyIndex: int = 0
    CreateTime: int = 0
    """Unix nanoseconds; 0 from agents before 0.9, which did not record it."""
    ModifyTime: int = 0

    @property
    def short_id(self) -> str:
        return self.ID[:8]

    @property
    def created(self) -> datetime | None:
        return ns_to_datetime(self.CreateTime)

    @property
    def failed_groups(self) -> dict[str, AllocMetric]:
        return self.FailedTGAllocs or {}


__all__ = ["Evaluation"]
