"""Reading files that hold settings or secrets, and running token commands.

Every failure here is the user's to fix, so each becomes one ConfigError sentence that
names the file or command; none quotes file contents or command output, which may be
the very token being protected.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

from nomtui.config.layer import TokenCommand, TokenEnv, TokenFile, TokenRef
from nomtui.config.secret import Secret
from nomtui.errors import ConfigError

TOKEN_COMMAND_TIMEOUT_S = 10.0


def show_path(path: Path, home: Path) -> str:
    """`path` with the home directory written as `~`, as people write it."""
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)


def expand_path(text: str, home: Path, base: Path) -> Path:
    """A path from config.toml: `~` is the home directory; relative means `base`."""
    if text == "~" or text.startswith("~/"):
        return home / text[2:]
    path = Path(text)
    return path if path.is_absolute() else base / path


def read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{shown} is not UTF-8 text; check that it is the right file.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {shown} ({exc.strerror or exc}); check it.") from None


def loose_permissions(path: Path) -> int | None:
    """The mode of `path` when group or others may read it, else None."""
    if os.name != "posix":
        return None  # Windows ACLs do not map onto these bits
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None  # reading it already failed or will fail with a clearer message
    return mode if mode & (stat.S_IRGRP | stat.S_IROTH) else None


class ExposedSecret(str):
    """A warning that a file holding a secret is readable by other users.

    A `str`, so it travels with the other warnings; its type lets every command (not only
    `nomtui config`) find and show it, since a token on a shared machine matters now."""

    __slots__ = ()


def permission_warning(path: Path, shown: str, holds: str) -> ExposedSecret | None:
    mode = loose_permissions(path)
    if mode is None:
        return None
    return ExposedSecret(
        f"{shown} holds {holds} and is readable by other users (mode {mode:04o}); "
        f"run chmod 600 {shown}."
    )


def load_token(
    ref: TokenRef, source: str, *, lookup: Mapping[str, str], env: Mapping[str, str], home: Path
) -> tuple[Secret, list[str]]:
    """The token `ref` points to, and any warnings about how it is kept.

    `lookup` is where `token_env` names are looked up (the environment, then
    ~/.config/nomad); `env` is the environment a token command runs in.
    """
    if isinstance(ref, Secret):
        return ref, []
    if isinstance(ref, TokenEnv):
        value = lookup.get(ref.name, "").strip()
        if not value:
            raise ConfigError(
                f"{source} names ${ref.name}, which is not set; export {ref.name} or fix "
                "that setting."
            )
        return Secret(value), []
    if isinstance(ref, TokenFile):
        return _token_file(ref.path, source, home)
    return _token_command(ref, source, env), []


def _token_file(path: Path, source: str, home: Path) -> tuple[Secret, list[str]]:
    shown = show_path(path, home)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(
            f"Cannot read the token file {shown} named by {source} ({reason}); check the path."
        ) from None
    if not text:
        raise ConfigError(f"The token file {shown} ({source}) is empty; put the token in it.")
    warning = permission_warning(path, shown, "a token")
    return Secret(text), [warning] if warning else []


def _token_command(ref: TokenCommand, source: str, env: Mapping[str, str]) -> Secret:
    shown = f"token_command `{ref.command}` ({source})"
    try:
        argv = shlex.split(ref.command)
    except ValueError as exc:
        raise ConfigError(f"Cannot split {shown} into words ({exc}); fix its quotes.") from None
    if not argv:
        raise ConfigError(f"The {shown} is empty; give a command that prints the token.")
    try:
        # No shell: the words are run as given. Output is captured, never echoed back:
        # a failing password manager may still print part of a secret.
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=TOKEN_COMMAND_TIMEOUT_S,
            env=dict(env),
            cwd=ref.cwd,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"The {shown} did not finish within {TOKEN_COMMAND_TIMEOUT_S:g} s; "
            "run it yourself to see why."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot run the {shown} ({exc.strerror or type(exc).__name__}); check the command."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"The {shown} printed something that is not text.") from None
    if done.returncode != 0:
        raise ConfigError(
            f"The {shown} failed with exit status {done.returncode}; run it yourself to see why."
        )
    token = done.stdout.strip()
    if not token:
        raise ConfigError(f"The {shown} printed nothing; it should print the token.")
    return Secret(token)
