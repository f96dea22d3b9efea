"""nomtui must read every real agent response in shared/real-responses (see SOURCES.md).

Each file goes through the typed model of its endpoint; nothing is decoded as bare
`Any`. The bodies are read from the shared folder, never copied into the project.
"""

from __future__ import annotations

import json
import re
from types import FunctionType
from typing import Any

import pytest

from nomtui.models.allocs import Allocation, AllocStub
from nomtui.models.cluster import AgentHealth, AgentMembers, AgentSelf, Namespace
from nomtui.models.consul import (
    CatalogServices,
    ConsulAgentSelf,
    ConsulCatalogNode,
    ConsulCheck,
    ConsulMember,
    ConsulNode,
    CoordinateEntry,
    HealthEntry,
)
from nomtui.models.deployments import Deployment
from nomtui.models.evals import Evaluation
from nomtui.models.events import EventBatch
from nomtui.models.job_spec import Job
from nomtui.models.jobs import JobStub
from nomtui.models.nodes import Node, NodeStub
from nomtui.models.ops import AutopilotHealth, MetricsSummary, RaftConfiguration
from nomtui.models.services import NamespaceServices, ServiceRegistration
from nomtui.models.stats import AllocStats, NodeStats
from tests.unit import test_models_examples as examples
from tests.unit.models_support import API, REAL, FieldsSeen, decode_file, require

REAL_TYPES: dict[str, Any] = {
    "criteo__consul-templaterb__consul-0.9.3_agent_self.json": ConsulAgentSelf,
    "criteo__consul-templaterb__consul-1.5.1_agent_members.json": list[ConsulMember],
    "criteo__consul-templaterb__consul_agent_metrics.json": MetricsSummary,
    "criteo__consul-templaterb__consul_catalog_node.json": ConsulCatalogNode,
    "criteo__consul-templaterb__consul_catalog_nodes.json": list[ConsulNode],
    "criteo__consul-templaterb__consul_coordinate_nodes.json": list[CoordinateEntry],
    "criteo__consul-templaterb__consul_health_checks.json": list[ConsulCheck],
    "criteo__consul-templaterb__consul_health_node.json": list[ConsulCheck],
    "criteo__consul-templaterb__consul_health_service.json": list[HealthEntry],
    "criteo__consul-templaterb__consul_health_state_critical.json": list[ConsulCheck],
    "d3sw__nomex__nomad-0.7.0_agent_health.json": AgentHealth,
    "d3sw__nomex__nomad-0.7.0_agent_members.json": AgentMembers,
    "d3sw__nomex__nomad-0.7.0_agent_self.json": AgentSelf,
    "d3sw__nomex__nomad-0.7.0_client_stats.json": NodeStats,
    "d3sw__nomex__nomad-0.7.0_metrics.json": MetricsSummary,
    "d3sw__nomex__nomad-0.7.0_nodes_list.json": list[NodeStub],
    "d3sw__nomex__nomad-0.7.0_operator_raft_configuration.json": RaftConfiguration,
    "hashicorp__nomad-autoscaler__nomad-1.0_node_allocations_complete.json": list[Allocation],
    "hashicorp__nomad-autoscaler__nomad-1.0_node_allocations_running.json": list[Allocation],
    "hashicorp__nomad__consul-1.9.5-ent_agent_self.json": ConsulAgentSelf,
    "hashicorp__nomad__consul-1.9.5_agent_self.json": ConsulAgentSelf,
    "hashicorp__nomad__docs-nomad-0.6_alloc_stats.json": AllocStats,
    "hashicorp__nomad__docs-nomad-0.6_deployment_detail.json": Deployment,
    "hashicorp__nomad__docs-nomad-0.6_evaluations_list.json": list[Evaluation],
    "hashicorp__nomad__docs-nomad-0.6_job_deployments_list.json": list[Deployment],
    "hashicorp__nomad__docs-nomad-0.8.0_node_allocations.json": list[Allocation],
    "hashicorp__nomad__docs-nomad-0.8.0_nodes_list.json": list[NodeStub],
    "hashicorp__nomad__docs-nomad-1.0-dev_event_stream_node_registration.json": EventBatch,
    "hashicorp__nomad__docs-nomad-1.1.0_node_detail.json": Node,
    "hashicorp__nomad__docs-nomad-1.2_allocations_list.json": list[AllocStub],
    "hashicorp__nomad__docs-nomad-1.3_evaluation_detail.json": Evaluation,
    "hashicorp__nomad__docs-nomad-ent_namespaces_list.json": list[Namespace],
    "netdata__go.d.plugin__consul-1.13.2_agent_checks.json": dict[str, ConsulCheck],
    "netdata__go.d.plugin__consul-1.13.2_operator_autopilot_health.json": AutopilotHealth,
    "netdata__go.d.plugin__consul-1.14.3-ent_agent_self_trimmed.json": ConsulAgentSelf,
    "netdata__go.d.plugin__consul-1.14.3-ent_coordinate_nodes.json": list[CoordinateEntry],
    "silas__node-consul__consul-0.3_agent_members.json": list[ConsulMember],
    "silas__node-consul__consul-0.3_catalog_nodes.json": list[ConsulNode],
    "silas__node-consul__consul-0.3_catalog_services.json": CatalogServices,
    "silas__node-consul__consul-0.3_health_service.json": list[HealthEntry],
    "silas__node-consul__consul-0.3_health_state.json": list[ConsulCheck],
    "traefik__traefik__nomad-1.7_job_detail_group_and_task_services.json": Job,
    "traefik__traefik__nomad-1.7_job_detail_group_service.json": Job,
    "traefik__traefik__nomad-1.7_job_detail_stopped.json": Job,
    "traefik__traefik__nomad-1.7_jobs_list.json": list[JobStub],
    "traefik__traefik__nomad-1.7_service_registrations.json": list[ServiceRegistration],
    "traefik__traefik__nomad-1.7_services_list.json": list[NamespaceServices],
}


@pytest.mark.parametrize("name", sorted(REAL_TYPES))
def test_real_response_decodes(name: str) -> None:
    decode_file(REAL_TYPES[name], require(REAL) / name)


def test_every_real_response_is_mapped_and_listed() -> None:
    root = require(REAL)
    on_disk = {p.name for p in root.glob("*.json")}
    assert on_disk - set(REAL_TYPES) == set(), "every real response needs a model"
    assert set(REAL_TYPES) - on_disk == set(), "mapped files missing from the folder"
    listed = set(re.findall(r"^\| (\S+\.json) \|", (root / "SOURCES.md").read_text(), re.M))
    assert on_disk <= listed, f"files not described in SOURCES.md: {on_disk - listed}"


def _real(name: str) -> Any:
    return decode_file(REAL_TYPES[name], require(REAL) / name)


def test_old_and_new_agent_self() -> None:
    old = _real("d3sw__nomex__nomad-0.7.0_agent_self.json")
    assert (old.region, old.datacenter, old.version) == ("global", "dc1", "0.7.0")
    assert old.is_server and old.leader_addr == "127.0.0.1:4647"
    consul = _real("criteo__consul-templaterb__consul-0.9.3_agent_self.json")
    assert (consul.datacenter, consul.version) == ("dc1", "0.9.3")
    trimmed = _real("netdata__go.d.plugin__consul-1.14.3-ent_agent_self_trimmed.json")
    assert trimmed.Member is None and trimmed.version == "1.14.3+ent"


def test_real_allocations_and_times() -> None:
    stubs = _real("hashicorp__nomad__docs-nomad-1.2_allocations_list.json")
    status = stubs[0].DeploymentStatus
    assert status is not None and status.Timestamp.endswith("+01:00")
    full = _real("hashicorp__nomad-autoscaler__nomad-1.0_node_allocations_running.json")
    assert [a.Job is not None for a in full] == [True, True, True]
    state = full[0].tasks["batch_pause"]
    assert state.started is not None and state.finished is None and state.last_restart is None
    assert full[0].AllocatedResources.cpu_mhz == 100
    assert state.events and all(event.message for event in state.events)


def test_real_nodes_both_resource_generations() -> None:
    detail = _real("hashicorp__nomad__docs-nomad-1.1.0_node_detail.json")
    assert (detail.cpu_mhz(), detail.memory_mb(), detail.disk_mb()) == (32000, 15803, 7890)
    legacy = Node(Resources=detail.Resources)  # only the pre-0.9 block
    assert (legacy.cpu_mhz(), legacy.memory_mb(), legacy.disk_mb()) == (32000, 15803, 7890)
    old_stub = _real("d3sw__nomex__nomad-0.7.0_nodes_list.json")[0]
    assert old_stub.cpu_mhz() == 0 and old_stub.eligible and old_stub.Version == "0.7.0"


def test_real_events_and_consul_health() -> None:
    batch = _real("hashicorp__nomad__docs-nomad-1.0-dev_event_stream_node_registration.json")
    node = batch.Events[0].payload_node()
    assert node is not None and node.Status == "initializing"
    assert node.nomad_version == "0.13.0-dev"
    criteo = _real("criteo__consul-templaterb__consul_health_service.json")
    assert [entry.status for entry in criteo] == ["passing", "warning", "passing", "critical"]
    silas = _real("silas__node-consul__consul-0.3_health_service.json")
    assert silas[0].status == "critical" and silas[0].address == "127.0.0.1"


# Fields no sample body carries, each with why it is modelled anyway. Anything else a
# model declares but no body feeds is most likely a misspelt field name.
# (Each is a field of the Go struct the endpoint encodes; the samples predate it or the
# query option that adds it.)
NOT_IN_ANY_SAMPLE: dict[str, set[str]] = {
    # with `resources=true` only
    "AllocStub": {"AllocatedResources"},
    "NodeStub": {"NodeResources", "ReservedResources"},
    # stub-only fields; `Allocation.job_version`/`job_type` read them from `Job`
    "Allocation": {"JobType", "JobVersion", "PreemptedAllocations", "PreemptedByAllocation"},
    # newer servers than the samples
    "AclToken": {"ExpirationTime", "ExpirationTTL", "Roles"},  # 1.4+
    "AllocCheckStatus": {"Task", "StatusCode"},  # task-level / http checks
    "AllocFileInfo": {"ContentType"},
    "DesiredTransition": {"NoShutdownDelay"},
    "MemoryMB": {"MemoryMaxMB"},  # memory oversubscription, 1.1+
    "MemoryStats": {"MappedFile", "Usage"},  # cgroup v2 / newer drivers
    "Namespace": {"Meta", "Capabilities"},
    "PeriodicConfig": {"TimeZone", "Specs"},  # `time_zone`, `crons`
    "ServiceCheck": {"OnUpdate", "SuccessBeforePassing", "FailuresBeforeCritical", "TaskName"},
    "TaskArtifact": {"GetterMode"},
    # query/write metadata the samples left out
    "PeriodicForceResponse": {"Index"},
    "SearchResponse": {"Index", "KnownLeader", "LastContact"},
    "RaftServer": {"RaftProtocol"},
    "SampledValue": {"Rate"},
    # Consul: connect kinds, admin partitions, and newer check fields
    "CatalogServiceEntry": {"ServiceKind"},
    "ConsulCheck": {"Type"},
    "ConsulNode": {"Partition"},
    "ConsulService": {"Kind"},
}


def test_every_modelled_field_is_fed_by_some_sample() -> None:
    seen = FieldsSeen()
    for name, target in examples.all_examples().items():
        if isinstance(target, FunctionType):
            continue  # frames and NDJSON are spot-checked in the examples test
        path = require(API) / name
        seen.walk(decode_file(target, path), json.loads(path.read_bytes()))
    for name, target in REAL_TYPES.items():
        path = require(REAL) / name
        seen.walk(decode_file(target, path), json.loads(path.read_bytes()))
    never = {
        type_: fields - NOT_IN_ANY_SAMPLE.get(type_, set())
        for type_, fields in seen.never_seen().items()
    }
    never = {type_: fields for type_, fields in never.items() if fields}
    assert not never, f"modelled fields no sample carries (typo?): {never}"
