"""Deployments and the answers of deployment actions (PROTOCOLS.md §9).

Old agents (0.6) send neither `Namespace` nor `RequireProgressBy`/`AutoPromote`; those
stay at their defaults.
"""

from __future__ import annotations

from datetime import datetime

from nomtui.models.base import Model, parse_time

ACTIVE_DEPLOYMENT_STATUSES = frozenset({"running", "paused", "pending", "blocked", "unblocking"})


class DeploymentGroup(Model, frozen=True):
    """Progress of one task group in a deployment (`DeploymentState`)."""

    DesiredTotal: int = 0
    DesiredCanaries: int = 0
    PlacedCanaries: list[str] | None = None
    PlacedAllocs: int = 0
    HealthyAllocs: int = 0
    UnhealthyAllocs: int = 0
    AutoPromote: bool = False
    AutoRevert: bool = False
    Promoted: bool = False
    ProgressDeadline: int = 0
    """Nanoseconds."""
    RequireProgressBy: str | None = None
    """RFC 3339 with offset; null until the first allocation is placed."""

    @property
    def require_progress_by(self) -> datetime | None:
        return parse_time(self.RequireProgressBy)

    @property
    def needs_promotion(self) -> bool:
        """Canaries are wanted and not yet promoted."""
        return self.DesiredCanaries > 0 and not self.Promoted


class Deployment(Model, frozen=True):
    ID: str = ""
    Namespace: str = "default"
    JobID: str = ""
    JobVersion: int = 0
    JobModifyIndex: int = 0
    JobSpecModifyIndex: int = 0
    JobCreateIndex: int = 0
    IsMultiregion: bool = False
    EvalPriority: int = 0
    Status: str = ""
    """`running`, `paused`, `failed`, `successful`, `cancelled`, `pending`, `blocked`..."""
    StatusDescription: str = ""
    TaskGroups: dict[str, DeploymentGroup] | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0

    @property
    def short_id(self) -> str:
        return self.ID[:8]

    @property
    def is_active(self) -> bool:
        return self.Status in ACTIVE_DEPLOYMENT_STATUSES

    @property
    def groups(self) -> dict[str, DeploymentGroup]:
        return self.TaskGroups or {}

    @property
    def needs_promotion(self) -> bool:
        return self.is_active and any(g.needs_promotion for g in self.groups.values())


class DeploymentUpdateResponse(Model, frozen=True):
    """Answer of promote, fail, pause and allocation-health."""

    EvalID: str = ""
    EvalCreateIndex: int = 0
    DeploymentModifyIndex: int = 0
    RevertedJobVersion: int | None = None
    """Set when failing the deployment rolled the job back (auto-revert)."""
    Index: int = 0


__all__ = [
    "ACTIVE_DEPLOYMENT_STATUSES",
    "Deployment",
    "DeploymentGroup",
    "DeploymentUpdateResponse",
]
