"""`nomtui check`: findings and exit codes on the demo cluster, read-only, and each rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests

from nomtui.actions.check import ClusterView, evaluate, job_filter
from nomtui.models.allocs import AllocStub
from nomtui.models.consul import ConsulCheck
from nomtui.models.deployments import Deployment, DeploymentGroup
from nomtui.models.evals import Evaluation
from nomtui.models.jobs import JobStub, JobSummary, TaskGroupSummary
from tests.commands import base_env, closed_port, invoke, one_error_line

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    return sim_config


def _kinds(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["job"], f["kind"]) for f in report["findings"]}


def test_demo_cluster_has_problems(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "check", "--json")
    assert ran.code == 2
    report = json.loads(ran.out)
    kinds = _kinds(report)
    assert ("services-scribe-api", "deployment-failed") in kinds
    assert ("services-scribe-api", "check-critical") in kinds
    assert ("internetarchive-hello-js", "awaiting-promotion") in kinds
    # The lost grafana allocation was replaced: history, not a problem.
    assert not any(job == "ops-grafana" for job, _ in kinds)
    assert report["consul_checked"] is True and report["problems"] >= 2


def test_table_and_summary(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "check")
    assert ran.code == 2
    assert ran.out.splitlines()[0].split()[:4] == ["SEVERITY", "JOB", "NAMESPACE", "KIND"]
    assert "deployment-failed" in ran.out
    assert ran.out.rstrip().splitlines()[-1].endswith("jobs.")


def test_only_a_clean_job_exits_0(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "check", "--only", "^www-nomad$")
    assert (ran.code, ran.out) == (0, "No problems in 1 job.\n")


def test_warnings_alone_exit_0(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "check", "--only", "hello-js$", "--json")
    assert ran.code == 0
    report = json.loads(ran.out)
    assert report["problems"] == 0 and report["warnings"] == 1


def test_bare_only_checks_everything(sim_thread: Sim, tmp_path: Path) -> None:
    # aliases.sh defines nom-deploys-check-only as `nomtui check --only "$@"`.
    ran = invoke(base_env(tmp_path, sim_thread), "check", "--only", "--json")
    assert ran.code == 2
    assert ("services-scribe-api", "deployment-failed") in _kinds(json.loads(ran.out))


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [("(", "not a valid regular expression"), ("no-such-job", "no job to check matches")],
)
def test_bad_only_is_one_error(sim_thread: Sim, tmp_path: Path, pattern: str, needle: str) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "check", "--only", pattern)
    assert ran.code == 1
    assert needle in one_error_line(ran.err)


def test_consul_unreachable_skips_checks_with_a_note(sim_thread: Sim, tmp_path: Path) -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(base_env(tmp_path, sim_thread, CONSUL_HTTP_ADDR=addr), "check", "--json")
    assert ran.code == 2  # the failed deployment is still found
    report = json.loads(ran.out)
    assert report["consul_checked"] is False
    assert "check-critical" not in {f["kind"] for f in report["findings"]}
    assert "Consul checks skipped" in ran.err and addr in ran.err


def test_check_sends_only_get_requests(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str]] = []
    httpx_send = httpx.AsyncClient.send
    requests_send = requests.Session.send

    async def spy_httpx(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        sent.append((request.method, request.url.path))
        return await httpx_send(self, request, **kw)

    def spy_requests(self: requests.Session, request: Any, **kw: Any) -> Any:
        sent.append((request.method, request.path_url))
        return requests_send(self, request, **kw)

    monkeypatch.setattr(httpx.AsyncClient, "send", spy_httpx)
    monkeypatch.setattr(requests.Session, "send", spy_requests)
    ran = invoke(base_env(tmp_path, sim_thread), "check")
    assert ran.code == 2
    paths = {path for _, path in sent}
    assert {"/v1/jobs", "/v1/allocations", "/v1/deployments", "/v1/evaluations"} <= paths
    assert any(path.startswith("/v1/health/state/critical") for path in paths)  # Consul
    assert {method for method, _ in sent} == {"GET"}
    assert not any("gc" in path for path in paths)


# -- the rules, on hand-made cluster views -------------------------------------------------


def _job(job_id: str, **fields: Any) -> JobStub:
    base: dict[str, Any] = {"Type": "service", "Status": "running"}
    return JobStub(ID=job_id, **{**base, **fields})


def _alloc(alloc_id: str, job: str, **fields: Any) -> AllocStub:
    base: dict[str, Any] = {
        "ID": alloc_id,
        "Name": f"{job}.web[0]",
        "JobID": job,
        "NodeName": "node-1",
        "DesiredStatus": "run",
        "ClientStatus": "running",
        "CreateIndex": 10,
        "CreateTime": int((NOW - timedelta(hours=1)).timestamp() * 1e9),
    }
    return AllocStub(**{**base, **fields})


def _view(**fields: Any) -> ClusterView:
    base: dict[str, Any] = {
        "jobs": [],
        "allocs": [],
        "deployments": [],
        "blocked": [],
        "critical": [],
    }
    return ClusterView(**{**base, **fields})


def _found(view: ClusterView, **kw: Any) -> set[tuple[str, str]]:
    return {(f.job, f.kind) for f in evaluate(view, NOW, **kw).findings}


def test_rule_unreplaced_failed_and_lost_allocations() -> None:
    view = _view(
        jobs=[_job("a"), _job("b"), _job("c")],
        allocs=[
            _alloc("a1", "a", ClientStatus="failed"),
            _alloc("b1", "b", ClientStatus="lost", CreateIndex=5),
            _alloc("b2", "b", CreateIndex=9),  # replaced b1
            _alloc("c1", "c", ClientStatus="lost"),
        ],
    )
    assert _found(view) == {("a", "alloc-failed"), ("c", "alloc-lost")}


def test_rule_pending_too_long_and_restarting() -> None:
    from nomtui.models.allocs import TaskState

    fresh = int((NOW - timedelta(minutes=1)).timestamp() * 1e9)
    view = _view(
        jobs=[_job("old"), _job("new"), _job("loop")],
        allocs=[
            _alloc("o", "old", ClientStatus="pending"),
            _alloc("n", "new", ClientStatus="pending", CreateTime=fresh),
            _alloc("l", "loop", ClientStatus="pending", TaskStates={"http": TaskState(Restarts=4)}),
        ],
    )
    assert _found(view) == {("old", "alloc-pending"), ("loop", "alloc-restarting")}
    assert _found(view, pending_s=7200) == {("loop", "alloc-restarting")}


def test_rule_deployments() -> None:
    past = (NOW - timedelta(minutes=5)).isoformat()
    waiting = DeploymentGroup(
        DesiredCanaries=1, PlacedCanaries=["x"], HealthyAllocs=1, RequireProgressBy=past
    )
    slow = DeploymentGroup(DesiredTotal=2, PlacedAllocs=1, RequireProgressBy=past)
    view = _view(
        jobs=[_job("failed"), _job("stuck"), _job("canary"), _job("fixed")],
        deployments=[
            Deployment(ID="d1", JobID="failed", Status="failed", CreateIndex=3),
            Deployment(ID="d2", JobID="stuck", Status="running", TaskGroups={"web": slow}),
            Deployment(ID="d3", JobID="canary", Status="running", TaskGroups={"web": waiting}),
            Deployment(ID="d4", JobID="fixed", Status="failed", CreateIndex=3),
            Deployment(ID="d5", JobID="fixed", Status="successful", CreateIndex=8),
        ],
    )
    report = evaluate(view, NOW)
    assert {(f.job, f.kind, f.severity) for f in report.findings} == {
        ("failed", "deployment-failed", "problem"),
        ("stuck", "deployment-stuck", "problem"),
        ("canary", "awaiting-promotion", "warning"),
    }
    assert (report.problems, report.warnings) == (2, 1)


def test_rule_scheduler_and_dead_jobs() -> None:
    queued = JobSummary(Summary={"web": TaskGroupSummary(Queued=2)})
    view = _view(
        jobs=[
            _job("queued", JobSummary=queued),
            _job("dead", Status="dead"),
            _job("stopped", Status="dead", Stop=True),
            _job("batch", Type="batch", Status="dead"),
        ],
        blocked=[Evaluation(ID="e1", JobID="queued", Status="blocked")],
    )
    assert _found(view) == {
        ("queued", "queued"),
        ("queued", "blocked-eval"),
        ("dead", "job-dead"),
    }


def test_rule_critical_checks_of_live_allocations_only() -> None:
    alloc = "0b5c3ad1-7a8e-4c2f-9d3b-111111111111"
    gone = "0b5c3ad1-7a8e-4c2f-9d3b-222222222222"

    def check(alloc_id: str) -> ConsulCheck:
        service_id = f"_nomad-task-{alloc_id}-group-web-web-http"
        return ConsulCheck(
            Name="alive", Status="critical", ServiceID=service_id, ServiceName="web", Output="503"
        )

    view = _view(
        jobs=[_job("web")],
        allocs=[
            _alloc(alloc, "web", CreateIndex=9),
            _alloc(gone, "web", Name="web.web[1]", ClientStatus="complete", DesiredStatus="stop"),
        ],
        critical=[check(alloc), check(gone), ConsulCheck(CheckID="serfHealth")],
    )
    findings = evaluate(view, NOW).findings
    assert [(f.kind, f.alloc_id) for f in findings] == [("check-critical", alloc)]
    assert findings[0].detail == "check alive of web is critical: 503"


def test_rule_only_filters_by_regex() -> None:
    view = _view(jobs=[_job("www-a", Status="dead"), _job("svc-b", Status="dead")])
    assert _found(view, only=job_filter("^www-")) == {("www-a", "job-dead")}
    assert job_filter("") is None and job_filter(None) is None
