"""The audit log: a write through a one-shot, an exec, a copy and a write through the TUI
each append one JSON line (time, cluster, token name, action, target, result) to a 0600
file in a 0700 directory; refusals and failures are recorded too; no secret is written;
and a log that cannot be written warns once without stopping the action."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import stat
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.css.query import NoMatches

from nomtui.actions.lookup import nomad_client
from nomtui.audit import auditor_for, target_of
from nomtui.client.consul import ConsulClient
from nomtui.errors import NotFound, ReadOnlyRefused, Unauthorized
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from nomtui.tui.widgets.confirm import ConfirmScreen
from tests.commands import base_env, invoke
from tests.security.helpers import CANARY, settings_for

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

JOB = "www-nomad"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.token = CANARY
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


def audit_file(home: Path) -> Path:
    return home / ".state" / "nomtui" / "audit.log"


def lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="ascii")
    assert CANARY not in text
    return [json.loads(line) for line in text.splitlines()]


def running_alloc(sim: Sim, job: str = JOB) -> str:
    return next(
        str(a["ID"])
        for a in sim.state.allocs.values()
        if a["JobID"] == job and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    )


def restarts(sim: Sim, alloc: str) -> int:
    return int(sim.state.allocs[alloc]["TaskStates"]["http"]["Restarts"])


def check_common(line: dict[str, Any], sim: Sim) -> None:
    assert TIME.fullmatch(line["time"]), line
    assert line["cluster"] == sim.nomad_addr and line["address"] == sim.nomad_addr
    assert line["token"] == "sim management"
    assert line["accessor"] == sim.acl.management.accessor_id


def test_a_one_shot_write_appends_one_line(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "resubmit", JOB)
    assert ran.code == 0, ran.err
    path = audit_file(tmp_path)
    [line] = lines(path)
    check_common(line, sim_thread)
    assert line["action"] == f"register job {JOB}"
    assert line["target"] == {"job": JOB, "namespace": "default"}
    assert line["result"] == "ok"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_exec_and_copy_are_recorded(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    assert invoke(env, "ssh", JOB, "--", "sh", "-c", "exit 3").code == 3
    local = tmp_path / "app.conf"
    local.write_text("x = 1\n")
    assert invoke(env, "cp", "--job", JOB, str(local), "conf/app.conf").code == 0
    shell, copy = lines(audit_file(tmp_path))
    alloc = running_alloc(sim_thread)
    for line in (shell, copy):
        check_common(line, sim_thread)
    assert shell["action"] == "exec"
    assert shell["target"] == {"alloc": alloc, "task": "http", "command": "sh -c 'exit 3'"}
    assert shell["result"] == "ok (exit code 3)"
    assert copy["action"] == "copy in"
    assert copy["target"] == {
        "alloc": alloc,
        "task": "http",
        "path": "conf/app.conf",
        "source": str(local),
    }
    assert copy["result"].startswith("ok (1 file(s), 6 bytes")


def test_the_log_can_be_moved_by_env_and_config(sim_thread: Sim, tmp_path: Path) -> None:
    toml = tmp_path / ".config" / "nomtui" / "config.toml"
    toml.parent.mkdir(parents=True)
    toml.write_text('audit_log = "~/from-config.log"\n')
    env = base_env(tmp_path, sim_thread)
    assert invoke(env, "resubmit", JOB).code == 0
    assert len(lines(tmp_path / "from-config.log")) == 1
    assert invoke({**env, "NOMTUI_AUDIT_LOG": str(tmp_path / "env.log")}, "resubmit", JOB).code == 0
    assert len(lines(tmp_path / "env.log")) == 1
    assert not audit_file(tmp_path).exists()


async def test_failures_and_refusals_are_recorded(sim: Sim, tmp_path: Path) -> None:
    alloc = running_alloc(sim)
    # Refused by the cluster: the read-only token may not stop allocations.
    async with nomad_client(settings_for(sim, tmp_path, token=sim.read_token)) as client:
        with pytest.raises(Unauthorized):
            await client.stop_allocation(alloc)
    # Refused here, before anything is sent.
    settings = settings_for(sim, tmp_path, env={"NOMTUI_AUDIT_LOG": str(tmp_path / "ro.log")})
    async with nomad_client(settings) as client:
        client.read_only = True
        with pytest.raises(ReadOnlyRefused):
            await client.stop_job(JOB, "default")
    [failed] = lines(audit_file(tmp_path))
    assert failed["action"] == f"stop allocation {alloc[:8]}"
    assert failed["target"] == {"alloc": alloc}
    assert failed["token"] == "sim read-only"
    assert failed["result"].startswith("error: Nomad at ") and "403" in failed["result"]
    assert sim.read_token not in audit_file(tmp_path).read_text()
    [refused] = lines(tmp_path / "ro.log")
    assert refused["result"] == "refused: read-only"
    assert refused["target"] == {"job": JOB, "namespace": "default"}
    assert sim.state.allocs[alloc]["DesiredStatus"] == "run"


async def test_an_unwritable_log_warns_once_and_the_action_goes_ahead(
    sim: Sim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the log's directory should be")
    settings = settings_for(sim, tmp_path, env={"NOMTUI_AUDIT_LOG": str(blocked / "audit.log")})
    async with nomad_client(settings) as client:
        first = await client.evaluate_job(JOB, "default")
        second = await client.evaluate_job(JOB, "default")
    assert first.EvalID and second.EvalID
    err = capsys.readouterr().err
    assert err.count("warning: cannot write the audit log") == 1
    assert "actions go ahead but are not recorded" in err


async def test_hostile_names_are_escaped_in_the_log(sim: Sim, tmp_path: Path) -> None:
    hostile = "evil\x1b]52;c;cHduZWQ=\x07\x1b[2J\u202ejob"
    async with nomad_client(settings_for(sim, tmp_path)) as client:
        with pytest.raises(NotFound):
            await client.stop_job(hostile, "default")
    raw = audit_file(tmp_path).read_bytes()
    assert all(32 <= b < 127 or b == 10 for b in raw)
    [line] = lines(audit_file(tmp_path))
    assert line["target"]["job"] == hostile  # exact once decoded


def test_targets_of_every_kind_of_write() -> None:
    assert target_of("/v1/job/a%2Fb/dispatch", {}, {"namespace": "ns"}, None) == {
        "job": "a/b",
        "namespace": "ns",
    }
    assert target_of("/v1/jobs", {"Job": {"ID": "web", "Namespace": "x"}}, None, "default") == {
        "job": "web",
        "namespace": "x",
    }
    assert target_of("/v1/client/allocation/abc/restart", {}, None, "default") == {"alloc": "abc"}
    assert target_of("/v1/node/n1/drain", {}, None, None) == {"node": "n1"}
    assert target_of("/v1/deployment/promote/d1", {}, None, None) == {"deployment": "d1"}


async def until(pilot: Any, check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def test_a_write_through_the_tui_appends_one_line(sim: Sim, tmp_path: Path) -> None:
    """The TUI gets its client from the same `nomad_client` as the one-shots (cli.py)."""
    settings = settings_for(sim, tmp_path)
    alloc = running_alloc(sim)
    before = restarts(sim, alloc)

    def store() -> Store:
        consul = ConsulClient(sim.consul_addr, None)
        return Store(nomad_client(settings), consul, read_only=False, wait_s=2)

    app = NomtuiApp(store, address="http://nomad.example:4646", namespace="*")
    async with app.run_test(size=(160, 40)) as pilot:
        app.open("allocs", job_id=JOB)
        await until(pilot, lambda: _shows(app, alloc))
        _select(app, alloc)
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(
            pilot, lambda: sim.state.allocs[alloc]["TaskStates"]["http"]["Restarts"] > before
        )
        await until(pilot, lambda: audit_file(tmp_path).exists())
    [line] = lines(audit_file(tmp_path))
    check_common(line, sim)
    assert line["action"] == f"restart allocation {alloc[:8]}"
    assert line["target"] == {"alloc": alloc}
    assert line["result"] == "ok"


def _table(app: NomtuiApp) -> Any:
    from nomtui.tui.widgets.live_table import LiveTable

    return app.screen.query_one("#allocs", LiveTable)


def _shows(app: NomtuiApp, alloc: str) -> bool:
    try:
        return alloc in _table(app).shown_keys
    except NoMatches:  # the screen is not mounted yet
        return False


def _select(app: NomtuiApp, alloc: str) -> None:
    table = _table(app)
    table.move_cursor(row=table.get_row_index(alloc))


def test_a_crash_right_after_the_write_keeps_the_line(sim_thread: Sim, tmp_path: Path) -> None:
    """The line is written (not buffered) before the call returns: a process killed the
    next instant, with no cleanup at all, has still recorded it."""
    code = (
        "import asyncio, os\n"
        "from nomtui.actions.lookup import nomad_client\n"
        "from nomtui.config import Flags, resolve\n"
        "async def main():\n"
        "    client = nomad_client(resolve(Flags()))\n"
        f"    await client.evaluate_job({JOB!r}, 'default')\n"
        "    os._exit(9)\n"
        "asyncio.run(main())\n"
    )
    env = {k: v for k, v in base_env(tmp_path, sim_thread).items() if v is not None}
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "NOMTUI_"))}
    done = subprocess.run(
        [sys.executable, "-c", code], env=full | env, capture_output=True, timeout=60
    )
    assert done.returncode == 9, done.stderr
    [line] = lines(audit_file(tmp_path))
    assert line["action"] == f"evaluate job {JOB}" and line["result"] == "ok"


async def test_an_audited_client_is_not_kept_alive(sim: Sim, tmp_path: Path) -> None:
    client = nomad_client(settings_for(sim, tmp_path))
    http = weakref.ref(client.http)
    assert auditor_for(client.http) is not None
    await client.aclose()
    del client
    gc.collect()
    assert http() is None
