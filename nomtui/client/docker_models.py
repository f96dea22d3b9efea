"""What the Docker Engine API answers, the fields nomtui reads (msgspec Structs, no I/O).

Unknown fields are ignored, so newer engines decode too; Go's nil maps and slices come
as `null`, hence the `| None`.
"""

from __future__ import annotations

import msgspec


class Port(msgspec.Struct, frozen=True):
    IP: str = ""
    PrivatePort: int = 0
    PublicPort: int = 0
    Type: str = ""

    def text(self) -> str:
        """As `docker ps` prints it: `127.0.0.1:20000->5000/tcp` or `5000/tcp`."""
        inner = f"{self.PrivatePort}/{self.Type}"
        if not self.PublicPort:
            return inner
        host = f"[{self.IP}]" if ":" in self.IP else self.IP
        return f"{host}:{self.PublicPort}->{inner}" if host else f"{self.PublicPort}->{inner}"


class ContainerSummary(msgspec.Struct, frozen=True):
    """An item of `GET /containers/json`."""

    Id: str
    Names: list[str] | None = None
    Image: str = ""
    ImageID: str = ""
    Command: str = ""
    Created: int = 0
    """Unix seconds."""
    State: str = ""
    """`created`, `restarting`, `running`, `removing`, `paused`, `exited` or `dead`."""
    Status: str = ""
    """Human text: `Up 5 minutes`, `Exited (0) 2 hours ago`."""
    Ports: list[Port] | None = None
    Labels: dict[str, str] | None = None

    @property
    def name(self) -> str:
        return (self.Names or [""])[0].removeprefix("/") or self.Id[:12]

    @property
    def labels(self) -> dict[str, str]:
        return self.Labels or {}


class ContainerState(msgspec.Struct, frozen=True):
    Status: str = ""
    Running: bool = False
    ExitCode: int = 0
    StartedAt: str = ""
    FinishedAt: str = ""


class ContainerConfig(msgspec.Struct, frozen=True):
    Image: str = ""
    User: str = ""
    WorkingDir: str = ""
    Labels: dict[str, str] | None = None


class ContainerInspect(msgspec.Struct, frozen=True):
    """`GET /containers/{id}/json`, the fields nomtui reads."""

    Id: str
    Name: str = ""
    State: ContainerState | None = None
    Config: ContainerConfig | None = None

    @property
    def working_dir(self) -> str:
        """Where relative paths start: the image's WORKDIR, `/` when it has none."""
        return (self.Config.WorkingDir if self.Config else "") or "/"


class PathStat(msgspec.Struct, frozen=True):
    """`X-Docker-Container-Path-Stat`: `mode` is a Go os.FileMode (type bits on top)."""

    name: str = ""
    size: int = 0
    mode: int = 0
    mtime: str = ""
    linkTarget: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & (1 << 31))


__all__ = [
    "ContainerConfig",
    "ContainerInspect",
    "ContainerState",
    "ContainerSummary",
    "PathStat",
    "Port",
]
