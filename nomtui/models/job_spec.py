"""The full job specification as `GET /v1/job/:id`, `/versions` and `/jobs/parse` return it.

Durations (`KillTimeout`, `Interval`, `HealthyDeadline`...) are Go `time.Duration`
values: integer nanoseconds. Only what nomtui shows or acts on is modelled; the rest of a
job decodes into nothing (unknown fields are ignored). Secret-bearing fields of the job
(`VaultToken`, `ConsulToken`) are deliberately not modelled, so they cannot leak through
a repr or a log line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nomtui.models.base import Model, ns_to_datetime
from nomtui.models.resources import NetworkResource, Resources


class Constraint(Model, frozen=True):
    LTarget: str = ""
    RTarget: str = ""
    Operand: str = ""


class Affinity(Model, frozen=True):
    LTarget: str = ""
    RTarget: str = ""
    Operand: str = ""
    Weight: int = 0


class SpreadTarget(Model, frozen=True):
    Value: str = ""
    Percent: int = 0


class Spread(Model, frozen=True):
    Attribute: str = ""
    Weight: int = 0
    SpreadTarget: list[SpreadTarget] | None = None


class RestartPolicy(Model, frozen=True):
    Attempts: int = 0
    Interval: int = 0
    Delay: int = 0
    Mode: str = ""
    RenderTemplates: bool = False


class ReschedulePolicy(Model, frozen=True):
    Attempts: int = 0
    Interval: int = 0
    Delay: int = 0
    DelayFunction: str = ""
    MaxDelay: int = 0
    Unlimited: bool = False


class UpdateStrategy(Model, frozen=True):
    Stagger: int = 0
    MaxParallel: int = 0
    HealthCheck: str = ""
    MinHealthyTime: int = 0
    HealthyDeadline: int = 0
    ProgressDeadline: int = 0
    AutoRevert: bool = False
    AutoPromote: bool = False
    Canary: int = 0


class MigrateStrategy(Model, frozen=True):
    MaxParallel: int = 0
    HealthCheck: str = ""
    MinHealthyTime: int = 0
    HealthyDeadline: int = 0


class EphemeralDisk(Model, frozen=True):
    Sticky: bool = False
    SizeMB: int = 0
    Migrate: bool = False


class PeriodicConfig(Model, frozen=True):
    Enabled: bool = False
    Spec: str = ""
    Specs: list[str] | None = None
    SpecType: str = ""
    ProhibitOverlap: bool = False
    TimeZone: str = ""


class ParameterizedJobConfig(Model, frozen=True):
    Payload: str = ""
    """`optional`, `required` or `forbidden`."""
    MetaRequired: list[str] | None = None
    MetaOptional: list[str] | None = None


class ScalingPolicy(Model, frozen=True):
    ID: str = ""
    Type: str = ""
    Min: int | None = None
    Max: int | None = None
    Enabled: bool = False
    Target: dict[str, str] | None = None
    Policy: dict[str, Any] | None = None


class ServiceCheck(Model, frozen=True):
    Name: str = ""
    Type: str = ""
    Command: str = ""
    Args: list[str] | None = None
    Path: str = ""
    Protocol: str = ""
    Method: str = ""
    PortLabel: str = ""
    AddressMode: str = ""
    Interval: int = 0
    Timeout: int = 0
    InitialStatus: str = ""
    TLSSkipVerify: bool = False
    Header: dict[str, list[str]] | None = None
    OnUpdate: str = ""
    TaskName: str = ""
    SuccessBeforePassing: int = 0
    FailuresBeforeCritical: int = 0


class Service(Model, frozen=True):
    """A `service` block, group- or task-level; `Provider` is `consul` or `nomad`."""

    Name: str = ""
    TaskName: str = ""
    PortLabel: str = ""
    AddressMode: str = ""
    Address: str = ""
    Tags: list[str] | None = None
    CanaryTags: list[str] | None = None
    EnableTagOverride: bool = False
    Checks: list[ServiceCheck] | None = None
    Meta: dict[str, str] | None = None
    CanaryMeta: dict[str, str] | None = None
    Namespace: str = ""
    OnUpdate: str = ""
    Provider: str = ""


class TaskLifecycle(Model, frozen=True):
    Hook: str = ""
    """`prestart`, `poststart` or `poststop`."""
    Sidecar: bool = False


class LogConfig(Model, frozen=True):
    MaxFiles: int = 0
    MaxFileSizeMB: int = 0
    Disabled: bool = False


class Template(Model, frozen=True):
    SourcePath: str = ""
    DestPath: str = ""
    EmbeddedTmpl: str = ""
    ChangeMode: str = ""
    ChangeSignal: str = ""
    Splay: int = 0
    Perms: str = ""


class TaskArtifact(Model, frozen=True):
    GetterSource: str = ""
    GetterOptions: dict[str, str] | None = None
    GetterMode: str = ""
    RelativeDest: str = ""


class DispatchPayloadConfig(Model, frozen=True):
    File: str = ""


class Task(Model, frozen=True):
    Name: str = ""
    Driver: str = ""
    User: str = ""
    Config: dict[str, Any] | None = None
    """Driver-specific (`image`, `command`, `args`, `ports`...), free-form by design."""
    Env: dict[str, str] | None = None
    Services: list[Service] | None = None
    Resources: Resources | None = None
    RestartPolicy: RestartPolicy | None = None
    Lifecycle: TaskLifecycle | None = None
    LogConfig: LogConfig | None = None
    Templates: list[Template] | None = None
    Artifacts: list[TaskArtifact] | None = None
    DispatchPayload: DispatchPayloadConfig | None = None
    Constraints: list[Constraint] | None = None
    Affinities: list[Affinity] | None = None
    Meta: dict[str, str] | None = None
    KillTimeout: int = 0
    KillSignal: str = ""
    ShutdownDelay: int = 0
    Leader: bool = False
    Kind: str = ""

    @property
    def image(self) -> str:
        """The container image for docker/podman tasks, else ``""``."""
        value = (self.Config or {}).get("image", "")
        return value if isinstance(value, str) else ""

    @property
    def is_sidecar_or_hook(self) -> bool:
        """True for prestart/poststart/poststop tasks (the `kv` helpers, log shippers)."""
        return self.Lifecycle is not None and bool(self.Lifecycle.Hook)


class TaskGroup(Model, frozen=True):
    Name: str = ""
    Count: int = 0
    Tasks: list[Task] | None = None
    Services: list[Service] | None = None
    Networks: list[NetworkResource] | None = None
    Constraints: list[Constraint] | None = None
    Affinities: list[Affinity] | None = None
    Spreads: list[Spread] | None = None
    RestartPolicy: RestartPolicy | None = None
    ReschedulePolicy: ReschedulePolicy | None = None
    EphemeralDisk: EphemeralDisk | None = None
    Update: UpdateStrategy | None = None
    Migrate: MigrateStrategy | None = None
    Scaling: ScalingPolicy | None = None
    Meta: dict[str, str] | None = None
    ShutdownDelay: int | None = None
    StopAfterClientDisconnect: int | None = None
    MaxClientDisconnect: int | None = None

    def task(self, name: str) -> Task | None:
        return next((t for t in self.Tasks or () if t.Name == name), None)

    @property
    def all_services(self) -> list[Service]:
        """Group-level services, then task-level ones, in spec order."""
        found = list(self.Services or ())
        for task in self.Tasks or ():
            found.extend(task.Services or ())
        return found


class Job(Model, frozen=True):
    ID: str = ""
    Name: str = ""
    Namespace: str = "default"
    Region: str = ""
    Type: str = ""
    """`service`, `batch`, `system` or `sysbatch`."""
    Priority: int = 0
    AllAtOnce: bool = False
    Datacenters: list[str] | None = None
    NodePool: str = ""
    ParentID: str = ""
    Status: str = ""
    StatusDescription: str = ""
    Version: int = 0
    Stable: bool = False
    Stop: bool = False
    Dispatched: bool = False
    Periodic: PeriodicConfig | None = None
    ParameterizedJob: ParameterizedJobConfig | None = None
    Payload: bytes | None = None
    """The dispatch payload (base64 in JSON, decoded here)."""
    Meta: dict[str, str] | None = None
    TaskGroups: list[TaskGroup] | None = None
    Update: UpdateStrategy | None = None
    Constraints: list[Constraint] | None = None
    Affinities: list[Affinity] | None = None
    Spreads: list[Spread] | None = None
    ConsulNamespace: str = ""
    VaultNamespace: str = ""
    SubmitTime: int | None = None
    """Unix nanoseconds; `null` from `/v1/jobs/parse`, which never submitted anything."""
    CreateIndex: int = 0
    ModifyIndex: int = 0
    JobModifyIndex: int = 0

    @property
    def key(self) -> str:
        """Unique across namespaces (the same form as `JobStub.key`)."""
        return f"{self.Namespace}/{self.ID}"

    @property
    def is_periodic(self) -> bool:
        return self.Periodic is not None and self.Periodic.Enabled

    @property
    def is_parameterized(self) -> bool:
        return self.ParameterizedJob is not None

    @property
    def submitted(self) -> datetime | None:
        """`SubmitTime` as an aware datetime, or None."""
        return ns_to_datetime(self.SubmitTime)

    def group(self, name: str) -> TaskGroup | None:
        return next((g for g in self.TaskGroups or () if g.Name == name), None)


__all__ = [
    "Affinity",
    "Constraint",
    "DispatchPayloadConfig",
    "EphemeralDisk",
    "Job",
    "LogConfig",
    "MigrateStrategy",
    "ParameterizedJobConfig",
    "PeriodicConfig",
    "ReschedulePolicy",
    "RestartPolicy",
    "ScalingPolicy",
    "Service",
    "ServiceCheck",
    "Spread",
    "SpreadTarget",
    "Task",
    "TaskArtifact",
    "TaskGroup",
    "TaskLifecycle",
    "Template",
    "UpdateStrategy",
]
