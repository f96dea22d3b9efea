"""Frames of the client streaming endpoints: file/log streams and alloc exec.

File and log streams (PROTOCOLS.md §5.2) send concatenated JSON objects; every field is
optional and `{}` is a heartbeat. `Data` is base64 in JSON and arrives here as `bytes`.

Exec (§6.2) uses lower-case keys in both directions. `ExecOutput` decodes server
frames; `ExecInput` and `ExecAuth` are encoded by the client (they omit unset fields, so
`msgspec.json.encode(ExecInput(stdin=ExecStdin(close=True)))` is exactly
`{"stdin":{"close":true}}`).
"""

from __future__ import annotations

from typing import Any

from nomtui.models.base import Model, redacted_items, redacted_repr

_AUTH_SECRETS = frozenset({"auth_token"})

FILE_DELETED = "file deleted"
FILE_TRUNCATED = "file truncated"


class StreamFrame(Model, frozen=True):
    Offset: int = 0
    """File position after the first read merged into this frame (see §5.2)."""
    Data: bytes = b""
    File: str = ""
    FileEvent: str = ""
    """`file deleted` or `file truncated`, else empty."""

    @property
    def is_heartbeat(self) -> bool:
        return not (self.Data or self.File or self.FileEvent or self.Offset)


class AllocFileInfo(Model, frozen=True):
    """An entry of `GET /v1/client/fs/ls/:alloc` or the answer of `/fs/stat/:alloc`."""

    Name: str = ""
    IsDir: bool = False
    Size: int = 0
    FileMode: str = ""
    ModTime: str | None = None
    ContentType: str = ""


class ExecStream(Model, frozen=True):
    data: bytes | None = None
    close: bool = False


class ExecResult(Model, frozen=True):
    exit_code: int = 0


class ExecOutput(Model, frozen=True):
    """A server -> client exec frame; at most one of stdout/stderr/exited is set."""

    stdout: ExecStream | None = None
    stderr: ExecStream | None = None
    exited: bool = False
    result: ExecResult | None = None

    @property
    def is_heartbeat(self) -> bool:
        return self.stdout is None and self.stderr is None and not self.exited

    @property
    def exit_code(self) -> int | None:
        """The exit code once `exited`; None before."""
        if not self.exited:
            return None
        return self.result.exit_code if self.result else 0


class ExecStdin(Model, frozen=True, omit_defaults=True):
    data: bytes | None = None
    close: bool = False


class TtySize(Model, frozen=True, omit_defaults=True):
    height: int = 0
    width: int = 0


class ExecInput(Model, frozen=True, omit_defaults=True):
    """A client -> server exec frame; `ExecInput()` encodes as the `{}` heartbeat."""

    stdin: ExecStdin | None = None
    tty_size: TtySize | None = None


class ExecAuth(Model, frozen=True):
    """First frame when connecting with `ws_handshake=true`; carries the token, so the
    repr leaves it out."""

    version: int = 1
    auth_token: str = ""

    def __repr__(self) -> str:
        return redacted_repr(self, _AUTH_SECRETS)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return redacted_items(self, _AUTH_SECRETS)


__all__ = [
    "FILE_DELETED",
    "FILE_TRUNCATED",
    "AllocFileInfo",
    "ExecAuth",
    "ExecInput",
    "ExecOutput",
    "ExecResult",
    "ExecStdin",
    "ExecStream",
    "StreamFrame",
    "TtySize",
]
