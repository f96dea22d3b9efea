"""`nomtui status`: report, health, exit codes, job from the checkout; and its pure rules."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.actions.status import (
    alloc_health,
    fetch_stats,
    latest_per_slot,
    overdue_groups,
)
from nomtui.models.allocs import AllocStub, DeploymentStatus
from nomtui.models.deployments import Deployment, DeploymentGroup
from nomtui.models.stats import AllocStats
from tests.commands import base_env, closed_port, invoke, one_error_line
from tests.unit.test_repo import make_checkout

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    # A still cluster: the lifecycle would move allocations between assertions.
    sim_config.lifecycle = False
    return sim_config


def _json(env: dict[str, str | None], *args: str) -> tuple[int, dict[str, Any]]:
    ran = invoke(env, *args)
    return ran.code, json.loads(ran.out)


def test_healthy_job_exits_0_with_stats(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "status", "www-nomad")
    assert ran.code == 0, ran.err
    assert "www-nomad (namespace default)" in ran.out
    assert "Deployment" in ran.out and "successful" in ran.out
    lines = [line for line in ran.out.splitlines() if " running " in line]
    assert lines and "healthy" in lines[0]
    assert "%" in lines[0] and "MiB" in lines[0]  # CPU and memory of the running alloc
    assert "Problems" not in ran.out
    assert "\x1b[" not in ran.out  # not a terminal: no colour


def test_failed_deployment_and_critical_check_exit_2(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "status", "services-scribe-api")
    assert ran.code == 2
    assert "Problems:" in ran.out
    assert "failed: Failed due to unhealthy allocations" in ran.out
    assert "is unhealthy (checks critical)" in ran.out


def test_json_is_the_report(sim_thread: Sim, tmp_path: Path) -> None:
    code, report = _json(base_env(tmp_path, sim_thread), "status", "--json", "services-scribe-api")
    assert code == 2
    assert report["job"]["id"] == "services-scribe-api"
    assert report["deployment"]["status"] == "failed"
    assert report["healthy"] is False and report["problems"]
    live = [a for a in report["allocations"] if a["desired_status"] == "run"]
    assert live and live[0]["checks"] == "critical" and live[0]["health"] == "unhealthy"


def test_canaries_waiting_for_promotion_are_a_note(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "status", "internetarchive-hello-js")
    assert ran.code == 0, ran.out
    assert "waiting" in ran.out and "(* canary)" in ran.out
    assert "promoted" in ran.err  # the note goes to stderr


def test_namespace_is_found_without_n(sim_thread: Sim, tmp_path: Path) -> None:
    code, report = _json(base_env(tmp_path, sim_thread), "status", "--json", "ops-prometheus")
    assert code == 0
    assert report["job"]["namespace"] == "ops"


def test_a_pinned_namespace_is_respected(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "-n", "default", "status", "ops-prometheus")
    assert ran.code == 1
    assert "not found in namespace default" in one_error_line(ran.err)


def test_job_from_the_git_checkout(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_checkout(tmp_path / "repo", url="git@git.archive.org:www/nomad.git")
    (repo / "src").mkdir()
    monkeypatch.chdir(repo / "src")
    code, report = _json(base_env(tmp_path, sim_thread), "status", "--json")
    assert code == 0
    assert report["job"]["id"] == "www-nomad"


def test_outside_a_checkout_without_job_is_one_error(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = invoke(base_env(tmp_path, sim_thread), "status")
    assert ran.code == 1
    assert "not inside a git checkout" in one_error_line(ran.err)


def test_consul_unreachable_is_a_note_not_a_failure(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread, CONSUL_HTTP_ADDR=f"http://127.0.0.1:{closed_port()}")
    ran = invoke(env, "status", "www-nomad")
    assert ran.code == 0
    assert "health from Nomad only" in ran.err and "Cannot reach Consul" in ran.err


def test_colour_when_forced_and_never_with_no_color(sim_thread: Sim, tmp_path: Path) -> None:
    forced = invoke(
        base_env(tmp_path, sim_thread, NOMAD_CLI_FORCE_COLOR="1"), "status", "www-nomad"
    )
    assert "\x1b[32mhealthy" in forced.out
    plain = invoke(base_env(tmp_path, sim_thread, NO_COLOR="1"), "status", "www-nomad")
    assert "\x1b[" not in plain.out


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path), "status", "--help")
    assert "Exit codes:" in ran.out and "2  the job has problems" in ran.out


# -- pure rules ---------------------------------------------------------------------------


def _alloc(**fields: Any) -> AllocStub:
    base: dict[str, Any] = {
        "ID": "aaaaaaaa-0000-0000-0000-000000000000",
        "Name": "web.web[0]",
        "JobID": "web",
        "DesiredStatus": "run",
        "ClientStatus": "running",
        "CreateIndex": 1,
    }
    return AllocStub(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "checks", "expected"),
    [
        ({}, "passing", "healthy"),
        ({"DeploymentStatus": DeploymentStatus(Healthy=True)}, "", "healthy"),
        ({"DeploymentStatus": DeploymentStatus(Healthy=True)}, "critical", "unhealthy"),
        ({"DeploymentStatus": DeploymentStatus(Healthy=False)}, "passing", "unhealthy"),
        ({}, "warning", "warning"),
        ({}, "", "-"),
        ({"ClientStatus": "pending"}, "", "pending"),
        ({"ClientStatus": "failed"}, "", "unhealthy"),
        ({"ClientStatus": "complete", "DesiredStatus": "stop"}, "", "-"),
    ],
)
def test_alloc_health(fields: dict[str, Any], checks: str, expected: str) -> None:
    assert alloc_health(_alloc(**fields), checks) == expected


def test_latest_per_slot_keeps_the_replacement() -> None:
    lost = _alloc(ID="1", ClientStatus="lost", CreateIndex=5)
    replacement = _alloc(ID="2", CreateIndex=9)
    other = _alloc(ID="3", Name="web.web[1]", CreateIndex=7)
    assert [a.ID for a in latest_per_slot([lost, replacement, other])] == ["2", "3"]


def test_progress_deadline_ignores_canaries_waiting_for_a_person() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    past = (now - timedelta(minutes=1)).isoformat()
    waiting = DeploymentGroup(
        DesiredCanaries=1, PlacedCanaries=["c"], HealthyAllocs=1, RequireProgressBy=past
    )
    stuck = DeploymentGroup(DesiredTotal=2, PlacedAllocs=1, RequireProgressBy=past)
    dep = Deployment(Status="running", TaskGroups={"a": waiting, "b": stuck})
    assert overdue_groups(dep, now) == ["b"]
    assert overdue_groups(Deployment(Status="successful", TaskGroups={"b": stuck}), now) == []


class _SlowStats:
    """A client whose second allocation's node never answers."""

    async def alloc_stats(self, alloc_id: str) -> AllocStats:
        if alloc_id == "slow":
            await asyncio.sleep(30)
        return AllocStats()


async def test_stats_of_a_slow_node_are_left_out_quickly() -> None:
    started = time.monotonic()
    stats = await fetch_stats(_SlowStats(), ["fast", "slow"], timeout_s=0.2)  # type: ignore[arg-type]
    assert set(stats) == {"fast"}
    assert time.monotonic() - started < 2
