"""The sim's Docker Engine API for tests: a socket directory and the config that uses it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nomtui.sim.server import SimConfig


def socket_dir() -> Iterator[Path]:
    """A short temporary directory (a fixture body): Unix socket paths are limited to
    ~107 bytes, and pytest's tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="nomtui-dk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def with_docker(config: SimConfig, directory: Path) -> SimConfig:
    """`config` for a still cluster whose containers answer on `directory`/docker.sock."""
    config.lifecycle = False
    config.log_lines_per_s = 0
    config.docker_socket = directory / "docker.sock"
    return config
