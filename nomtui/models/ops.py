"""Operator views shared by Nomad and Consul: raft peers, autopilot health, telemetry.

Both products build these answers from the same HashiCorp libraries (raft, autopilot,
go-metrics), so one model serves both.
"""

from __future__ import annotations

from nomtui.models.base import Model


class RaftServer(Model, frozen=True):
    ID: str = ""
    Node: str = ""
    Address: str = ""
    Leader: bool = False
    Voter: bool = False
    RaftProtocol: str = ""


class RaftConfiguration(Model, frozen=True):
    """`GET /v1/operator/raft/configuration`."""

    Index: int = 0
    Servers: list[RaftServer] | None = None

    @property
    def leader(self) -> RaftServer | None:
        return next((s for s in self.Servers or () if s.Leader), None)


class AutopilotServer(Model, frozen=True):
    ID: str = ""
    Name: str = ""
    Address: str = ""
    SerfStatus: str = ""
    Version: str = ""
    Leader: bool = False
    Voter: bool = False
    Healthy: bool = False
    LastContact: str = ""
    """A Go duration string (`54.653679ms`), not a number."""
    LastTerm: int = 0
    LastIndex: int = 0
    StableSince: str | None = None


class AutopilotHealth(Model, frozen=True):
    """`GET /v1/operator/autopilot/health`."""

    Healthy: bool = False
    FailureTolerance: int = 0
    Servers: list[AutopilotServer] | None = None


class GaugeValue(Model, frozen=True):
    Name: str = ""
    Value: float = 0.0
    Labels: dict[str, str] | None = None


class PointValue(Model, frozen=True):
    Name: str = ""
    Points: list[float] | None = None


class SampledValue(Model, frozen=True):
    """A counter or a timer sample aggregated over the current interval."""

    Name: str = ""
    Count: int = 0
    Rate: float = 0.0
    Sum: float = 0.0
    Min: float = 0.0
    Max: float = 0.0
    Mean: float = 0.0
    Stddev: float = 0.0
    Labels: dict[str, str] | None = None


class MetricsSummary(Model, frozen=True):
    """`GET /v1/metrics` (Nomad) and `/v1/agent/metrics` (Consul)."""

    Timestamp: str = ""
    """Go's `time.String()` form (`2018-01-24 09:13:00 +0000 UTC`), not RFC 3339."""
    Gauges: list[GaugeValue] | None = None
    Points: list[PointValue] | None = None
    Counters: list[SampledValue] | None = None
    Samples: list[SampledValue] | None = None

    def gauge(self, name: str) -> float | None:
        return next((g.Value for g in self.Gauges or () if g.Name == name), None)


__all__ = [
    "AutopilotHealth",
    "AutopilotServer",
    "GaugeValue",
    "MetricsSummary",
    "PointValue",
    "RaftConfiguration",
    "RaftServer",
    "SampledValue",
]
