"""msgspec Structs decoded from Nomad/Consul API JSON; no I/O here."""

from nomtui.models.cluster import AgentSelf
from nomtui.models.jobs import (
    AllocCounts,
    JobChildrenSummary,
    JobStub,
    JobSummary,
    TaskGroupSummary,
)

__all__ = [
    "AgentSelf",
    "AllocCounts",
    "JobChildrenSummary",
    "JobStub",
    "JobSummary",
    "TaskGroupSummary",
]
