"""One layer of settings (flags, a cluster, the environment, ...) before precedence.

Every layer maps setting keys ("nomad.address", "consul.token", ...) to a `Raw`: the
value, already parsed and checked, and a source string for humans. Tokens that need
work to obtain (a file, a command, another variable) stay references until the
resolver knows which layer wins, so `pass show` runs only when its token is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nomtui.config.secret import Secret
from nomtui.errors import ConfigError


@dataclass(frozen=True)
class TokenEnv:
    """`token_env = "NOMAD_TOKEN_PROD"`: the token is in that variable."""

    name: str


@dataclass(frozen=True)
class TokenFile:
    """`token_file`, CONSUL_HTTP_TOKEN_FILE: the token is the file's stripped text."""

    path: Path


@dataclass(frozen=True)
class TokenCommand:
    """`token_command = "pass show nomad/prod"`: the token is the command's stdout."""

    command: str
    cwd: Path


@dataclass(frozen=True)
class Invalid:
    """A value that does not parse. It is an error only if it wins: a bad variable in
    ~/.config/nomad must not block `--cluster prod`, which does not use it."""

    message: str


TokenRef = Secret | TokenEnv | TokenFile | TokenCommand
Value = str | bool | Path | TokenRef | Invalid


@dataclass(frozen=True)
class Raw:
    value: Value
    source: str


@dataclass(frozen=True)
class Layer:
    """`name` is for the resolver's bookkeeping; each Raw carries its own source text."""

    name: str
    values: dict[str, Raw]

    def get(self, key: str) -> Raw | None:
        return self.values.get(key)


def first(stack: list[Layer], key: str) -> tuple[Layer, Raw] | None:
    """The highest layer that sets `key`, with its value."""
    for layer in stack:
        if (raw := layer.get(key)) is not None:
            return layer, raw
    return None


# Typed views of a winning value. Invalid is the user's error; any other mismatch is a
# bug in a layer builder.


def _valid(raw: Raw) -> Value:
    if isinstance(raw.value, Invalid):
        raise ConfigError(raw.value.message)
    return raw.value


def as_text(raw: Raw | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(value := _valid(raw), str):
        raise TypeError(f"expected text from {raw.source}")
    return value


def as_path(raw: Raw | None) -> Path | None:
    if raw is None:
        return None
    if not isinstance(value := _valid(raw), Path):
        raise TypeError(f"expected a path from {raw.source}")
    return value


def as_bool(raw: Raw | None) -> bool:
    if raw is None:
        return False
    if not isinstance(value := _valid(raw), bool):
        raise TypeError(f"expected a boolean from {raw.source}")
    return value


def as_secret(raw: Raw | None) -> Secret | None:
    if raw is None:
        return None
    if not isinstance(value := _valid(raw), Secret):
        raise TypeError(f"expected a secret from {raw.source}")
    return value


def as_token_ref(raw: Raw) -> TokenRef:
    if not isinstance(value := _valid(raw), Secret | TokenEnv | TokenFile | TokenCommand):
        raise TypeError(f"expected a token from {raw.source}")
    return value
