"""Control sequences from the cluster never act on the user's terminal.

A job, its group, a task, a service tag, its meta and its log lines carry OSC 52
clipboard writes, screen clears, title changes, hyperlinks, an 8-bit CSI, a bidi
override and (where Nomad allows it) NUL, plus Rich markup. Every command prints them
inert, `--json` escapes them (and still gives the exact value back), `logs --raw` passes
them through as asked, and every screen of the TUI shows the visible text around them
without a single raw control character, markup left as typed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from tests.commands import base_env, invoke

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim

OSC52 = "\x1b]52;c;cHduZWQ=\x07"
CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned-title\x07"
LINK = "\x1b]8;;http://evil.example/\x1b\\"
C1 = "\x9b31m"
BIDI = "\u202e"
NUL = "\x00"
IN_NAMES = OSC52 + CLEAR + TITLE + C1 + BIDI
"""Nomad refuses `/` and NUL in task names (they name directories): the rest is fair game."""
EVERYTHING = IN_NAMES + LINK + NUL
JOB = f"evil{IN_NAMES}{LINK}[b]mk[/b]-job"
JOB_SHOWN = "evil[b]mk[/b]-job"
TASK = f"side{IN_NAMES}car"
TASK_SHOWN = "sidecar"
TAG_SHOWN = "https://evil.example.org"
LOG = (
    f"line one {EVERYTHING} end\n".encode()
    + b"\x1b[?1049h\x1bc\x1b(0reset attempt\n"
    + b"bad bytes \xff\xfe\x9b2J here\n"
)
LOG_SHOWN = ["line one  end", "reset attempt", "bad bytes"]
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_inert(text: str, where: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"{where}: {found.group()!r} at {found.start()} in {text[:300]!r}"


# -- the cluster ----------------------------------------------------------------------------


def _plant(sim: Sim) -> None:
    from nomtui.sim import demo_jobs, seed

    http = demo_jobs.http_task("registry.example/evil:1")
    side = {**demo_jobs.http_task("registry.example/evil:1"), "Name": TASK}
    group = demo_jobs.service_group(f"web{IN_NAMES}", ["evil-svc.example.org"], [http, side])
    group["Services"][0]["Tags"].append(f"https://evil{IN_NAMES}.example.org")
    seed.register(sim, demo_jobs.service_job(JOB, [group], Meta={"note": f"n{EVERYTHING}"}))


def _allocs(sim: Sim) -> list[dict[str, Any]]:
    return [a for a in list(sim.state.allocs.values()) if a["JobID"] == JOB]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """A running cluster with the hostile job placed and its logs written."""
    from nomtui.sim.server import SimConfig, SimThread

    runner = SimThread(SimConfig(data_dir=tmp_path_factory.mktemp("hostile"), log_lines_per_s=0))
    sim = runner.start("127.0.0.1", 0, 0)
    try:
        runner.call(lambda: _plant(sim))
        deadline = time.monotonic() + 30
        while not (_allocs(sim) and _allocs(sim)[0]["ClientStatus"] == "running"):
            assert time.monotonic() < deadline, "the hostile job never ran"
            time.sleep(0.1)
        alloc = _allocs(sim)[0]["ID"]
        for task in ("http", TASK):
            runner.call(lambda t=task: sim.files.write_log(alloc, t, "stdout", LOG))
        yield sim
    finally:
        runner.stop()


# -- the one-shots ----------------------------------------------------------------------------


TEXT_COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "jobs": (["jobs"], [JOB_SHOWN]),
    "status": (["status", JOB], [JOB_SHOWN]),
    "allocs": (["allocs", JOB], ["web"]),
    "urls": (["urls", JOB], [TAG_SHOWN]),
    "services": (["services"], ["evil-svc", TAG_SHOWN]),
    "check": (["check"], []),
    "nodes": (["nodes"], []),
    "job-to-alloc": (["job-to-alloc", JOB], []),
    "logs": (["logs", JOB], LOG_SHOWN),
    "logs-task": (["logs", JOB, "--task", TASK], LOG_SHOWN),
    "logs-tail": (["logs", JOB, "--tail", "3"], LOG_SHOWN),
}


@pytest.mark.parametrize("name", sorted(TEXT_COMMANDS))
def test_commands_print_it_inert(name: str, hostile: Sim, tmp_path: Path) -> None:
    args, shown = TEXT_COMMANDS[name]
    ran = invoke(base_env(tmp_path, hostile), *args)
    assert ran.code in (0, 2), ran
    assert_inert(ran.out, "stdout")
    assert_inert(ran.err, "stderr")
    for text in shown:
        assert text in ran.out, ran.out


def _find(data: Any, value: str) -> bool:
    if isinstance(data, dict):
        return any(_find(v, value) for v in data.values()) or value in data
    if isinstance(data, list):
        return any(_find(v, value) for v in data)
    return bool(data == value)


@pytest.mark.parametrize(
    "args",
    [["jobs", "--json"], ["status", JOB, "--json"], ["allocs", JOB, "--json"], ["urls", "--json"]],
    ids=["jobs", "status", "allocs", "urls"],
)
def test_json_escapes_it_and_keeps_the_value(args: list[str], hostile: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, hostile), *args)
    assert ran.code in (0, 2), ran
    assert_inert(ran.out, "--json")
    data = json.loads(ran.out)
    wanted = f"https://evil{IN_NAMES}.example.org" if args[0] == "urls" else JOB
    assert _find(data, wanted)  # jq gets the real value


def test_logs_raw_passes_it_through(hostile: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, hostile), "logs", JOB, "--raw")
    assert ran.code == 0, ran
    assert OSC52 in ran.out and CLEAR in ran.out and LINK in ran.out


# -- the TUI ----------------------------------------------------------------------------------


async def _until(pilot: Pilot[None], check: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.1)


def _text(app: NomtuiApp) -> str:
    svg = app.export_screenshot()
    assert_inert(svg, f"the {type(app.screen).__name__} screen")
    return svg.replace("&#160;", " ")


SCREENS: list[tuple[str, Callable[[str], dict[str, str]], list[str]]] = [
    ("jobs", lambda a: {}, [JOB_SHOWN]),
    ("job", lambda a: {"namespace": "default", "job_id": JOB}, [JOB_SHOWN]),
    ("allocs", lambda a: {"job_id": JOB}, [JOB_SHOWN]),
    ("alloc", lambda a: {"alloc_id": a}, [JOB_SHOWN, TASK_SHOWN]),
    ("logs", lambda a: {"alloc_id": a, "task": "http", "stream": "stdout"}, LOG_SHOWN),
    ("logs", lambda a: {"alloc_id": a, "task": TASK, "stream": "stdout"}, LOG_SHOWN),
    ("services", lambda a: {}, ["evil-svc"]),
    ("deployments", lambda a: {}, [JOB_SHOWN]),
    ("events", lambda a: {}, []),
    ("nodes", lambda a: {}, []),
    ("topology", lambda a: {}, []),
    ("check", lambda a: {}, []),
]


@pytest.mark.parametrize(
    ("kind", "params", "shown"),
    SCREENS,
    ids=[f"{kind}-{i}" for i, (kind, _, _) in enumerate(SCREENS)],
)
async def test_every_screen_shows_it_inert(
    kind: str, params: Callable[[str], dict[str, str]], shown: list[str], hostile: Sim
) -> None:
    alloc = _allocs(hostile)[0]["ID"]

    def store() -> Store:
        nomad = NomadClient(hostile.nomad_addr, Secret(hostile.management_token))
        consul = ConsulClient(hostile.consul_addr, None)
        return Store(nomad, consul, read_only=False, wait_s=2, min_interval_s=0.05)

    app = NomtuiApp(store, address="http://nomad.example:4646", namespace="*")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause(0.5)
        if kind != "jobs":
            app.open(kind, **params(alloc))
        await _until(pilot, lambda: all(text in _text(app) for text in shown))
        await pilot.pause(0.5)  # whatever else loads must be inert too
        _text(app)
