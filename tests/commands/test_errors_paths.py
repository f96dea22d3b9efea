"""Error paths every cluster-reading subcommand shares: unknown job, ambiguous job, no
running allocation, a refused token, an unreachable address. Each ends in one `Error:`
line and exit 1, never a traceback, and never shows the token. A few run end to end
through `python -m nomtui`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.commands import BAD_TOKEN, base_env, closed_port, invoke, one_error_line, run_module

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    return sim_config


UNKNOWN = "no-such-job"

# Commands that take a job, with the arguments that make them act on UNKNOWN.
WITH_JOB = [
    ["status", UNKNOWN],
    ["urls", UNKNOWN],
    ["app", "--print", UNKNOWN],
    ["resubmit", UNKNOWN],
    ["job-to-alloc", UNKNOWN],
    ["allocs", UNKNOWN],
]
# Every command that reads Nomad, for the token and address failures.
READS_NOMAD = [
    *WITH_JOB,
    ["jobs"],
    ["allocs"],
    ["nodes"],
    ["check"],
    ["urls"],
]


def _ids(cases: list[list[str]]) -> list[str]:
    return [" ".join(case) for case in cases]


@pytest.mark.parametrize("args", WITH_JOB, ids=_ids(WITH_JOB))
def test_unknown_job(sim_thread: Sim, tmp_path: Path, args: list[str]) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), *args)
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert line.startswith(f"Error: job {UNKNOWN} not found in any namespace")
    assert sim_thread.nomad_addr in line
    assert ran.out == ""


@pytest.mark.parametrize("args", READS_NOMAD, ids=_ids(READS_NOMAD))
def test_refused_token(sim_thread: Sim, tmp_path: Path, args: list[str]) -> None:
    ran = invoke(base_env(tmp_path, sim_thread, NOMAD_TOKEN=BAD_TOKEN), *args)
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert "403" in line and "NOMAD_TOKEN" in line
    assert BAD_TOKEN not in ran.out + ran.err


@pytest.mark.parametrize("args", READS_NOMAD, ids=_ids(READS_NOMAD))
def test_unreachable_address(tmp_path: Path, args: list[str]) -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    env = base_env(tmp_path, NOMAD_ADDR=addr, NOMAD_TOKEN=BAD_TOKEN, CONSUL_HTTP_ADDR=addr)
    ran = invoke(env, *args)
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert f"Cannot reach Nomad at {addr}" in line and "NOMAD_ADDR" in line
    assert BAD_TOKEN not in ran.out + ran.err


def test_no_running_allocation(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "job-to-alloc", "services-nightly-backup")
    assert ran.code == 1
    assert "has no running allocation" in one_error_line(ran.err)


def test_a_job_in_two_namespaces_is_ambiguous(sim_thread: Sim, tmp_path: Path) -> None:
    headers = {"X-Nomad-Token": sim_thread.management_token}
    spec: dict[str, Any] = httpx.get(
        f"{sim_thread.nomad_addr}/v1/job/www-nomad", headers=headers, timeout=10
    ).json()
    spec["Namespace"] = "ops"
    resp = httpx.put(
        f"{sim_thread.nomad_addr}/v1/jobs", json={"Job": spec}, headers=headers, timeout=10
    )
    resp.raise_for_status()
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "job-to-alloc", "www-nomad")
    assert ran.code == 1
    assert "exists in namespaces default, ops; pick one with -n" in one_error_line(ran.err)
    picked = invoke(env, "-n", "default", "job-to-alloc", "www-nomad")
    assert picked.code == 0 and picked.out.strip()


# -- end to end: a real process, its real exit code ---------------------------------------


def test_e2e_status_and_check_exit_codes(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    healthy = run_module(env, "status", "www-nomad")
    assert healthy.code == 0, healthy.err
    assert "www-nomad" in healthy.out
    broken = run_module(env, "status", "services-scribe-api")
    assert broken.code == 2
    check = run_module(env, "check", "--json")
    assert check.code == 2 and check.out.lstrip().startswith("{")


def test_e2e_errors_are_one_line(sim_thread: Sim, tmp_path: Path) -> None:
    refused = run_module(base_env(tmp_path, sim_thread, NOMAD_TOKEN=BAD_TOKEN), "jobs")
    assert refused.code == 1 and "NOMAD_TOKEN" in one_error_line(refused.err)
    assert BAD_TOKEN not in refused.out + refused.err
    addr = f"http://127.0.0.1:{closed_port()}"
    unreachable = run_module(base_env(tmp_path, NOMAD_ADDR=addr), "status", "x")
    assert unreachable.code == 1 and addr in one_error_line(unreachable.err)
    unknown = run_module(base_env(tmp_path, sim_thread), "job-to-alloc", UNKNOWN)
    assert unknown.code == 1 and f"job {UNKNOWN} not found" in one_error_line(unknown.err)
