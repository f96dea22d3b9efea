"""The `nomtui` command line: help, one-line errors, fast start, the sim command."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from nomtui.cli import cli
from nomtui.errors import NotFound

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="nomtui")
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_commands() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    assert "sim" in out and "demo" in out


def test_no_command_shows_help() -> None:
    code, out, _ = _run()
    assert code == 0 and "Usage:" in out


def test_sim_help_has_the_curl_example() -> None:
    code, out, _ = _run("sim", "--help")
    assert code == 0 and "X-Nomad-Token" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["sim", "--port", "-1"], "--port"),
        (["sim", "--port", "70000"], "--port"),
        (["sim", "--consul-port", "-5"], "--consul-port"),
        (["sim", "--error-rate", "1.5"], "--error-rate"),
        (["sim", "--error-rate", "-0.1"], "--error-rate"),
        (["sim", "--latency-ms", "-3"], "--latency-ms"),
        (["sim", "--seed", "-1"], "--seed"),
        (["sim", "--jobs", "0"], "--jobs"),
        (["sim", "--bogus"], "--bogus"),
        (["--bogus"], "--bogus"),
        (["nosuchcommand"], "nosuchcommand"),
        (["sim", "--host", "192.0.2.1"], "--allow-non-loopback"),
        (["sim", "--host", "example.com"], "--allow-non-loopback"),
    ],
)
def test_bad_flags_give_one_line_and_nonzero_exit(args: list[str], needle: str) -> None:
    code, out, err = _run(*args)
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ") and needle in lines[0]
    assert "Traceback" not in err


def test_nomtui_errors_become_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*args: object, **kwargs: object) -> None:
        raise NotFound("http://127.0.0.1:4646", "/v1/job/x", "job not found")

    monkeypatch.setattr("nomtui.cli._serve_sim", boom)
    code, _, err = _run("sim", "--port", "0", "--consul-port", "0")
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("Error: Nomad at http://127.0.0.1:4646 has nothing at /v1/job/x")


def test_help_does_not_import_textual_or_the_sim() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['nomtui', '--help']\n"
        "from nomtui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'aiohttp')"
        " or m.startswith('nomtui.sim') or m.startswith('nomtui.tui'))\n"
        "print('LOADED', bad, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "LOADED []" in done.stderr, done.stderr


def _busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _sim_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "nomtui", "sim", *args]


def test_sim_port_in_use_is_one_line() -> None:
    with _busy_port() as busy:
        port = busy.getsockname()[1]
        done = subprocess.run(
            _sim_cmd("--port", str(port), "--consul-port", "0"),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: port {port} is in use; pick another with --port"


def test_sim_consul_port_in_use_names_the_right_flag() -> None:
    with _busy_port() as busy:
        port = busy.getsockname()[1]
        done = subprocess.run(
            _sim_cmd("--port", "0", "--consul-port", str(port)),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 1
    assert done.stderr.strip() == (f"Error: port {port} is in use; pick another with --consul-port")


def test_sim_prints_exports_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _sim_cmd(
            "--port",
            "0",
            "--consul-port",
            "0",
            "--token",
            "tok-mgmt",
            "--read-token",
            "tok-read",
            "--data-dir",
            str(tmp_path / "d"),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        exports = dict(m.groups() for line in lines if (m := re.match(r"export (\w+)=(\S+)", line)))
        assert set(exports) == {"NOMAD_ADDR", "CONSUL_HTTP_ADDR", "NOMAD_TOKEN"}
        assert exports["NOMAD_TOKEN"] == "tok-mgmt"
        assert any(line.startswith("#") and "tok-read" in line for line in lines)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exports["NOMAD_ADDR"])
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err


TOKEN = "b1e55ed5-7a1e-4bad-8ead-c0ffee000042"


def test_config_shows_sources_and_masks_the_token(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "NOMAD_ADDR": "https://nomad.example.org", "NOMAD_TOKEN": TOKEN}
    result = CliRunner().invoke(cli, ["--region", "eu", "config"], env=env)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "env NOMAD_ADDR" in lines["nomad.address"]
    assert "flag --region" in lines["nomad.region"]
    assert "env NOMAD_TOKEN" in lines["nomad.token"]
    assert TOKEN not in result.output


def test_config_json_masks_the_token(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "NOMAD_TOKEN": TOKEN}
    result = CliRunner().invoke(cli, ["config", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    assert '"address": "http://127.0.0.1:4646"' in result.output


def test_config_errors_are_one_line(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "NOMAD_SKIP_VERIFY": "maybe"}
    code, _out, err = _run_env(["config"], env)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("Error: ")


def _run_env(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    full = {**os.environ, **env}
    proc = subprocess.run(
        [sys.executable, "-m", "nomtui", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr
