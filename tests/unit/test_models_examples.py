"""Every example body in shared/api (PROTOCOLS.md's samples) decodes into its model.

Each file is either mapped to the type nomtui decodes that endpoint's answer into, or
excluded with a reason; a new sample file that is neither fails `test_every_file_is_
accounted_for`, so the table cannot silently fall behind the samples.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import Any

import pytest

from nomtui.models.allocs import Allocation, AllocStopResponse, AllocStub
from nomtui.models.base import Empty, ModelError, convert, decode
from nomtui.models.cluster import (
    AclToken,
    AgentHealth,
    AgentJoinResponse,
    AgentMembers,
    AgentSelf,
    FuzzySearchResponse,
    Namespace,
    SearchResponse,
)
from nomtui.models.consul import (
    CatalogServiceEntry,
    CatalogServices,
    ConsulAgentSelf,
    ConsulCheck,
    ConsulMember,
    ConsulNode,
    HealthEntry,
)
from nomtui.models.deployments import Deployment, DeploymentUpdateResponse
from nomtui.models.evals import Evaluation
from nomtui.models.events import EventBatch
from nomtui.models.frames import (
    AllocFileInfo,
    ExecAuth,
    ExecInput,
    ExecOutput,
    StreamFrame,
)
from nomtui.models.job_results import (
    JobAction,
    JobDispatchResponse,
    JobPlanResponse,
    JobRegisterResponse,
    JobScaleStatus,
    JobSubmission,
    JobVersions,
    JobVersionTag,
    PeriodicForceResponse,
)
from nomtui.models.job_spec import Job
from nomtui.models.jobs import JobStub, JobSummary
from nomtui.models.nodes import ClientIdentity, ClientMetadata, Node, NodeStub, NodeUpdateResponse
from nomtui.models.services import AllocCheckStatus, NamespaceServices, ServiceRegistration
from nomtui.models.stats import AllocStats, NodeStats
from nomtui.models.variables import IndexResponse, Variable, VariableMetadata
from tests.unit.models_support import API, decode_file, require


def _ndjson_batches(path: Path) -> list[EventBatch]:
    """The event stream is one JSON object per line."""
    return [decode(EventBatch, line) for line in path.read_bytes().splitlines() if line.strip()]


def _exec_frames(path: Path) -> list[Any]:
    """The exec/action sample files describe frames by direction, not as one body."""
    doc = json.loads(path.read_bytes())
    decoded: list[Any] = []
    for name, frame in doc.get("client_to_server", {}).items():
        decoded.append(convert(ExecAuth if name.startswith("auth") else ExecInput, frame))
    server = doc.get("server_to_client", {})
    for frame in server.values() if isinstance(server, dict) else ():
        decoded.append(convert(ExecOutput, frame))
    for frame in doc.get("server_to_client_sample_from_docs", ()):
        decoded.append(convert(ExecOutput, frame))
    for step in doc.get("sample_session_from_docs", ()):
        target = ExecInput if step["dir"] == "client->server" else ExecOutput
        decoded.append(convert(target, step["frame"]))
    assert decoded, f"no frames found in {path.name}"
    return decoded


Target = Any  # a type to decode the whole body into, or a callable taking the path

NOMAD: dict[str, Target] = {
    "DELETE_v1_job_ID.json": JobRegisterResponse,
    "DELETE_v1_job_ID_versions_TAG_tag.json": JobRegisterResponse,
    "DELETE_v1_var_PATH.409.json": VariableMetadata,
    "DELETE_v1_var_PATH.json": IndexResponse,
    "GET_v1_acl_token_ACCESSOR.json": AclToken,
    "GET_v1_acl_token_self.json": AclToken,
    "GET_v1_acl_tokens.json": list[AclToken],
    "GET_v1_agent_health.json": AgentHealth,
    "GET_v1_agent_members.json": AgentMembers,
    "GET_v1_agent_self.json": AgentSelf,
    "GET_v1_agent_servers.json": list[str],
    "GET_v1_allocation_ID.json": Allocation,
    "GET_v1_allocation_ID_checks.json": dict[str, AllocCheckStatus],
    "GET_v1_allocation_ID_services.json": list[ServiceRegistration],
    "GET_v1_allocations.json": list[AllocStub],
    "GET_v1_client_allocation_ID_stats.json": AllocStats,
    "GET_v1_client_fs_logs_ID.frames.synthetic.json": list[StreamFrame],
    "GET_v1_client_fs_ls_ID.json": list[AllocFileInfo],
    "GET_v1_client_fs_stat_ID.json": AllocFileInfo,
    "GET_v1_client_identity.json": ClientIdentity,
    "GET_v1_client_metadata.json": ClientMetadata,
    "GET_v1_client_stats.json": NodeStats,
    "GET_v1_deployment_ID.json": Deployment,
    "GET_v1_deployment_allocations_ID.json": list[AllocStub],
    "GET_v1_deployments.full.json": list[Deployment],
    "GET_v1_deployments.json": list[Deployment],
    "GET_v1_evaluation_ID.json": Evaluation,
    "GET_v1_evaluation_ID_allocations.json": list[AllocStub],
    "GET_v1_evaluations.json": list[Evaluation],
    "GET_v1_event_stream.ndjson": _ndjson_batches,
    "GET_v1_event_stream.sample.json": EventBatch,
    "GET_v1_job_ID.json": Job,
    "GET_v1_job_ID_actions.json": list[JobAction],
    "GET_v1_job_ID_allocations.json": list[AllocStub],
    "GET_v1_job_ID_deployment.json": Deployment | None,
    "GET_v1_job_ID_deployments.json": list[Deployment],
    "GET_v1_job_ID_evaluations.json": list[Evaluation],
    "GET_v1_job_ID_scale.json": JobScaleStatus,
    "GET_v1_job_ID_services.json": list[ServiceRegistration],
    "GET_v1_job_ID_submission.json": JobSubmission,
    "GET_v1_job_ID_summary.json": JobSummary,
    "GET_v1_job_ID_versions.diffs.json": JobVersions,
    "GET_v1_job_ID_versions.json": JobVersions,
    "GET_v1_jobs.full_stub.json": list[JobStub],
    "GET_v1_jobs.json": list[JobStub],
    "GET_v1_namespace_NAME.json": Namespace,
    "GET_v1_namespaces.json": list[Namespace],
    "GET_v1_node_ID.json": Node,
    "GET_v1_node_ID_allocations.json": list[Allocation],
    "GET_v1_nodes.json": list[NodeStub],
    "GET_v1_service_NAME.json": list[ServiceRegistration],
    "GET_v1_services.json": list[NamespaceServices],
    "GET_v1_status_leader.json": str,
    "GET_v1_status_peers.json": list[str],
    "GET_v1_var_PATH.json": Variable,
    "GET_v1_vars.json": list[VariableMetadata],
    "POST_v1_agent_join.json": AgentJoinResponse,
    "POST_v1_allocation_ID_stop.json": AllocStopResponse,
    "POST_v1_client_allocation_ID_restart.json": Empty,
    "POST_v1_client_allocation_ID_signal.json": Empty,
    "POST_v1_client_metadata.json": ClientMetadata,
    "POST_v1_deployment_allocation-health_ID.json": DeploymentUpdateResponse,
    "POST_v1_deployment_fail_ID.json": DeploymentUpdateResponse,
    "POST_v1_deployment_pause_ID.json": DeploymentUpdateResponse,
    "POST_v1_deployment_promote_ID.json": DeploymentUpdateResponse,
    "POST_v1_job_ID.json": JobRegisterResponse,
    "POST_v1_job_ID_dispatch.json": JobDispatchResponse,
    "POST_v1_job_ID_evaluate.json": JobRegisterResponse,
    "POST_v1_job_ID_periodic_force.json": PeriodicForceResponse,
    "POST_v1_job_ID_revert.json": JobRegisterResponse,
    "POST_v1_job_ID_scale.json": JobRegisterResponse,
    "POST_v1_job_ID_stable.json": JobRegisterResponse,
    "POST_v1_job_ID_versions_TAG_tag.json": JobVersionTag,
    "POST_v1_jobs.json": JobRegisterResponse,
    "POST_v1_jobs_parse.json": Job,
    "POST_v1_node_ID_drain.json": NodeUpdateResponse,
    "POST_v1_node_ID_eligibility.json": NodeUpdateResponse,
    "POST_v1_node_ID_evaluate.json": NodeUpdateResponse,
    "POST_v1_node_ID_purge.json": NodeUpdateResponse,
    "POST_v1_search.evals.json": SearchResponse,
    "POST_v1_search.json": SearchResponse,
    "POST_v1_search_fuzzy.all.json": FuzzySearchResponse,
    "POST_v1_search_fuzzy.allocs.json": FuzzySearchResponse,
    "POST_v1_search_fuzzy.json": FuzzySearchResponse,
    "POST_v1_search_fuzzy.nodes.json": FuzzySearchResponse,
    "POST_v1_search_fuzzy.prefix.json": FuzzySearchResponse,
    "PUT_v1_var_PATH.409.json": Variable,
    "PUT_v1_var_PATH.json": Variable,
    "WS_v1_client_allocation_ID_exec.frames.json": _exec_frames,
    "WS_v1_job_ID_action.frames.json": _exec_frames,
}

CONSUL: dict[str, Target] = {
    "GET_v1_agent_members.json": list[ConsulMember],
    "GET_v1_agent_self.json": ConsulAgentSelf,
    "GET_v1_catalog_datacenters.json": list[str],
    "GET_v1_catalog_nodes.json": list[ConsulNode],
    "GET_v1_catalog_service_NAME.json": list[CatalogServiceEntry],
    "GET_v1_catalog_services.json": CatalogServices,
    "GET_v1_health_checks_NAME.json": list[ConsulCheck],
    "GET_v1_health_node_NODE.json": list[ConsulCheck],
    "GET_v1_health_service_NAME.json": list[HealthEntry],
    "GET_v1_health_state_ANY.json": list[ConsulCheck],
    "GET_v1_status_leader.json": str,
    "GET_v1_status_peers.json": list[str],
}

# Files that are not a response body nomtui decodes, and why. Request bodies
# (`*.request.json`) are excluded by rule: nomtui writes those, it never reads them.
EXCLUDED: dict[str, str] = {
    "nomad/GET_v1_client_fs_cat_ID.txt": "raw file bytes, not JSON",
    "nomad/GET_v1_client_fs_readat_ID.txt": "raw file bytes, not JSON",
    "nomad/GET_v1_client_fs_logs_ID.frames.json": (
        "the docs cut `Data` with `...`, which is not base64 (test_models_errors checks "
        "that it fails with the path of `Data`)"
    ),
    "nomad/GET_v1_client_fs_stream_ID.frames.json": "same truncated `Data` as the logs frames",
    "nomad/POST_v1_job_ID_plan.json": (
        'the docs put "..." placeholders where diff objects belong (test_models_errors '
        "checks the error path); a real plan answer decodes into JobPlanResponse"
    ),
}

# Kept for the field-coverage check in test_models_real: the plan model is exercised by
# its own test, so it is not listed as a silent omission.
PLAN_TYPE = JobPlanResponse


def all_examples() -> dict[str, Target]:
    table = {f"nomad/{name}": target for name, target in NOMAD.items()}
    table.update({f"consul/{name}": target for name, target in CONSUL.items()})
    return table


def _decode(target: Target, path: Path) -> Any:
    # `list[X]` is callable too, so plain functions are told apart by their type.
    if isinstance(target, FunctionType):
        function: Callable[[Path], Any] = target
        return function(path)
    return decode_file(target, path)


@pytest.mark.parametrize("name", sorted(all_examples()))
def test_example_decodes(name: str) -> None:
    path = require(API) / name
    assert path.is_file(), f"{name} is mapped but missing from {API}"
    decoded = _decode(all_examples()[name], path)
    assert decoded is not None or name.endswith("_deployment.json")


def test_every_file_is_accounted_for() -> None:
    root = require(API)
    mapped = set(all_examples())
    unaccounted = []
    for path in sorted(root.glob("*/*")):
        name = f"{path.parent.name}/{path.name}"
        if name.endswith(".request.json") or name in EXCLUDED or name in mapped:
            continue
        unaccounted.append(name)
    assert not unaccounted, f"map these to a model or exclude them with a reason: {unaccounted}"
    stale = [name for name in EXCLUDED if not (root / name).exists()]
    assert not stale, f"excluded files that no longer exist: {stale}"


def test_placeholder_bodies_fail_with_a_path() -> None:
    """The excluded docs samples fail loudly, pointing at the placeholder."""
    root = require(API)
    with pytest.raises(ModelError) as plan:
        decode_file(JobPlanResponse, root / "nomad/POST_v1_job_ID_plan.json")
    assert plan.value.path.startswith("$.Diff.")
    with pytest.raises(ModelError) as frames:
        decode_file(list[StreamFrame], root / "nomad/GET_v1_client_fs_logs_ID.frames.json")
    assert frames.value.path == "$[0].Data"


def test_examples_carry_the_values_screens_use() -> None:
    """Spot checks that names match the API (a misspelt field would stay at its default)."""
    root = require(API)
    stubs = decode_file(list[AllocStub], root / "nomad/GET_v1_allocations.json")
    assert stubs[0].NodeName and stubs[0].TaskStates and stubs[0].DeploymentStatus
    assert stubs[0].tasks["redis"].started is not None
    alloc = decode_file(Allocation, root / "nomad/GET_v1_allocation_ID.json")
    assert alloc.Job is not None and alloc.Job.group("cache") is not None
    node = decode_file(Node, root / "nomad/GET_v1_node_ID.json")
    assert (node.cpu_mhz(), node.memory_mb(), node.disk_mb()) == (32000, 15803, 7890)
    assert node.LastDrain is not None and node.LastDrain.Status == "complete"
    job = decode(Job, (root / "nomad/GET_v1_job_ID.json").read_bytes())
    assert job.is_periodic and job.is_parameterized and job.Namespace == "apps"
    cache = job.group("cache")
    assert cache is not None and [s.Name for s in cache.all_services] == ["cache-redis"]
    redis = cache.task("redis")
    assert redis is not None and redis.image == "redis:latest"
    health = decode_file(list[HealthEntry], root / "consul/GET_v1_health_service_NAME.json")
    assert health[0].status == "passing"
    assert health[0].Service is not None
    assert health[0].Service.tagged_address("wan") == ("198.18.1.2", 80)
    search = decode_file(SearchResponse, root / "nomad/POST_v1_search.json")
    assert search.matches("jobs") == ["abcde"] and not search.truncated("jobs")
    fuzzy = decode_file(FuzzySearchResponse, root / "nomad/POST_v1_search_fuzzy.json")
    assert fuzzy.matches("jobs")[0].Scope == ["default"]
    agent = decode_file(AgentSelf, root / "nomad/GET_v1_agent_self.json")
    assert (agent.region, agent.datacenter, agent.version) == ("global", "dc1", "0.5.5dev")
    assert agent.leader_addr == "127.0.0.1:4647"
    batches = _ndjson_batches(root / "nomad/GET_v1_event_stream.ndjson")
    assert [b.is_heartbeat for b in batches] == [True, False, True]
    node_event = batches[1].Events[0].payload_node()
    assert node_event is not None and node_event.Name == "nomad-4"
