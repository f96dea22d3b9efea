"""Nomad-native service discovery (`provider = "nomad"`) and alloc check results.

Consul-registered services are in `nomtui.models.consul`.
"""

from __future__ import annotations

from nomtui.models.base import Model


class ServiceRegistration(Model, frozen=True):
    """An instance of `GET /v1/service/:name`, `/v1/job/:id/services`,
    `/v1/allocation/:id/services`."""

    ID: str = ""
    """`_nomad-task-<allocID>-<group/task>-<service>-<port label>`."""
    ServiceName: str = ""
    Namespace: str = "default"
    NodeID: str = ""
    Datacenter: str = ""
    JobID: str = ""
    AllocID: str = ""
    Tags: list[str] | None = None
    Address: str = ""
    Port: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0

    @property
    def address(self) -> str:
        """`host:port`, bracketing IPv6 hosts."""
        host = f"[{self.Address}]" if ":" in self.Address else self.Address
        return f"{host}:{self.Port}"


class ServiceStub(Model, frozen=True):
    ServiceName: str = ""
    Tags: list[str] | None = None


class NamespaceServices(Model, frozen=True):
    """An entry of `GET /v1/services`: the services of one namespace."""

    Namespace: str = "default"
    Services: list[ServiceStub] | None = None


class AllocCheckStatus(Model, frozen=True):
    """A value of `GET /v1/allocation/:id/checks` (a map keyed by check ID)."""

    ID: str = ""
    Check: str = ""
    Group: str = ""
    Service: str = ""
    Task: str = ""
    Mode: str = ""
    """`healthiness` or `readiness`."""
    Status: str = ""
    """`success`, `failure` or `pending`."""
    Output: str = ""
    StatusCode: int = 0
    Timestamp: int = 0
    """Unix seconds."""


__all__ = [
    "AllocCheckStatus",
    "NamespaceServices",
    "ServiceRegistration",
    "ServiceStub",
]
