"""A fake user for the nomtui.config tests: a home, a working directory, files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nomtui.config import Flags, Settings, resolve
from nomtui.errors import ConfigError

TOKEN = "s3cr3t-TOKEN-0123-4567-89ab-cdef01234567"
"""Recognisable: it must never appear in any printed form of the settings."""


class Box:
    """A fake user: a home with optional ~/.config/nomad and config.toml, and a cwd."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.home = tmp_path / "home"
        self.cwd = tmp_path / "work"
        self.home.mkdir()
        self.cwd.mkdir()

    def shell(self, text: str, mode: int = 0o600) -> Path:
        path = self.home / ".config" / "nomad"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        return path

    def toml(self, text: str, mode: int = 0o600) -> Path:
        path = self.home / ".config" / "nomtui" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        return path

    def file(self, name: str, text: str = "x", mode: int = 0o600) -> Path:
        path = self.root / name
        path.write_text(text)
        path.chmod(mode)
        return path

    def branch(self, head: str) -> None:
        (self.cwd / ".git").mkdir(exist_ok=True)
        (self.cwd / ".git" / "HEAD").write_text(head + "\n")

    def resolve(self, flags: Flags | None = None, /, **env: str) -> Settings:
        return resolve(flags or Flags(), env=env, home=self.home, cwd=self.cwd)

    def error(self, flags: Flags | None = None, /, **env: str) -> str:
        with pytest.raises(ConfigError) as caught:
            self.resolve(flags, **env)
        return caught.value.message

    def script(self, name: str, body: str) -> Path:
        """An executable Python script (a stand-in for `pass show ...`)."""
        path = self.root / name
        path.write_text(f"#!{sys.executable}\n{body}\n")
        path.chmod(0o700)
        return path


CLUSTERS = """
[clusters.dev]
address = "http://dev.example:4646"
region = "dev-region"
[clusters.prod]
address = "https://prod.example:4646"
region = "prod-region"
token_env = "NOMAD_TOKEN_PROD"
consul_address = "https://consul.prod.example:8501"
production = true
read_only = true
color = "red"
[clusters.staging]
address = "https://staging.example:4646"
"""
