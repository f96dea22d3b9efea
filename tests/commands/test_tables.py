"""`nomtui jobs`, `allocs`, `nodes`, `services` and `job-to-alloc` against the sim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nomtui.output import Cell, color_enabled, json_text, render_table
from tests.commands import base_env, closed_port, invoke, one_error_line
from tests.unit.test_repo import make_checkout

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    return sim_config


def _api(sim: Sim, method: str, path: str, body: Any = None, **params: str) -> Any:
    headers = {"X-Nomad-Token": sim.management_token}
    resp = httpx.request(
        method, sim.nomad_addr + path, json=body, params=params, headers=headers, timeout=10
    )
    resp.raise_for_status()
    return resp.json()


def _running(sim: Sim, job: str) -> list[dict[str, Any]]:
    allocs = _api(sim, "GET", f"/v1/job/{job}/allocations", namespace="default")
    return [a for a in allocs if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"]


# -- jobs ---------------------------------------------------------------------------------


def test_jobs_lists_every_namespace(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "jobs")
    assert ran.code == 0
    assert ran.out.splitlines()[0].split()[:4] == ["ID", "NAMESPACE", "TYPE", "STATUS"]
    assert "ops-grafana" in ran.out and "www-nomad" in ran.out
    assert "batch/periodic" in ran.out and "batch/param" in ran.out


def test_jobs_in_one_namespace_as_json(sim_thread: Sim, tmp_path: Path) -> None:
    for args in (["jobs", "-n", "ops", "--json"], ["-n", "ops", "jobs", "--json"]):
        ran = invoke(base_env(tmp_path, sim_thread), *args)
        assert ran.code == 0
        jobs = json.loads(ran.out)
        assert {j["ID"] for j in jobs} == {"ops-grafana", "ops-prometheus"}
        assert all(j["Namespace"] == "ops" for j in jobs)


def test_cluster_text_is_sanitised_in_tables(sim_thread: Sim, tmp_path: Path) -> None:
    spec = _api(sim_thread, "GET", "/v1/job/www-nomad", namespace="default")
    evil = "evil\x1b]0;pwned\x07\x1b[2J-job"
    _api(sim_thread, "PUT", "/v1/jobs", {"Job": {**spec, "ID": evil, "Name": evil}})
    ran = invoke(base_env(tmp_path, sim_thread), "jobs")
    assert "\x1b" not in ran.out and "\x07" not in ran.out
    assert "evil-job" in ran.out
    as_json = invoke(base_env(tmp_path, sim_thread), "jobs", "--json").out
    assert "\x1b" not in as_json  # escaped, so a terminal shows it harmlessly...
    assert evil in {j["ID"] for j in json.loads(as_json)}  # ...and jq gets the real ID


# -- allocations --------------------------------------------------------------------------


def test_allocs_of_a_job_current_and_all(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    current = invoke(env, "allocs", "services-pyhi")
    assert current.code == 0
    assert len(current.out.splitlines()) == 1 + 3  # header + the three running ones
    assert "complete" not in current.out
    every = invoke(env, "allocs", "services-pyhi", "--all")
    assert "complete" in every.out and len(every.out.splitlines()) == 1 + 4


def test_allocs_outside_a_checkout_lists_the_cluster(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = invoke(base_env(tmp_path, sim_thread), "allocs", "--json")
    assert ran.code == 0
    jobs = {a["JobID"] for a in json.loads(ran.out)}
    assert {"www-nomad", "ops-grafana", "services-pyhi"} <= jobs
    table = invoke(base_env(tmp_path, sim_thread), "allocs")
    assert "ops/ops-grafana" in table.out  # the JOB column appears for a cluster-wide list


def test_allocs_inside_a_checkout_uses_its_job(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(make_checkout(tmp_path / "repo", url="git@host:services/pyhi.git"))
    ran = invoke(base_env(tmp_path, sim_thread), "allocs", "--json")
    assert {a["JobID"] for a in json.loads(ran.out)} == {"services-pyhi"}


# -- nodes and services -------------------------------------------------------------------


def test_nodes_table_and_json(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "nodes")
    assert ran.code == 0
    assert "nomad-dc1-01" in ran.out and "down" in ran.out and "draining" in ran.out
    nodes = json.loads(invoke(env, "nodes", "--json").out)
    assert {n["Name"] for n in nodes} >= {"nomad-dc1-01", "nomad-dc1-04"}


def test_services_counts_instances_by_health(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    services = {s["name"]: s for s in json.loads(invoke(env, "services", "--json").out)}
    assert services["services-pyhi"]["instances"] == 3
    assert services["services-pyhi"]["passing"] == 3
    assert services["services-scribe-api"]["critical"] == 1
    assert "https://services-pyhi.dev.archive.org" in services["services-pyhi"]["tags"]
    table = invoke(env, "services")
    assert table.code == 0 and "services-scribe-api" in table.out


def test_services_without_consul_is_one_error(sim_thread: Sim, tmp_path: Path) -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(base_env(tmp_path, sim_thread, CONSUL_HTTP_ADDR=addr), "services")
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert addr in line and "CONSUL_HTTP_ADDR" in line


# -- job-to-alloc -------------------------------------------------------------------------


def test_job_to_alloc_prints_the_newest_running_one(sim_thread: Sim, tmp_path: Path) -> None:
    running = _running(sim_thread, "services-pyhi")
    newest = max(running, key=lambda a: a["CreateIndex"])
    ran = invoke(base_env(tmp_path, sim_thread), "job-to-alloc", "services-pyhi")
    assert ran.code == 0
    assert ran.out == newest["ID"] + "\n"


def test_job_to_alloc_all_and_json(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "job-to-alloc", "--all", "services-pyhi")
    ids = ran.out.split()
    assert sorted(ids) == sorted(a["ID"] for a in _running(sim_thread, "services-pyhi"))
    as_json = json.loads(invoke(env, "job-to-alloc", "--json", "services-pyhi").out)
    assert [a["ID"] for a in as_json] == ids[:1]


def test_job_to_alloc_without_running_allocation(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "job-to-alloc", "services-thumbnailer")
    assert ran.code == 1
    assert "job services-thumbnailer has no running allocation" in one_error_line(ran.err)
    assert ran.out == ""


# -- nomtui.output ------------------------------------------------------------------------


class _Tty:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NOMAD_CLI_NO_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
        ({"NOMAD_CLI_FORCE_COLOR": "1"}, False, True),
    ],
)
def test_color_enabled(env: dict[str, str], tty: bool, expected: bool) -> None:
    assert color_enabled(_Tty(tty), env) is expected  # type: ignore[arg-type]


def test_render_table_aligns_on_clean_text_and_colours_only_text() -> None:
    rows: list[list[str | Cell]] = [["a\x1b[31mb", Cell("ok", "good")], ["long-name", "x"]]
    plain = render_table(["NAME", "STATE"], rows)
    assert plain == ["NAME       STATE", "ab         ok", "long-name  x"]
    coloured = render_table(["NAME", "STATE"], rows, color=True)
    assert coloured[1] == "ab         \x1b[32mok\x1b[0m"


def test_json_text_escapes_what_a_terminal_would_act_on() -> None:
    text = json_text({"id": "x\x9b2J\u202eevil\x1b]0;t\x07"})
    assert "\x9b" not in text and "\u202e" not in text and "\x1b" not in text
    assert json.loads(text) == {"id": "x\x9b2J\u202eevil\x1b]0;t\x07"}
