"""The shape builders against the spec's example bodies and real recorded Nomad responses.

Structure is checked with tests.conformance (keys and JSON types); Nomad semantics
(canonical defaults, summary counts, diffs, the event cap) are checked by value.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nomtui.sim import shapes
from nomtui.sim.shapes.common import HOUR, MINUTE, SECOND, go_duration
from tests.conformance import DEFAULT_MAPS, assert_conforms

SHARED = Path(__file__).resolve().parents[3] / "shared"
API = SHARED / "api" / "nomad"
REAL = SHARED / "real-responses"

NOW = 1_764_000_000_000_000_000
NODE_ID = "8d2b41c6-5f0e-4a3b-9c71-2e6f0d4b8a19"
NODE_ID_2 = "f3c9e8a7-1b2d-4c5e-8f90-a1b2c3d4e5f6"
EVAL_ID = "0b9c7e2a-63f1-4d8e-b5a4-7c1d2e3f4a5b"
DEPLOY_ID = "6e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
ALLOC_IDS = [
    "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
    "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f",
]

WEB_SPEC: dict[str, Any] = {
    "ID": "web",
    "Datacenters": ["dc1"],
    "TaskGroups": [
        {
            "Name": "frontend",
            "Count": 3,
            "Networks": [{"DynamicPorts": [{"Label": "http", "To": 8080}]}],
            "Services": [
                {
                    "Name": "web",
                    "PortLabel": "http",
                    "Tags": ["urlprefix-/"],
                    "Checks": [
                        {
                            "Type": "http",
                            "Path": "/health",
                            "Interval": 10 * SECOND,
                            "Timeout": 2 * SECOND,
                        }
                    ],
                }
            ],
            "Tasks": [
                {
                    "Name": "nginx",
                    "Driver": "docker",
                    "Config": {"image": "nginx:1.27", "ports": ["http"]},
                    "Env": {"NGINX_PORT": "8080"},
                    "Resources": {"CPU": 250, "MemoryMB": 256},
                }
            ],
        }
    ],
}


def _load(folder: Path, name: str) -> Any:
    if not folder.is_dir():
        pytest.skip(f"{folder} not found: clone the shared/ folder beside the repo")
    return json.loads((folder / name).read_text())


def example(name: str) -> Any:
    return _load(API, name)


def real(name: str) -> Any:
    return _load(REAL, name)


def web_job(**overrides: Any) -> dict[str, Any]:
    job = shapes.canonical_job(copy.deepcopy(WEB_SPEC))
    job.update(
        Status="running",
        Version=2,
        SubmitTime=NOW - 60 * SECOND,
        CreateIndex=10,
        ModifyIndex=31,
        JobModifyIndex=30,
        **overrides,
    )
    return job


def web_alloc(i: int = 0, **kwargs: Any) -> dict[str, Any]:
    job = web_job()
    return shapes.allocation(
        alloc_id=ALLOC_IDS[i],
        eval_id=EVAL_ID,
        name=f"web.frontend[{i}]",
        namespace="default",
        node_id=NODE_ID,
        node_name="nomad-client-1",
        job=job,
        task_group="frontend",
        now_ns=NOW,
        create_index=32 + i,
        ports={"http": 24512 + i},
        node_ip="10.0.1.21",
        **kwargs,
    )


def a_node(**kwargs: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "node_id": NODE_ID,
        "name": "nomad-client-1",
        "datacenter": "dc1",
        "node_class": "",
        "address": "10.0.1.21",
        "http_port": 4646,
        "cpu_mhz_total": 4 * 2900,
        "cores": 4,
        "memory_mb": 15_889,
        "disk_mb": 78_000,
        "status": "ready",
        "eligibility": "eligible",
        "drain": False,
        "drain_strategy": None,
        "now_ns": NOW,
        "create_index": 5,
    }
    args.update(kwargs)
    return shapes.node(**args)


def leaf_mismatches(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """Every value of `expected` that `actual` does not carry unchanged."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [path]
        out: list[str] = []
        for k, v in expected.items():
            out += leaf_mismatches(actual.get(k), v, f"{path}.{k}") if k in actual else [path]
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(actual) == len(expected):
        return [
            m
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for m in leaf_mismatches(a, e, f"{path}[{i}]")
        ]
    return [] if actual == expected else [path]


# --- comparator ------------------------------------------------------------------------


def test_comparator_reports_every_mismatch_with_paths() -> None:
    exemplar = {"A": 1, "B": "x", "C": {"D": True}, "E": [{"F": 1.5}]}
    actual = {"A": "1", "C": {"D": 1}, "E": [{"F": 2}, {"F": "no"}]}
    with pytest.raises(AssertionError) as err:
        assert_conforms(actual, exemplar)
    text = str(err.value)
    assert "4 shape mismatch" in text
    assert "$.A: string, expected int" in text
    assert "$.B: missing" in text
    assert "$.C.D: int, expected bool" in text
    assert "$.E[1].F: string, expected float" in text


def test_comparator_nulls_numbers_and_extras() -> None:
    assert_conforms({"X": 1, "Extra": 2}, {"X": None})  # example null: anything goes
    assert_conforms({"Meta": None}, {"Meta": {"a": "b"}})  # nullable field
    assert_conforms({"Percent": 3}, {"Percent": 0.5})  # int where float is fine
    assert_conforms({"Idle": 92.5}, {"Idle": 80})  # Go float64 printed as int
    with pytest.raises(AssertionError, match=r"\$.Name: null, expected string"):
        assert_conforms({"Name": None}, {"Name": "web"})
    with pytest.raises(AssertionError, match="float, expected int"):
        assert_conforms({"Count": 1.5}, {"Count": 1})


def test_comparator_map_keys_are_free_but_values_are_checked() -> None:
    exemplar = {"TaskStates": {"redis": {"State": "running", "Failed": False}}}
    assert_conforms({"TaskStates": {"nginx": {"State": "dead", "Failed": True}}}, exemplar)
    with pytest.raises(AssertionError) as err:
        assert_conforms({"TaskStates": {"nginx": {"State": "dead"}}}, exemplar)
    assert "$.TaskStates['nginx'].Failed: missing" in str(err.value)
    # TaskGroups is a list of structs in jobs and a free map in deployments.
    assert_conforms({"TaskGroups": [{"Name": "g"}]}, {"TaskGroups": [{"Name": "cache"}]})
    # A top-level free map is named by its path.
    assert_conforms({"web": ["a"]}, {"redis": []}, maps={"$"})


def test_comparator_unions_list_elements_and_skips_opaque() -> None:
    exemplar = {"Tasks": [{"Name": "a", "Leader": False}, {"Name": "b", "User": "x"}]}
    with pytest.raises(AssertionError, match=r"\$.Tasks\[0\].User: missing"):
        assert_conforms({"Tasks": [{"Name": "c", "Leader": True}]}, exemplar)
    assert_conforms({"Config": {"ports": ["http"]}}, {"Config": {"ports": "http"}})


# --- jobs --------------------------------------------------------------------------------


def test_canonical_job_fills_nomad_defaults() -> None:
    job = shapes.canonical_job(
        {"ID": "api", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t"}]}]}
    )
    assert job["Name"] == "api"
    assert (job["Namespace"], job["Region"], job["Type"]) == ("default", "global", "service")
    assert (job["Priority"], job["Datacenters"], job["NodePool"]) == (50, ["*"], "default")
    assert (job["Status"], job["Version"], job["Stable"], job["Stop"]) == (
        "pending",
        0,
        False,
        False,
    )
    assert job["Meta"] is None and job["Constraints"] is None and job["Periodic"] is None
    assert job["Update"] == {
        "Stagger": 30 * SECOND,
        "MaxParallel": 1,
        "HealthCheck": "",
        "MinHealthyTime": 0,
        "HealthyDeadline": 0,
        "ProgressDeadline": 0,
        "AutoRevert": False,
        "AutoPromote": False,
        "Canary": 0,
    }
    group = job["TaskGroups"][0]
    assert group["Count"] == 1
    assert group["RestartPolicy"] == {
        "Attempts": 2,
        "Interval": 30 * MINUTE,
        "Delay": 15 * SECOND,
        "Mode": "fail",
        "RenderTemplates": False,
    }
    assert group["EphemeralDisk"] == {"Sticky": False, "SizeMB": 300, "Migrate": False}
    assert group["Update"]["HealthCheck"] == "checks"
    assert group["Update"]["MinHealthyTime"] == 10 * SECOND
    assert group["Update"]["HealthyDeadline"] == 5 * MINUTE
    assert group["Update"]["ProgressDeadline"] == 10 * MINUTE
    assert group["Migrate"]["MaxParallel"] == 1
    assert group["ReschedulePolicy"]["DelayFunction"] == "exponential"
    task = group["Tasks"][0]
    assert task["KillTimeout"] == 5 * SECOND
    assert task["LogConfig"] == {"MaxFiles": 10, "MaxFileSizeMB": 10, "Disabled": False}
    assert (task["Resources"]["CPU"], task["Resources"]["MemoryMB"]) == (100, 300)
    assert task["RestartPolicy"] == group["RestartPolicy"]


def test_canonical_job_batch_and_system_defaults() -> None:
    batch = shapes.canonical_job(
        {"ID": "report", "Type": "batch", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t"}]}]}
    )
    group = batch["TaskGroups"][0]
    assert group["RestartPolicy"]["Attempts"] == 3
    assert group["RestartPolicy"]["Interval"] == 24 * HOUR
    assert group["Update"] is None and group["Migrate"] is None
    assert group["ReschedulePolicy"]["Attempts"] == 1
    assert batch["Update"]["MaxParallel"] == 0
    system = shapes.canonical_job(
        {"ID": "agent", "Type": "system", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t"}]}]}
    )
    assert system["TaskGroups"][0]["ReschedulePolicy"] is None


def test_canonical_job_merges_given_keys_and_does_not_mutate() -> None:
    spec = copy.deepcopy(WEB_SPEC)
    spec["Update"] = {"Canary": 1, "AutoPromote": True}
    spec["TaskGroups"][0]["RestartPolicy"] = {"Attempts": 5}
    before = copy.deepcopy(spec)
    job = shapes.canonical_job(spec, namespace="apps")
    assert spec == before
    group = job["TaskGroups"][0]
    assert group["RestartPolicy"]["Attempts"] == 5
    assert group["RestartPolicy"]["Mode"] == "fail"
    assert group["Update"]["Canary"] == 1 and group["Update"]["AutoPromote"] is True
    assert job["Update"]["Canary"] == 0  # only Stagger/MaxParallel stay at job level
    assert group["Count"] == 3 and job["Namespace"] == "apps"
    service = group["Services"][0]
    assert service["Namespace"] == "default" and service["Provider"] == "consul"
    assert service["Checks"][0]["Name"] == 'service: "web" check'
    assert group["Networks"][0]["DynamicPorts"][0] == {
        "Label": "http",
        "Value": 0,
        "To": 8080,
        "HostNetwork": "default",
    }
    assert group["Tasks"][0]["Config"] == {"image": "nginx:1.27", "ports": ["http"]}


def test_canonical_register_example_conforms_to_job_examples() -> None:
    job = shapes.canonical_job(example("POST_v1_jobs.request.json")["Job"])
    assert job["NodePool"] == "prod" and job["Datacenters"] == ["dc1"]
    assert_conforms(job, example("GET_v1_job_ID.json"))
    for version in example("GET_v1_job_ID_versions.json")["Versions"]:
        assert_conforms(job, version)
    for name in (
        "traefik__traefik__nomad-1.7_job_detail_group_service.json",
        "traefik__traefik__nomad-1.7_job_detail_group_and_task_services.json",
    ):
        assert_conforms(job, real(name))


@pytest.mark.parametrize(
    "name",
    [
        "traefik__traefik__nomad-1.7_job_detail_group_service.json",
        "traefik__traefik__nomad-1.7_job_detail_group_and_task_services.json",
        "traefik__traefik__nomad-1.7_job_detail_stopped.json",
    ],
)
def test_canonical_job_keeps_real_nomad_jobs_unchanged(name: str) -> None:
    stored = real(name)
    job = shapes.canonical_job(stored)
    assert leaf_mismatches(job, stored) == []
    assert_conforms(job, stored)


def test_canonical_job_keeps_docs_jobs_unchanged() -> None:
    for job in [example("GET_v1_job_ID.json"), *example("GET_v1_job_ID_versions.json")["Versions"]]:
        assert leaf_mismatches(shapes.canonical_job(job), job) == []


def test_job_summary_counts_and_queued() -> None:
    job = web_job()
    allocs = [web_alloc(0), web_alloc(1)]
    allocs[0]["ClientStatus"] = "running"
    allocs[1]["ClientStatus"] = "failed"
    summary = shapes.job_summary(job, allocs, create_index=10, modify_index=40)
    counts = summary["Summary"]["frontend"]
    assert (counts["Running"], counts["Failed"], counts["Starting"]) == (1, 1, 0)
    assert counts["Queued"] == 2  # count 3, one live alloc
    assert summary["Children"] == {"Pending": 0, "Running": 0, "Dead": 0}
    assert_conforms(summary, example("GET_v1_job_ID_summary.json"))
    assert_conforms(summary, example("GET_v1_jobs.json")[0]["JobSummary"])
    assert_conforms(summary, real("traefik__traefik__nomad-1.7_jobs_list.json")[0]["JobSummary"])
    stopped = shapes.job_summary(web_job(Stop=True), [], create_index=10, modify_index=41)
    assert stopped["Summary"]["frontend"]["Queued"] == 0


def test_job_summary_batch_complete_fills_slot() -> None:
    spec = copy.deepcopy(WEB_SPEC)
    spec.update(ID="nightly", Type="batch")
    spec["TaskGroups"][0]["Count"] = 1
    job = shapes.canonical_job(spec)
    alloc = web_alloc(0)
    alloc["ClientStatus"] = "complete"
    summary = shapes.job_summary(job, [alloc], create_index=1, modify_index=2)
    assert summary["Summary"]["frontend"]["Complete"] == 1
    assert summary["Summary"]["frontend"]["Queued"] == 0


def test_job_stub_shape_and_flags() -> None:
    job = web_job(Meta={"owner": "web-team"})
    summary = shapes.job_summary(job, [], create_index=10, modify_index=31)
    stub = shapes.job_stub(job, summary)
    assert "Meta" not in stub
    assert stub["Periodic"] is False and stub["ParameterizedJob"] is False
    assert_conforms(stub, example("GET_v1_jobs.json")[0])
    for item in example("GET_v1_jobs.full_stub.json"):
        assert_conforms(stub, item)
    with_meta = shapes.job_stub(job, summary, meta=True)
    assert with_meta["Meta"] == {"owner": "web-team"}
    assert_conforms(with_meta, real("traefik__traefik__nomad-1.7_jobs_list.json")[0])
    periodic = shapes.canonical_job({**WEB_SPEC, "Periodic": {"Spec": "0 3 * * *"}})
    assert shapes.job_stub(periodic, summary)["Periodic"] is True


def test_job_diff_detects_count_and_image() -> None:
    old = web_job()
    new = copy.deepcopy(old)
    new["TaskGroups"][0]["Count"] = 5
    new["TaskGroups"][0]["Tasks"][0]["Config"]["image"] = "nginx:1.28"
    new["Version"], new["JobModifyIndex"] = 3, 50  # bookkeeping is not a change
    diff = shapes.job_diff(old, new)
    assert diff["Type"] == "Edited" and diff["Fields"] is None
    group = diff["TaskGroups"][0]
    assert group["Fields"] == [
        {"Annotations": None, "Name": "Count", "New": "5", "Old": "3", "Type": "Edited"}
    ]
    config = group["Tasks"][0]["Objects"][0]
    assert config["Name"] == "Config"
    assert config["Fields"][0] == {
        "Annotations": None,
        "Name": "image",
        "New": "nginx:1.28",
        "Old": "nginx:1.27",
        "Type": "Edited",
    }
    assert shapes.job_diff(old, copy.deepcopy(old))["Type"] == "None"
    assert_conforms([diff], example("GET_v1_job_ID_versions.diffs.json")["Diffs"])


def test_version_diffs_reproduce_the_documented_sample() -> None:
    sample = example("GET_v1_job_ID_versions.diffs.json")
    assert shapes.version_diffs(sample["Versions"]) == sample["Diffs"]


def test_job_versions_body_conforms() -> None:
    v1 = web_job()
    v2 = copy.deepcopy(v1)
    v2["TaskGroups"][0]["Tasks"][0]["Env"]["LOG_LEVEL"] = "debug"
    v2["Version"] = 3
    versions = [v2, v1]
    body = shapes.job_versions_body(versions, shapes.version_diffs(versions), 55)
    assert_conforms(body, example("GET_v1_job_ID_versions.diffs.json"))
    plain = shapes.job_versions_body(versions, None, 55)
    assert plain["Diffs"] is None
    assert_conforms(plain, example("GET_v1_job_ID_versions.json"))


def test_job_submission_and_hcl() -> None:
    job = web_job()
    source = shapes.hcl_source(job)
    assert source.startswith('job "web" {\n')
    for fragment in (
        'group "frontend" {',
        'task "nginx" {',
        "count = 3",
        'image = "nginx:1.27"',
        'port "http" {',
        "cpu    = 250",
        'interval = "10s"',
    ):
        assert fragment in source, fragment
    assert source.count("{") == source.count("}")
    sub = shapes.job_submission(job, source=source)
    assert (sub["JobIndex"], sub["Version"], sub["VariableFlags"]) == (30, 2, None)
    flagged = shapes.job_submission(job, source=source, variable_flags={"X": "1"})
    assert_conforms(flagged, example("GET_v1_job_ID_submission.json"))


def test_job_scale_status_conforms() -> None:
    job = web_job()
    allocs = [web_alloc(0), web_alloc(1, deployment_id=DEPLOY_ID, canary=True)]
    for alloc in allocs:
        alloc["ClientStatus"] = "running"
    deploy = shapes.deployment(
        deployment_id=DEPLOY_ID,
        namespace="default",
        job=job,
        status="running",
        status_description=shapes.DESC_RUNNING,
        groups={"frontend": shapes.deployment_group_state(desired_total=3, placed=2, healthy=1)},
        create_index=33,
        modify_index=35,
    )
    event = shapes.scaling_event(
        count=3, previous_count=2, message="scaled by operator", time_ns=NOW, create_index=30
    )
    status = shapes.job_scale_status(job, allocs, deployment=deploy, events={"frontend": [event]})
    group = status["TaskGroups"]["frontend"]
    assert (group["Desired"], group["Placed"], group["Healthy"], group["Running"]) == (3, 2, 1, 1)
    assert_conforms(status, example("GET_v1_job_ID_scale.json"))


def test_job_write_responses_conform() -> None:
    reg = shapes.register_response(EVAL_ID, 41, 40, 41)
    for name in (
        "POST_v1_jobs.json",
        "POST_v1_job_ID.json",
        "DELETE_v1_job_ID.json",
        "POST_v1_job_ID_revert.json",
        "POST_v1_job_ID_evaluate.json",
        "POST_v1_job_ID_scale.json",
    ):
        assert_conforms(reg, example(name))
    dispatch = shapes.dispatch_response(
        dispatched_job_id="report/dispatch-1764000000-1a2b3c4d",
        eval_id=EVAL_ID,
        eval_create_index=42,
        job_create_index=42,
        index=42,
    )
    assert_conforms(dispatch, example("POST_v1_job_ID_dispatch.json"))
    forced = shapes.periodic_force_response(eval_id=EVAL_ID, eval_create_index=43, index=43)
    assert_conforms(forced, example("POST_v1_job_ID_periodic_force.json"))
    assert_conforms(
        shapes.stable_response(job_modify_index=44, index=44), example("POST_v1_job_ID_stable.json")
    )


# --- allocations ------------------------------------------------------------------------


def test_allocation_conforms_and_reflects_the_group() -> None:
    alloc = web_alloc(0)
    assert "Job" not in alloc
    assert (alloc["DesiredStatus"], alloc["ClientStatus"]) == ("run", "pending")
    assert alloc["DeploymentStatus"] is None
    state = alloc["TaskStates"]["nginx"]
    assert state["State"] == "pending" and state["Events"][0]["Type"] == "Received"
    res = alloc["AllocatedResources"]
    assert res["Tasks"]["nginx"]["Cpu"]["CpuShares"] == 250
    assert res["Tasks"]["nginx"]["Memory"]["MemoryMB"] == 256
    assert res["Shared"]["Ports"] == [
        {"Label": "http", "Value": 24512, "To": 8080, "HostIP": "10.0.1.21"}
    ]
    assert res["Shared"]["Networks"][0]["DynamicPorts"][0]["Value"] == 24512
    assert alloc["Resources"]["CPU"] == 250
    full_example = {k: v for k, v in example("GET_v1_allocation_ID.json").items() if k != "Job"}
    assert_conforms(alloc, full_example)
    assert_conforms(alloc, {k: v for k, v in example("GET_v1_allocations.json")[0].items()})
    job = web_job()
    for name in (
        "hashicorp__nomad-autoscaler__nomad-1.0_node_allocations_running.json",
        "hashicorp__nomad-autoscaler__nomad-1.0_node_allocations_complete.json",
    ):
        for recorded in real(name):
            assert_conforms({**alloc, "Job": job}, recorded)
    for recorded in example("GET_v1_node_ID_allocations.json"):
        assert_conforms({**alloc, "Job": job}, recorded)


def test_allocation_in_deployment_has_undecided_health() -> None:
    alloc = web_alloc(1, deployment_id=DEPLOY_ID, canary=True)
    assert alloc["DeploymentID"] == DEPLOY_ID
    status = alloc["DeploymentStatus"]
    assert status["Healthy"] is None and status["Canary"] is True
    assert_conforms(alloc, example("GET_v1_allocations.json")[0])


def test_alloc_stub_keys_and_flags() -> None:
    alloc = web_alloc(0, deployment_id=DEPLOY_ID)
    stub = shapes.alloc_stub(alloc)
    assert "AllocatedResources" not in stub and "Metrics" not in stub
    assert stub["NodeName"] == "nomad-client-1" and stub["JobType"] == "service"
    assert stub["TaskStates"] is not None
    for name in (
        "GET_v1_allocations.json",
        "GET_v1_job_ID_allocations.json",
        "GET_v1_deployment_allocations_ID.json",
        "GET_v1_evaluation_ID_allocations.json",
    ):
        for item in example(name):
            assert_conforms(stub, item)
    assert_conforms(stub, real("hashicorp__nomad__docs-nomad-1.2_allocations_list.json")[0])
    assert shapes.alloc_stub(alloc, task_states=False)["TaskStates"] is None
    with_res = shapes.alloc_stub(alloc, resources=True)
    assert with_res["AllocatedResources"] == alloc["AllocatedResources"]


def test_task_events_and_states_conform() -> None:
    events = [
        shapes.task_event("Received", NOW),
        shapes.task_event("Task Setup", NOW + 1_000_000, message="Building Task Directory"),
        shapes.task_event("Driver", NOW + 2_000_000, driver_message="Downloading image nginx:1.27"),
        shapes.task_event("Started", NOW + 3 * SECOND),
    ]
    assert events[0]["DisplayMessage"] == "Task received by client"
    assert events[1]["Details"] == {"message": "Building Task Directory"}
    state = shapes.task_state("running", started_at_ns=NOW + 3 * SECOND, events=events)
    assert state["StartedAt"] == "2025-11-24T16:00:03Z"
    assert state["FinishedAt"] is None and state["LastRestart"] is None
    exemplar = example("GET_v1_allocations.json")[0]["TaskStates"]
    assert_conforms({"web": state}, exemplar, maps=DEFAULT_MAPS | {"$"})
    for recorded in real("hashicorp__nomad-autoscaler__nomad-1.0_node_allocations_running.json"):
        assert_conforms({"TaskStates": {"nginx": state}}, {"TaskStates": recorded["TaskStates"]})


def test_task_event_display_messages() -> None:
    term = shapes.task_event("Terminated", NOW, exit_code=137, signal=9)
    assert term["DisplayMessage"] == "Exit Code: 137, Signal: 9"
    assert term["Details"]["exit_code"] == "137"
    restart = shapes.task_event(
        "Restarting", NOW, restart_reason="Restart within policy", start_delay_ns=16_500_000_000
    )
    assert restart["DisplayMessage"] == "Task restarting in 16.5s"
    killing = shapes.task_event("Killing", NOW, kill_timeout_ns=5 * SECOND)
    assert killing["DisplayMessage"] == "Sent interrupt. Waiting 5s before force killing"
    assert shapes.task_event("Custom", NOW, display_message="x")["DisplayMessage"] == "x"
    assert go_duration(30 * MINUTE) == "30m0s"


def test_task_events_keep_only_the_last_ten() -> None:
    state = shapes.task_state("running", events=[])
    for i in range(15):
        shapes.append_event(state, shapes.task_event("Restart Signaled", NOW + i))
    assert len(state["Events"]) == shapes.MAX_TASK_EVENTS == 10
    assert [e["Time"] for e in state["Events"]] == [NOW + i for i in range(5, 15)]
    many = [shapes.task_event("Signaling", NOW + i) for i in range(12)]
    assert len(shapes.task_state("running", events=many)["Events"]) == 10


def test_alloc_stats_conform() -> None:
    stats = shapes.alloc_stats(
        tasks={"nginx": (3.2, 48 * 1024 * 1024), "log": (0.4, 8 << 20)}, now_ns=NOW
    )
    usage = stats["ResourceUsage"]
    assert usage["MemoryStats"]["RSS"] == 56 * 1024 * 1024
    assert usage["CpuStats"]["Percent"] == pytest.approx(3.6)
    assert_conforms(stats, example("GET_v1_client_allocation_ID_stats.json"))
    assert_conforms(stats, real("hashicorp__nomad__docs-nomad-0.6_alloc_stats.json"))


# --- nodes ------------------------------------------------------------------------------


def test_node_conforms_and_looks_real() -> None:
    node = a_node()
    attrs = node["Attributes"]
    assert attrs["cpu.numcores"] == "4" and attrs["cpu.totalcompute"] == "11600"
    assert attrs["unique.hostname"] == "nomad-client-1"
    assert attrs["unique.network.ip-address"] == "10.0.1.21"
    assert attrs["driver.docker"] == "1" and attrs["nomad.version"] == "1.9.7"
    assert node["HTTPAddr"] == "10.0.1.21:4646"
    assert node["StatusUpdatedAt"] == NOW // SECOND
    assert node["Events"][0]["Message"] == "Node registered"
    assert node["LastDrain"] is None and node["DrainStrategy"] is None
    assert set(node["Drivers"]) == {"docker", "exec", "raw_exec"}
    assert_conforms(node, example("GET_v1_node_ID.json"))
    assert_conforms(node, real("hashicorp__nomad__docs-nomad-1.1.0_node_detail.json"))
    event = real("hashicorp__nomad__docs-nomad-1.0-dev_event_stream_node_registration.json")
    assert_conforms(node, event["Events"][0]["Payload"]["Node"])


def test_draining_node_conforms() -> None:
    strategy = shapes.drain_strategy(deadline_ns=HOUR, ignore_system_jobs=True, now_ns=NOW)
    node = a_node(drain=True, drain_strategy=strategy, eligibility="ineligible")
    node["LastDrain"] = shapes.last_drain(
        status="draining", started_ns=NOW, updated_ns=NOW, meta={"message": "kernel upgrade"}
    )
    node["Events"].append(shapes.node_event("Node drain strategy set", "Drain", NOW, 7))
    assert node["DrainStrategy"]["ForceDeadline"] == "2025-11-24T17:00:00Z"
    assert_conforms(node, example("GET_v1_node_ID.json"))


def test_node_stub_keys_and_flags() -> None:
    node = a_node()
    stub = shapes.node_stub(node)
    assert "NodeResources" not in stub and "Attributes" not in stub
    assert (stub["Address"], stub["Version"]) == ("10.0.1.21", "1.9.7")
    full = shapes.node_stub(node, resources=True, os=True)
    assert set(full["Attributes"]) == {k for k in node["Attributes"] if k.startswith("os.")}
    assert full["NodeResources"] == node["NodeResources"]
    assert_conforms(full, example("GET_v1_nodes.json")[0])
    assert_conforms(stub, real("hashicorp__nomad__docs-nomad-0.8.0_nodes_list.json")[0])
    assert_conforms(stub, real("d3sw__nomex__nomad-0.7.0_nodes_list.json")[0])


def test_client_stats_conform() -> None:
    stats = shapes.client_stats(
        node=a_node(), cpu_percent=23.5, memory_used_mb=6_100, now_ns=NOW, uptime_s=86_400
    )
    assert len(stats["CPU"]) == 4
    assert stats["Memory"]["Total"] == 15_889 * 1024 * 1024
    assert all(0 <= c["Total"] <= 100 for c in stats["CPU"])
    assert_conforms(stats, example("GET_v1_client_stats.json"))
    assert_conforms(stats, real("d3sw__nomex__nomad-0.7.0_client_stats.json"))


def test_node_write_responses_conform() -> None:
    drain = shapes.drain_response(node_modify_index=70, index=70)
    assert_conforms(drain, example("POST_v1_node_ID_drain.json"))
    elig = shapes.eligibility_response(node_modify_index=71, index=71)
    assert_conforms(elig, example("POST_v1_node_ID_eligibility.json"))
    update = shapes.node_update_response(
        eval_ids=[EVAL_ID],
        eval_create_index=72,
        node_modify_index=72,
        index=72,
        leader_rpc_addr="10.0.0.11:4647",
        servers=[("dc1", "10.0.0.11:4647"), ("dc1", "10.0.0.12:4647")],
        num_nodes=3,
    )
    assert_conforms(update, example("POST_v1_node_ID_evaluate.json"))
    assert_conforms(update, example("POST_v1_node_ID_purge.json"))


# --- deployments, evaluations, cluster --------------------------------------------------


def test_deployment_conforms() -> None:
    job = web_job()
    groups = {
        "frontend": shapes.deployment_group_state(
            desired_total=3,
            desired_canaries=1,
            placed_canaries=[ALLOC_IDS[2]],
            auto_revert=True,
            placed=1,
            require_progress_by="2025-11-24T16:10:00Z",
        )
    }
    deploy = shapes.deployment(
        deployment_id=DEPLOY_ID,
        namespace="default",
        job=job,
        status="running",
        status_description=shapes.DESC_RUNNING_NEEDS_PROMOTION,
        groups=groups,
        create_index=33,
        modify_index=36,
        create_time_ns=NOW,
    )
    assert (deploy["JobModifyIndex"], deploy["JobSpecModifyIndex"]) == (31, 30)
    assert deploy["JobVersion"] == 2 and deploy["IsMultiregion"] is False
    for exemplar in (
        example("GET_v1_deployment_ID.json"),
        *example("GET_v1_deployments.full.json"),
        *example("GET_v1_deployments.json"),
        *example("GET_v1_job_ID_deployments.json"),
        example("GET_v1_job_ID_deployment.json"),
    ):
        assert_conforms(deploy, exemplar)
    for recorded in real("hashicorp__nomad__docs-nomad-0.6_job_deployments_list.json"):
        assert_conforms(deploy, recorded)
    assert shapes.rollback_description(shapes.DESC_FAILED_BY_USER, 1) == (
        "Deployment marked as failed - rolling back to job version 1"
    )
    assert shapes.DESC_STOPPED_JOB == "Cancelled because job is stopped"
    assert shapes.DESC_SUCCESSFUL == "Deployment completed successfully"
    assert shapes.DESC_RUNNING_AUTO_PROMOTION == "Deployment is running pending automatic promotion"


def test_deployment_responses_conform() -> None:
    failed = shapes.deployment_update_response(
        eval_id=EVAL_ID,
        eval_create_index=80,
        deployment_modify_index=80,
        index=80,
        reverted_job_version=1,
    )
    for name in (
        "POST_v1_deployment_fail_ID.json",
        "POST_v1_deployment_pause_ID.json",
        "POST_v1_deployment_allocation-health_ID.json",
    ):
        assert_conforms(failed, example(name))
    paused = shapes.deployment_update_response(
        eval_id="", eval_create_index=0, deployment_modify_index=81, index=81
    )
    assert paused["RevertedJobVersion"] is None
    promoted = shapes.promote_response(
        eval_id=EVAL_ID, eval_create_index=82, deployment_modify_index=82, index=82
    )
    assert_conforms(promoted, example("POST_v1_deployment_promote_ID.json"))


def test_evaluation_conforms() -> None:
    ev = shapes.evaluation(
        eval_id=EVAL_ID,
        namespace="default",
        job_id="web",
        job_type="service",
        triggered_by="job-register",
        status="complete",
        now_ns=NOW,
        create_index=41,
        modify_index=43,
        job_modify_index=40,
        queued_allocations={"frontend": 0},
    )
    for exemplar in (
        example("GET_v1_evaluation_ID.json"),
        *example("GET_v1_evaluations.json"),
        *example("GET_v1_job_ID_evaluations.json"),
    ):
        assert_conforms(ev, exemplar)
    for recorded in real("hashicorp__nomad__docs-nomad-0.6_evaluations_list.json"):
        assert_conforms(ev, recorded)
    metrics = shapes.placement_metrics(node_id=NODE_ID, datacenter="dc1", nodes_evaluated=0)
    blocked = shapes.evaluation(
        eval_id="2deb5f06-a100-4f01-8316-5e501a4965e7",
        namespace="default",
        job_id="web",
        job_type="service",
        triggered_by="queued-allocs",
        status="blocked",
        now_ns=NOW,
        create_index=44,
        modify_index=44,
        previous_eval=EVAL_ID,
        failed_tg_allocs={"frontend": metrics},
        status_description="created to place remaining allocations",
    )
    blocked["RelatedEvals"] = [shapes.evaluation_stub(ev)]
    assert_conforms(blocked, real("hashicorp__nomad__docs-nomad-1.3_evaluation_detail.json"))


def test_namespace_and_acl_conform() -> None:
    ns = shapes.namespace("apps", "Product services", create_index=3, modify_index=3)
    assert_conforms(ns, example("GET_v1_namespace_NAME.json"))
    for item in (
        *example("GET_v1_namespaces.json"),
        *real("hashicorp__nomad__docs-nomad-ent_namespaces_list.json"),
    ):
        assert_conforms(ns, item)
    token = shapes.acl_token(
        accessor_id="4e1b7ce1-f8aa-4d7f-89f1-55c3a0fd3988",
        secret_id="8176afd3-772d-4b71-8f85-7fa5d903e9d4",
        name="ops read-write",
        type_="client",
        policies=["readwrite"],
        create_time_ns=NOW,
        create_index=12,
    )
    assert token["ExpirationTime"] is None and token["CreateTime"] == "2025-11-24T16:00:00Z"
    assert_conforms(token, example("GET_v1_acl_token_self.json"))
    assert_conforms(token, example("GET_v1_acl_token_ACCESSOR.json"))
    stub = shapes.acl_token_stub(token)
    assert "SecretID" not in stub
    assert_conforms(stub, example("GET_v1_acl_tokens.json")[0])


def test_agent_shapes_conform() -> None:
    me = shapes.agent_self(
        node_name="nomad-server-1",
        region="global",
        datacenter="dc1",
        version="1.9.7",
        address="10.0.0.11",
        http_port=4646,
        server=True,
        client=True,
        node_id=NODE_ID,
        leader_addr="10.0.0.11:4647",
    )
    assert me["config"]["Version"]["Version"] == "1.9.7"
    assert me["stats"]["raft"]["state"] == "Leader"
    assert_conforms(me, example("GET_v1_agent_self.json"))
    recorded = real("d3sw__nomex__nomad-0.7.0_agent_self.json")
    assert_conforms(
        {"member": me["member"], "stats": me["stats"], "Version": me["config"]["Version"]},
        {
            "member": recorded["member"],
            "stats": recorded["stats"],
            "Version": recorded["config"]["Version"],
        },
    )
    client_only = shapes.agent_self(
        node_name="nomad-client-1",
        region="global",
        datacenter="dc1",
        version="1.9.7",
        address="10.0.1.21",
        http_port=4646,
        server=False,
        client=True,
        node_id=NODE_ID,
    )
    assert client_only["member"] is None and "raft" not in client_only["stats"]
    members = shapes.agent_members(
        servers=[("nomad-server-1", "10.0.0.11", 4648), ("nomad-server-2", "10.0.0.12", 4648)],
        region="global",
        datacenter="dc1",
        version="1.9.7",
    )
    assert members["Members"][1]["Name"] == "nomad-server-2.global"
    assert_conforms(members, example("GET_v1_agent_members.json"))
    assert_conforms(members, real("d3sw__nomex__nomad-0.7.0_agent_members.json"))
    assert_conforms(shapes.agent_health(), example("GET_v1_agent_health.json"))
    assert_conforms(shapes.agent_health(), real("d3sw__nomex__nomad-0.7.0_agent_health.json"))


def test_search_responses_conform() -> None:
    fuzzy = shapes.fuzzy_search_response(
        {
            "jobs": [{"ID": "web", "Scope": ["default"]}],
            "groups": [{"ID": "frontend", "Scope": ["default", "web"]}],
        },
        {"jobs": False, "groups": False},
        90,
    )
    for name in (
        "POST_v1_search_fuzzy.json",
        "POST_v1_search_fuzzy.nodes.json",
        "POST_v1_search_fuzzy.allocs.json",
        "POST_v1_search_fuzzy.all.json",
        "POST_v1_search_fuzzy.prefix.json",
    ):
        assert_conforms(fuzzy, example(name))
    prefix = shapes.prefix_search_response(
        {"jobs": ["web"], "evals": [EVAL_ID], "allocs": []},
        {"jobs": False, "evals": False, "allocs": False},
        91,
    )
    assert prefix["Matches"]["allocs"] is None
    assert prefix["Truncations"]["jobs"] is False
    assert_conforms(prefix, example("POST_v1_search.json"))
    assert_conforms(prefix, example("POST_v1_search.evals.json"))


def test_builders_are_deterministic() -> None:
    assert web_alloc(0) == web_alloc(0)
    assert a_node() == a_node()
    assert shapes.canonical_job(WEB_SPEC) == shapes.canonical_job(WEB_SPEC)
    scaled = shapes.canonical_job(
        {**WEB_SPEC, "TaskGroups": [{**WEB_SPEC["TaskGroups"][0], "Scaling": {"Min": 1, "Max": 6}}]}
    )
    policy = scaled["TaskGroups"][0]["Scaling"]
    assert policy["Target"] == {"Namespace": "default", "Job": "web", "Group": "frontend"}
    assert len(policy["ID"]) == 36 and policy["Enabled"] is True
