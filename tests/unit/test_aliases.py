"""aliases.sh: every nom-* name of the Internet Archive file reaches its nomtui command.

The file is sourced by bash and by zsh (zsh skipped, saying so, when missing; .ci/run
installs it) with a fake `nomtui` first on PATH that prints its arguments.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ALIASES = Path(__file__).resolve().parents[2] / "aliases.sh"

# function -> the nomtui arguments it must produce when called with "a1" "a 2".
EXPECTED = {
    "nom-app": ["app"],
    "nom-ssh": ["ssh"],
    "nom-sshn": ["sshn"],
    "nom-cp": ["cp"],
    "nom-logs": ["logs", "-f"],
    "nom-logs-err": ["logs", "-f", "--stderr"],
    "nom-status": ["status"],
    "nom-urls": ["urls"],
    "nom-resubmit": ["resubmit"],
    "nom-job-from-cwd": ["job-from-cwd"],
    "nom-image-from-cwd": ["image-from-cwd"],
    "nom-job-to-alloc": ["job-to-alloc"],
    "nom-tunnel": ["tunnel"],
    "nom-deploys-check": ["check"],
    "nom-deploys-check-only": ["check", "--only"],
    "d": ["containers", "--all"],
    "nom": ["overview"],
}
ARGS = ["a1", "a 2"]

SHELLS = [
    "bash",
    pytest.param(
        "zsh",
        marks=pytest.mark.skipif(
            shutil.which("zsh") is None, reason="zsh not installed (.ci/run installs it)"
        ),
    ),
]


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A directory with a `nomtui` that prints `NOMTUI <arg>|<arg>|...` and NOMAD_ADDR."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nomtui"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ -n "${_NOMTUI_COMPLETE-}" ]; then\n'
        '  echo "echo COMPLETION $_NOMTUI_COMPLETE"; exit\n'
        "fi\n"
        'out="NOMTUI"\n'
        'for a in "$@"; do out="$out|$a"; done\n'
        'echo "$out"\n'
        'echo "ADDR=${NOMAD_ADDR-unset}"\n'
    )
    fake.chmod(0o755)
    return bin_dir


def _run(
    shell: str, script: str, fake_bin: Path, home: Path, *flags: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{fake_bin}{os.pathsep}/usr/bin:/bin",
        "HOME": str(home),
        "TERM": "dumb",
    }
    return subprocess.run(
        [shell, *flags, "-c", f'. "{ALIASES}"\n{script}'],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def test_bash_parses_it() -> None:
    done = subprocess.run(["bash", "-n", str(ALIASES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed (.ci/run installs it)")
def test_zsh_parses_it() -> None:
    done = subprocess.run(["zsh", "-n", str(ALIASES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_every_function_reaches_its_subcommand(shell: str, fake_bin: Path, tmp_path: Path) -> None:
    calls = "\n".join(f"{name} a1 'a 2'" for name in EXPECTED)
    done = _run(shell, calls, fake_bin, tmp_path)
    assert done.returncode == 0, done.stderr
    got = [line.split("|")[1:] for line in done.stdout.splitlines() if line.startswith("NOMTUI")]
    assert got == [[*args, *ARGS] for args in EXPECTED.values()]
    assert done.stderr == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_config_nomad_is_sourced(shell: str, fake_bin: Path, tmp_path: Path) -> None:
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "nomad").write_text("export NOMAD_ADDR=https://dev.example:4646\n")
    done = _run(shell, "nom-status", fake_bin, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ADDR=https://dev.example:4646" in done.stdout.splitlines()


@pytest.mark.parametrize("shell", SHELLS)
def test_line_prints_a_rule(shell: str, fake_bin: Path, tmp_path: Path) -> None:
    done = _run(shell, "line", fake_bin, tmp_path)
    assert done.stdout == "_" * 100 + "\n\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_user_alias_does_not_break_the_definitions(
    shell: str, fake_bin: Path, tmp_path: Path
) -> None:
    # `alias d=...` before sourcing would break a `d() {` definition in bash.
    script = f"alias d='echo ALIAS'\n. \"{ALIASES}\"\nunalias d\nd x"
    done = _run(
        shell, script, fake_bin, tmp_path, *(["-O", "expand_aliases"] if shell == "bash" else [])
    )
    assert done.returncode == 0, done.stderr
    assert "NOMTUI|containers|--all|x" in done.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_only_in_interactive_shells(shell: str, fake_bin: Path, tmp_path: Path) -> None:
    kind = f"{shell}_source"
    quiet = ["--norc", "--noprofile"] if shell == "bash" else ["-f"]
    interactive = _run(shell, "true", fake_bin, tmp_path, *quiet, "-i")
    assert f"COMPLETION {kind}" in interactive.stdout, interactive.stderr
    batch = _run(shell, "true", fake_bin, tmp_path, *quiet)
    assert "COMPLETION" not in batch.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_no_completion_without_nomtui(shell: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    quiet = ["--norc", "--noprofile"] if shell == "bash" else ["-f"]
    done = _run(shell, "true", empty, tmp_path, *quiet, "-i")
    assert done.returncode == 0
    assert "COMPLETION" not in done.stdout and "not found" not in done.stderr
