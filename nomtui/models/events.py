"""The Nomad event stream, `GET /v1/event/stream` (PROTOCOLS.md §4).

Each NDJSON line is an `EventBatch`; `{}` is a heartbeat and decodes to `Index == 0`
with no events. An event's `Payload` is an object with one key naming its kind
(`Allocation`, `Job`, `Node`...). It stays untyped on decode, so one odd payload cannot
make a whole batch (and with it the stream) undecodable; the `payload_*` accessors turn
it into a model on demand and raise `ModelError` only for the event asked about.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from nomtui.models.allocs import Allocation
from nomtui.models.base import Model, convert, decode
from nomtui.models.deployments import Deployment
from nomtui.models.evals import Evaluation
from nomtui.models.job_spec import Job
from nomtui.models.nodes import Node
from nomtui.models.services import ServiceRegistration

M = TypeVar("M")


class Event(Model, frozen=True):
    Topic: str = ""
    """`Allocation`, `Job`, `Node`, `Evaluation`, `Deployment`, `Service`..."""
    Type: str = ""
    """`AllocationUpdated`, `JobRegistered`, `NodeRegistration`..."""
    Key: str = ""
    Namespace: str = ""
    FilterKeys: list[str] | None = None
    Index: int = 0
    Payload: dict[str, Any] | None = None

    def _payload(self, kind: str, type_: type[M]) -> M | None:
        raw = (self.Payload or {}).get(kind)
        if raw is None:
            return None
        # Allocations keep task events as raw JSON (see `TaskState`), which
        # `msgspec.convert` cannot produce from parsed data, so those payloads take a
        # round trip through JSON; the others convert directly.
        if type_ is Allocation:
            return decode(type_, msgspec.json.encode(raw))
        return convert(type_, raw)

    def payload_allocation(self) -> Allocation | None:
        """The allocation (a full one, but without `Job`: the stream leaves it out)."""
        return self._payload("Allocation", Allocation)

    def payload_job(self) -> Job | None:
        return self._payload("Job", Job)

    def payload_node(self) -> Node | None:
        return self._payload("Node", Node)

    def payload_evaluation(self) -> Evaluation | None:
        return self._payload("Evaluation", Evaluation)

    def payload_deployment(self) -> Deployment | None:
        return self._payload("Deployment", Deployment)

    def payload_service(self) -> ServiceRegistration | None:
        return self._payload("Service", ServiceRegistration)


class EventBatch(Model, frozen=True):
    """One line of the stream. Resume with `Index + 1` and drop batches already seen."""

    Index: int = 0
    Events: list[Event] = msgspec.field(default_factory=list)

    @property
    def is_heartbeat(self) -> bool:
        return self.Index == 0 and not self.Events


__all__ = ["Event", "EventBatch"]
