"""`nomtui resubmit`: no downtime by default, --stop-first confirmed, refusals, no files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nomtui.actions.resubmit import revived, wait_stopped
from nomtui.models.allocs import AllocStub
from tests.commands import base_env, invoke, one_error_line

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

JOB = "www-wiki"
EVAL = re.compile(r"evaluation ([0-9a-f-]{36})$")


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    return sim_config


def _api(sim: Sim, method: str, path: str, **params: str) -> Any:
    headers = {"X-Nomad-Token": sim.management_token}
    resp = httpx.request(method, sim.nomad_addr + path, params=params, headers=headers, timeout=10)
    resp.raise_for_status()
    return resp.json()


def _job(sim: Sim) -> dict[str, Any]:
    job: dict[str, Any] = _api(sim, "GET", f"/v1/job/{JOB}", namespace="default")
    return job


def _live(sim: Sim) -> set[str]:
    allocs = _api(sim, "GET", f"/v1/job/{JOB}/allocations", namespace="default")
    return {
        a["ID"] for a in allocs if a["DesiredStatus"] == "run" and a["ClientStatus"] != "complete"
    }


def test_resubmit_keeps_the_job_running(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, running = _job(sim_thread), _live(sim_thread)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    ran = invoke(base_env(tmp_path, sim_thread), "resubmit", JOB)
    assert ran.code == 0, ran.err
    match = EVAL.search(ran.out.strip())
    assert match and ran.out.startswith(f"Resubmitted job {JOB} (namespace default)")
    assert _api(sim_thread, "GET", f"/v1/evaluation/{match[1]}")["JobID"] == JOB
    after = _job(sim_thread)
    assert after["Version"] == before["Version"] and after["Stop"] is False
    assert _live(sim_thread) == running  # nothing was stopped
    assert list(workdir.iterdir()) == []  # no `.www-wiki` dotfile, unlike the alias


def test_resubmit_revives_a_stopped_job(sim_thread: Sim, tmp_path: Path) -> None:
    _api(sim_thread, "DELETE", f"/v1/job/{JOB}", namespace="default")
    assert _job(sim_thread)["Stop"] is True
    ran = invoke(base_env(tmp_path, sim_thread), "resubmit", "--json", JOB)
    assert ran.code == 0
    result = json.loads(ran.out)
    assert result["was_stopped"] is True and result["stopped_first"] is False
    assert _job(sim_thread)["Stop"] is False
    assert _live(sim_thread)  # placed again


def test_stop_first_needs_yes_without_a_terminal(sim_thread: Sim, tmp_path: Path) -> None:
    before = _job(sim_thread)
    ran = invoke(base_env(tmp_path, sim_thread), "resubmit", "--stop-first", JOB)
    assert ran.code == 1
    assert "add --yes" in one_error_line(ran.err)
    assert _job(sim_thread)["JobModifyIndex"] == before["JobModifyIndex"]


def test_stop_first_asks_on_a_terminal(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nomtui.commands.resubmit._interactive", lambda: True)
    before, running = _job(sim_thread), _live(sim_thread)
    declined = invoke(base_env(tmp_path, sim_thread), "resubmit", "--stop-first", JOB, input="n\n")
    assert declined.code == 1 and "Stop job www-wiki" in declined.out
    assert _job(sim_thread)["JobModifyIndex"] == before["JobModifyIndex"]
    accepted = invoke(base_env(tmp_path, sim_thread), "resubmit", "--stop-first", JOB, input="y\n")
    assert accepted.code == 0, accepted.err
    assert "Stopped job www-wiki" in accepted.out and "Resubmitted job www-wiki" in accepted.out
    assert not running & _live(sim_thread)  # the old allocations were stopped
    assert _job(sim_thread)["Stop"] is False


def test_stop_first_with_yes(sim_thread: Sim, tmp_path: Path) -> None:
    running = _live(sim_thread)
    ran = invoke(base_env(tmp_path, sim_thread), "resubmit", "--stop-first", "--yes", "--json", JOB)
    assert ran.code == 0, ran.err
    result = json.loads(ran.out)
    assert result["stopped_first"] is True and result["stop_settled"] is True
    assert result["stop_eval_id"] and result["eval_id"] != result["stop_eval_id"]
    assert not running & _live(sim_thread)


def test_read_only_refuses_before_any_request(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    async def spy(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        sent.append(request.method)
        raise AssertionError("no request may be sent")

    monkeypatch.setattr(httpx.AsyncClient, "send", spy)
    ran = invoke(base_env(tmp_path, sim_thread), "--read-only", "resubmit", JOB)
    assert ran.code == 1
    assert "read-only" in one_error_line(ran.err)
    assert sent == []


def test_read_only_token_is_refused_by_the_cluster(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread, NOMAD_TOKEN=sim_thread.read_token)
    ran = invoke(env, "resubmit", JOB)
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert "403" in line and "NOMAD_TOKEN" in line
    assert sim_thread.read_token not in ran.out + ran.err


# -- pure parts ---------------------------------------------------------------------------


def test_revived_clears_stop_and_keeps_the_rest() -> None:
    spec = {"ID": "x", "Stop": True, "Unmodelled": {"Field": 1}}
    assert revived(spec) == {"ID": "x", "Stop": False, "Unmodelled": {"Field": 1}}
    assert spec["Stop"] is True  # the fetched spec is not changed in place


class _NeverStops:
    calls = 0

    async def job_allocations(self, job_id: str, namespace: str) -> list[AllocStub]:
        self.calls += 1
        return [AllocStub(ID="a", DesiredStatus="run", ClientStatus="running")]


async def test_wait_stopped_gives_up_at_the_deadline() -> None:
    client, now = _NeverStops(), [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    settled = await wait_stopped(
        client,  # type: ignore[arg-type]
        "x",
        "default",
        timeout_s=2,
        poll_s=0.5,
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert settled is False and client.calls == 5
