"""A file that holds a token and that group or others can read gets a warning on stderr,
from `nomtui config` and from every one-shot; a 0600 one gets none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands import base_env, closed_port, invoke
from tests.security.helpers import CANARY

WARNING = "is readable by other users"


def shell_file(home: Path, mode: int) -> str:
    path = home / ".config" / "nomad"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"export NOMAD_ADDR=http://127.0.0.1:{closed_port()}\nexport NOMAD_TOKEN={CANARY}\n"
    )
    path.chmod(mode)
    return "~/.config/nomad"


def config_toml(home: Path, mode: int) -> str:
    path = home / ".config" / "nomtui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_cluster = "prod"\n'
        "[clusters.prod]\n"
        f'address = "http://127.0.0.1:{closed_port()}"\n'
        f'token = "{CANARY}"\n'
    )
    path.chmod(mode)
    return "~/.config/nomtui/config.toml"


def token_file(home: Path, mode: int) -> str:
    token = home / "nomad-token"
    token.write_text(CANARY + "\n")
    token.chmod(mode)
    path = home / ".config" / "nomtui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_cluster = "prod"\n'
        "[clusters.prod]\n"
        f'address = "http://127.0.0.1:{closed_port()}"\n'
        'token_file = "~/nomad-token"\n'
    )
    path.chmod(0o600)
    return "~/nomad-token"


@pytest.mark.parametrize("make", [shell_file, config_toml, token_file])
@pytest.mark.parametrize("command", [("config",), ("jobs",), ("status", "web")])
@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_token_file_others_can_read_is_warned_about(
    tmp_path: Path, make: object, command: tuple[str, ...], mode: int, warned: bool
) -> None:
    assert callable(make)
    shown = make(tmp_path, mode)
    ran = invoke(base_env(tmp_path), *command)
    lines = [line for line in ran.err.splitlines() if WARNING in line]
    if warned:
        assert lines == [
            f"warning: {shown} holds a token and {WARNING} (mode {mode:04o}); "
            f"run chmod 600 {shown}."
        ]
    else:
        assert lines == []
    assert CANARY not in ran.out + ran.err
    if command != ("config",):
        # The one-shot still fails (nothing listens there), with its own one sentence.
        errors = [line for line in ran.err.splitlines() if line.startswith("Error: ")]
        assert ran.code == 1 and len(errors) == 1
