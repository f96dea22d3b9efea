"""A recognisable token never shows up anywhere nomtui writes.

Every subcommand (taken from the click group, so a new one fails here until it has
plausible arguments) runs against a cluster that accepts the token, one that refuses it
(403), one that is not there, and a peer that echoes the token back in its error pages;
also with the token given as `--token`. The TUI runs headless over every screen, saves
a log view to a file and exports an SVG of each screen; `screenshots/make.py` renders its
pictures into a temporary directory. The token must not be in stdout, stderr, any file
under HOME (audit log, tunnel records and logs, saved views), Textual's log file, what
Python's logging saw at DEBUG, the SVGs, or the reprs of settings and clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import textual.constants
from rich.console import Console
from rich.pretty import Pretty, pretty_repr
from textual.css.query import NoMatches
from textual.widgets import Input

from nomtui.actions.lookup import nomad_client
from nomtui.cli import cli
from nomtui.client.consul import ConsulClient
from nomtui.client.http import HttpClient
from nomtui.client.nomad import NomadClient
from nomtui.config import Flags
from nomtui.config.secret import Secret
from nomtui.models.base import decode
from nomtui.models.cluster import AclToken
from nomtui.models.frames import ExecAuth
from nomtui.store import Store
from nomtui.tui import registry
from nomtui.tui.app import NomtuiApp
from tests.commands import base_env, closed_port, invoke
from tests.corpus.badserver import BadServer, Reply, rule
from tests.security.helpers import CANARY, settings_for
from tests.security.test_tunnel_loopback import FAKE_SSH

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

JOB = "www-nomad"
ROOT = Path(__file__).resolve().parents[2]

# Every subcommand, with the argument lists to run it with ({file}, {ssh} and {browser}
# are filled in per run). Commands run elsewhere say where instead.
RUNS: dict[str, list[list[str]]] = {
    "allocs": [["allocs", JOB], ["allocs", JOB, "--json"], ["allocs"]],
    "app": [["app", JOB]],
    "check": [["check"], ["check", "--json"]],
    "config": [["config"], ["config", "--json"]],
    "containers": [["containers"], ["containers", "--json"]],
    "cp": [["cp", "--job", JOB, "{file}", "leak/dest"]],
    "image-from-cwd": [["image-from-cwd"]],
    "job-from-cwd": [["job-from-cwd"]],
    "job-to-alloc": [["job-to-alloc", JOB], ["job-to-alloc", JOB, "--json"]],
    "jobs": [["jobs"], ["jobs", "--json"]],
    "logs": [["logs", JOB], ["logs", JOB, "--tail", "5"], ["logs", JOB, "--raw"]],
    "nodes": [["nodes"], ["nodes", "--json"]],
    "overview": [["overview"]],
    "resubmit": [["resubmit", JOB], ["resubmit", JOB, "--json"]],
    "services": [["services"], ["services", "--json"]],
    "ssh": [["ssh", JOB, "--", "echo", "hello"]],
    "sshn": [["sshn", "1", JOB, "--", "true"]],
    "status": [["status", JOB], ["status", JOB, "--json"], ["status", "no-such-job"]],
    "tunnel": [
        ["tunnel", "--ssh", "{ssh}", "--host", "127.0.0.1", "--json"],
        ["tunnel", "list", "--json"],
        ["tunnel", "stop", "--all"],
    ],
    "urls": [["urls", JOB], ["urls", "--json"]],
}
ELSEWHERE = {
    "demo": "the same app as `nomtui`, driven headless below (it needs a terminal)",
    "serve": "test_serve_keeps_the_token_out_of_its_output_and_page, as a real server",
    "sim": "prints its own token on purpose: it is how a user gets one (README)",
}


def test_every_subcommand_is_covered() -> None:
    assert set(cli.commands) == set(RUNS) | set(ELSEWHERE)


# -- where the token could end up ------------------------------------------------------------


class Trap:
    """Collects everything written during a run and says where the token showed up."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.log_file = home / "python-logging.log"
        self.places: list[str] = []

    @contextlib.contextmanager
    def logging_at_debug(self) -> Iterator[None]:
        handler = logging.FileHandler(self.log_file, encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            handler.close()

    def text(self, where: str, text: str | bytes) -> None:
        data = text.encode("utf-8", "replace") if isinstance(text, str) else text
        if CANARY.encode() in data:
            self.places.append(where)

    def files(self) -> None:
        for path in sorted(self.home.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.text(str(path.relative_to(self.home)), path.read_bytes())

    def check(self) -> None:
        assert self.places == [], f"the token leaked into: {self.places}"


# -- the clusters ------------------------------------------------------------------------------


def _sim(tmp: Path, token: str | None) -> Iterator[Sim]:
    from nomtui.sim.server import SimConfig, SimThread

    runner = SimThread(SimConfig(data_dir=tmp, token=token, log_lines_per_s=0))
    try:
        yield runner.start("127.0.0.1", 0, 0)
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def accepting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """A cluster whose management token is the canary."""
    yield from _sim(tmp_path_factory.mktemp("accepting"), CANARY)


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """A cluster that does not know the canary: every request is a 403."""
    yield from _sim(tmp_path_factory.mktemp("refusing"), None)


ECHO = (
    f"ACL token {CANARY} not found; request headers: X-Nomad-Token={CANARY} X-Consul-Token={CANARY}"
).encode()


@pytest.fixture(scope="module")
def echoing() -> Iterator[tuple[BadServer, BadServer]]:
    """A proxy that quotes the token back in every error page (403 for Nomad, 500 Consul)."""
    nomad_rules = [rule("/.*", Reply(status=403, content_type="text/plain", body=ECHO))]
    consul_rules = [rule("/.*", Reply(status=500, content_type="text/plain", body=ECHO))]
    with BadServer(nomad_rules) as nomad, BadServer(consul_rules) as consul:
        yield nomad, consul


@pytest.fixture(scope="module")
def echoing_streams(accepting: Sim) -> Iterator[BadServer]:
    """The accepting cluster behind a proxy that echoes the token where streams and
    writes are answered: exec, logs and job registration."""
    rules = [
        rule("/v1/client/allocation/.*/exec", Reply(status=403, content_type=None, body=ECHO)),
        # 403, not 500: a log read retries a 5xx forever (see the corpus' known bugs).
        rule("/v1/client/fs/logs/.*", Reply(status=403, content_type="text/plain", body=ECHO)),
        rule("/v1/jobs", Reply(status=500, content_type="text/plain", body=ECHO), "PUT"),
    ]
    with BadServer(rules, upstream=accepting.nomad_addr) as proxy:
        yield proxy


def fake_programs(home: Path) -> dict[str, str]:
    ssh = home / "fake-ssh"
    ssh.write_text(f"#!{sys.executable}\n{FAKE_SSH}")
    ssh.chmod(0o755)
    browser = home / "fake-browser"
    browser.write_text(
        f"#!{sys.executable}\nimport sys\nopen(sys.argv[0] + '.urls', 'a').write(sys.argv[1])\n"
    )
    browser.chmod(0o755)
    local = home / "payload.txt"
    local.write_text("payload\n")
    return {"{ssh}": str(ssh), "{browser}": str(browser), "{file}": str(local)}


def env_for(kind: str, home: Path, request: pytest.FixtureRequest) -> dict[str, str | None]:
    if kind == "accepting":
        sim: Sim = request.getfixturevalue("accepting")
        nomad, consul = sim.nomad_addr, sim.consul_addr
    elif kind == "refusing":
        sim = request.getfixturevalue("refusing")
        nomad, consul = sim.nomad_addr, sim.consul_addr
    elif kind == "echoing":
        bad_nomad, bad_consul = request.getfixturevalue("echoing")
        nomad, consul = bad_nomad.address, bad_consul.address
    elif kind == "echoing-streams":
        nomad = request.getfixturevalue("echoing_streams").address
        consul = request.getfixturevalue("accepting").consul_addr
    else:
        nomad = f"http://127.0.0.1:{closed_port()}"
        consul = f"http://127.0.0.1:{closed_port()}"
    return base_env(
        home,
        NOMAD_ADDR=nomad,
        CONSUL_HTTP_ADDR=consul,
        NOMAD_TOKEN=CANARY,
        CONSUL_HTTP_TOKEN=CANARY,
        BROWSER=str(home / "fake-browser") + " %s",
    )


@pytest.mark.parametrize("how", ["env", "flag"])
@pytest.mark.parametrize(
    "kind", ["accepting", "refusing", "unreachable", "echoing", "echoing-streams"]
)
def test_no_subcommand_shows_the_token(
    kind: str,
    how: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    fill = fake_programs(tmp_path)
    env = env_for(kind, tmp_path, request)
    prefix: list[str] = []
    if how == "flag":
        env["NOMAD_TOKEN"] = env["CONSUL_HTTP_TOKEN"] = None
        prefix = ["--token", CANARY, "--consul-token", CANARY]
    trap = Trap(tmp_path)
    with trap.logging_at_debug():
        for name, runs in RUNS.items():
            for args in runs:
                argv = [fill.get(a, a) for a in args]
                ran = invoke(env, *prefix, *argv)
                trap.text(f"{name} {args} stdout", ran.out)
                trap.text(f"{name} {args} stderr", ran.err)
                assert "Traceback" not in ran.err, (name, args, ran.err)
    trap.files()
    trap.check()
    if kind == "accepting":
        # The runs did reach the cluster: the audit log has their writes.
        assert (tmp_path / ".state" / "nomtui" / "audit.log").read_text().count("\n") >= 4


def test_serve_keeps_the_token_out_of_its_output_and_page(accepting: Sim, tmp_path: Path) -> None:
    port = closed_port()
    env = {k: v for k, v in base_env(tmp_path, accepting).items() if v is not None}
    full = {k: v for k, v in os.environ.items() if k not in env} | env
    full.pop("NOMAD_TOKEN")  # the token comes as a flag: the hardest case for serve
    proc = subprocess.Popen(
        [sys.executable, "-m", "nomtui", "--token", CANARY, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full,
        cwd=tmp_path,
        start_new_session=True,
    )
    page = ""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
                break
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert page, err.decode(errors="replace")
    trap = Trap(tmp_path)
    trap.text("serve stdout", out)
    trap.text("serve stderr", err)
    trap.text("served page", page)
    trap.files()
    trap.check()


# -- the TUI -----------------------------------------------------------------------------------


async def _until(pilot: Any, check: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.1)


def _first(sim: Sim, kind: str) -> str:
    if kind == "node":
        return str(sorted(sim.state.nodes)[0])
    return next(
        str(a["ID"])
        for a in sim.state.allocs.values()
        if a["JobID"] == JOB and a["ClientStatus"] == "running"
    )


def _screens(sim: Sim) -> list[tuple[str, dict[str, str]]]:
    alloc = _first(sim, "alloc")
    params = {
        "job": {"namespace": "default", "job_id": JOB},
        "alloc": {"alloc_id": alloc},
        "logs": {"alloc_id": alloc, "task": "http", "stream": "stdout"},
        "node": {"node_id": _first(sim, "node")},
        "allocs": {"job_id": JOB},
    }
    return [(kind, params.get(kind, {})) for kind in registry.SCREENS]


async def _drive(app: NomtuiApp, sim: Sim, out: Path, trap: Trap) -> None:
    async with app.run_test(size=(180, 50)) as pilot:
        await pilot.pause(1.0)
        for kind, params in _screens(sim):
            app.open(kind, **params)
            await pilot.pause(1.0)
            svg = app.export_screenshot(title=f"leak test — {kind}")
            (out / f"{kind}.svg").write_text(svg)
            if kind == "logs":
                await pilot.press("ctrl+s")
                try:
                    box = app.screen.query_one("#save", Input)
                except NoMatches:
                    continue
                box.value = str(out / "saved-view.log")
                await pilot.press("enter")
                await _until(pilot, (out / "saved-view.log").exists)
        for keys in (["question_mark"], ["escape", "colon", "j", "o"]):
            await pilot.press(*keys)
            await pilot.pause(0.5)
            (out / f"keys-{keys[-1]}.svg").write_text(app.export_screenshot())
        await pilot.press("escape")
        app.open("job", namespace="default", job_id="no-such-job")  # an error to show
        await pilot.pause(1.0)
        (out / "error.svg").write_text(app.export_screenshot())
        for note in app._notifications:
            trap.text(f"notification {note.title}", f"{note.title} {note.message}")
        store = app.store
        for obj in (app, store, store.nomad, store.nomad.http, store.consul):
            trap.text(f"repr {type(obj).__name__}", repr(obj))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", ["accepting", "refusing"])
async def test_the_tui_never_shows_the_token(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim: Sim = request.getfixturevalue(kind)
    # TEXTUAL_LOG, as a user debugging the UI would set it (read when the app logs).
    monkeypatch.setattr(textual.constants, "LOG_FILE", str(tmp_path / "textual.log"))
    settings = settings_for(sim, tmp_path, env={"CONSUL_HTTP_TOKEN": CANARY})

    def store() -> Store:
        consul = ConsulClient.from_settings(settings.consul)
        return Store(nomad_client(settings), consul, read_only=False, wait_s=2)

    app = NomtuiApp(store, address=settings.nomad.address, label="leak", namespace="*")
    trap = Trap(tmp_path)
    with trap.logging_at_debug():
        await _drive(app, sim, tmp_path, trap)
    _everything_was_written(tmp_path)
    trap.files()
    trap.check()


def _everything_was_written(out: Path) -> None:
    """The run really wrote what is then searched (an empty search finds nothing)."""
    assert (out / "textual.log").stat().st_size > 0
    assert len(list(out.glob("*.svg"))) >= len(registry.SCREENS)
    assert (out / "saved-view.log").exists()


@pytest.mark.timeout(600)
def test_the_screenshots_script_never_shows_the_token(tmp_path: Path) -> None:
    from nomtui.sim.server import Sim, SimConfig

    # make.py runs the demo cluster of seed 42, whose management token is this one.
    token = Sim(SimConfig(seed=42, data_dir=tmp_path / "unused")).management_token
    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, str(ROOT / "screenshots" / "make.py"), "--out", str(out)],
        capture_output=True,
        cwd=ROOT,
        timeout=540,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    svgs = sorted(out.glob("*.svg"))
    assert len(svgs) >= 10
    blob = done.stdout + done.stderr + b"".join(p.read_bytes() for p in svgs)
    assert token.encode() not in blob
    assert token[:8].encode() not in blob  # not even a recognisable part


# -- reprs -------------------------------------------------------------------------------------


def _shown(obj: object) -> str:
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(Pretty(obj))
    return "\n".join([repr(obj), str(obj), pretty_repr(obj), console.export_text()])


async def test_reprs_of_settings_clients_and_models_hide_it(tmp_path: Path) -> None:
    settings = settings_for_address(tmp_path)
    http = HttpClient("http://127.0.0.1:4646", CANARY)
    nomad = NomadClient("http://127.0.0.1:4646", CANARY, http_auth=Secret(f"user:{CANARY}"))
    consul = ConsulClient("http://127.0.0.1:8500", CANARY, http_auth=Secret(f"u:{CANARY}"))
    token = decode(AclToken, f'{{"SecretID": "{CANARY}", "Name": "ops"}}'.encode())
    try:
        objects: list[object] = [
            settings,
            settings.nomad,
            settings.consul,
            asdict(settings),
            Flags(token=CANARY, consul_token=CANARY),
            Secret(CANARY),
            http,
            nomad,
            consul,
            consul.target,
            token,
            ExecAuth(auth_token=CANARY),
        ]
        for obj in objects:
            assert CANARY not in _shown(obj), type(obj).__name__
            assert CANARY[:8] not in _shown(obj), type(obj).__name__
    finally:
        await http.aclose()
        await nomad.aclose()
        await consul.aclose()


def settings_for_address(home: Path) -> Any:
    from nomtui.config import resolve

    env = {
        "NOMAD_ADDR": f"http://user:{CANARY}@127.0.0.1:4646",
        "NOMAD_TOKEN": CANARY,
        "CONSUL_HTTP_TOKEN": CANARY,
        "CONSUL_HTTP_AUTH": f"user:{CANARY}",
    }
    return resolve(Flags(), env=env, home=home, cwd=home)


def test_help_never_shows_it(tmp_path: Path) -> None:
    """`--help` of every command, with the token in the environment and as a flag."""
    env = base_env(tmp_path, NOMAD_TOKEN=CANARY, CONSUL_HTTP_TOKEN=CANARY)
    for name in [None, *sorted(cli.commands)]:
        args = ["--token", CANARY, *([name] if name else []), "--help"]
        ran = invoke(env, *args)
        assert ran.code == 0, ran
        assert CANARY not in ran.out + ran.err, name
