"""The audit log: one JSON line, appended locally, for every action that changes a cluster.

After an incident the question is "who stopped that job, from where, with which token".
Nomad's own audit log is an Enterprise feature, so nomtui keeps its side of the story:

    {"time": "2026-11-25T10:05:15.123Z", "cluster": "prod", "address": "https://…",
     "user": "alice", "token": "deploy-ops", "accessor": "8f1c…", "action": "stop job web",
     "target": {"job": "web", "namespace": "default"}, "result": "ok"}

- Where: `Settings.audit_log` (`NOMTUI_AUDIT_LOG`, config.toml `audit_log`, default
  `$XDG_STATE_HOME/nomtui/audit.log`), created 0600 in a 0700 directory.
- Who: the token's name and AccessorID from `/v1/acl/token/self`, looked up once and
  never the SecretID; null when the cluster has no ACLs or the lookup fails. Error texts
  are scrubbed of the token as well, in case a server echoes it.
- When: once the action has ended, with its result (`ok`, `error: …`, `cancelled`), and
  also when the client's read-only mode refused it (the store and the write one-shots
  refuse earlier, before a client is involved, so those refusals are not in it). Each
  line is one `write(2)` on an `O_APPEND` file, not buffered, so a line is whole or
  absent and a crash after the action cannot lose it. A symlink at the log's path is
  refused (see `_append`).
- Hooks: `NomadBase._write`, the one road of every API write (TUI and one-shots alike),
  and the exec actions (`run_shell` for shells and `nomtui ssh`, `copy_in` for cp) through
  `audited`. A client is audited once `attach` has bound it to the settings; clients made
  without settings (library use, tests) are not.
- A log that cannot be written warns once on stderr and the action goes ahead. Decided
  as an operator would: the audit trail must not be what stops someone fixing an outage
  (a full disk, a read-only home); the warning says the trail has a gap.
"""

from __future__ import annotations

import asyncio
import functools
import getpass
import json
import os
import shlex
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import unquote

from nomtui.errors import NomtuiError, scrub

if TYPE_CHECKING:
    from nomtui.client.http import HttpClient
    from nomtui.client.nomad import NomadClient
    from nomtui.config.model import Settings

P = ParamSpec("P")
R = TypeVar("R")

TOKEN_LOOKUP_TIMEOUT_S = 5.0
"""The name lookup runs after the action: it must not hold up the result for long."""
_MAX_DETAIL = 500

Target = Mapping[str, str]


@dataclass
class _TokenName:
    name: str | None = None
    accessor: str | None = None


class Auditor:
    """Writes the audit lines of one cluster's client (see the module docstring)."""

    def __init__(self, path: Path, cluster: str, http: HttpClient) -> None:
        self.path = path
        self.cluster = cluster
        self.address = http.address
        # Weak: the registry maps the client to this auditor, and a strong reference back
        # would keep every client (and its connections) alive for good.
        self._http = weakref.ref(http)
        self._secret = http.token
        self._token: _TokenName | None = None
        self._warned = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Auditor(path={str(self.path)!r}, cluster={self.cluster!r})"

    # -- recording ----------------------------------------------------------------------

    async def done(self, action: str, target: Target, result: str, *, same_loop: bool) -> None:
        """Record an action that has ended; looks the token name up first if needed.

        `same_loop`: the caller runs on the loop `http` belongs to, so it can be used for
        the lookup (exec sessions of the TUI run on a private loop in a thread).
        """
        if self._token is None and self._secret:
            self._token = await self._lookup(same_loop)
        self.write(action, target, result)

    def write(self, action: str, target: Target, result: str) -> None:
        """Append one line now, with whatever token name is already known."""
        token = self._token or _TokenName()
        secret = self._secret.reveal() if self._secret else None
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "cluster": self.cluster,
            "address": self.address,
            "user": _local_user(),
            "token": token.name,
            "accessor": token.accessor,
            "action": scrub(action, secret),
            "target": {k: scrub(v, secret) for k, v in target.items()},
            "result": scrub(result, secret),
        }
        # ensure_ascii: a hostile job name cannot put a raw escape sequence in the file
        # someone will later `cat` or `tail -f` on a terminal.
        data = (json.dumps(line, ensure_ascii=True) + "\n").encode("ascii")
        try:
            _append(self.path, data)
        except OSError as exc:
            self._warn(exc)

    def _warn(self, exc: OSError) -> None:
        with self._lock:
            if self._warned:
                return
            self._warned = True
        reason = exc.strerror or type(exc).__name__
        # sys.stderr, not sys.__stderr__: inside the TUI Textual captures it, so the
        # warning cannot scribble over the screen.
        print(
            f"warning: cannot write the audit log {self.path} ({reason}); "
            "actions go ahead but are not recorded.",
            file=sys.stderr,
        )

    async def _lookup(self, same_loop: bool) -> _TokenName:
        from nomtui.client.http import HttpClient
        from nomtui.models.cluster import AclToken

        http = self._http()
        if http is None:
            return _TokenName()  # the client is gone; nothing to ask with
        own: HttpClient | None = None
        if not same_loop:
            own = HttpClient(
                http.address,
                http.token,
                verify=http.ssl_context or True,
                server_name=http.server_name,
                basic_auth=http.basic_auth,
                timeout_s=TOKEN_LOOKUP_TIMEOUT_S,
            )
            http = own
        try:
            async with asyncio.timeout(TOKEN_LOOKUP_TIMEOUT_S):
                token, _ = await http.get("/v1/acl/token/self", AclToken)
        except (NomtuiError, TimeoutError):
            # No ACLs (400), an anonymous or unknown token (403), a dead link: the line
            # is still worth writing, without the name.
            return _TokenName()
        finally:
            if own is not None:
                await own.aclose()
        return _TokenName(token.Name or None, token.AccessorID or None)


def _local_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None  # no passwd entry (some containers) and no USER/LOGNAME


def _append(path: Path, data: bytes) -> None:
    """One write on an O_APPEND file: a whole line or nothing, even with several nomtui
    processes at once. O_NOFOLLOW: a symlink planted where the log goes (a shared /tmp,
    say) must not turn the line into an append to someone's ~/.bashrc."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


# -- binding clients to auditors ----------------------------------------------------------

_AUDITORS: weakref.WeakKeyDictionary[HttpClient, Auditor] = weakref.WeakKeyDictionary()
"""Keyed by the HTTP base, because the exec actions are handed `nomad.http`, not the client."""


def attach(client: NomadClient, settings: Settings) -> NomadClient:
    """Audit `client`'s writes and exec sessions into `settings.audit_log`; returns it."""
    cluster = settings.cluster or settings.nomad.address
    _AUDITORS[client.http] = Auditor(settings.audit_log, cluster, client.http)
    return client


def auditor_for(http: HttpClient) -> Auditor | None:
    return _AUDITORS.get(http)


def _detail(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, NomtuiError) else f"{type(exc).__name__}: {exc}"
    one_line = " ".join(text.split())
    return one_line[:_MAX_DETAIL]


async def run_recorded(
    auditor: Auditor,
    action: str,
    target: Target,
    call: Callable[[], Awaitable[R]],
    *,
    same_loop: bool = True,
    summary: Callable[[R], str] | None = None,
) -> R:
    """`await call()`, then record how it ended (and re-raise what it raised)."""
    try:
        value = await call()
    except Exception as exc:
        await auditor.done(action, target, f"error: {_detail(exc)}", same_loop=same_loop)
        raise
    except BaseException as exc:
        # Cancelled, Ctrl-C: no await now, the task is being torn down. The request may
        # have gone out, so the line says how it ended rather than nothing.
        ended = "cancelled" if isinstance(exc, asyncio.CancelledError) else type(exc).__name__
        auditor.write(action, target, ended)
        raise
    result = f"ok ({summary(value)})" if summary is not None else "ok"
    await auditor.done(action, target, result, same_loop=same_loop)
    return value


Describe = Callable[..., "tuple[HttpClient, str, dict[str, str]]"]


def audited(
    describe: Describe, summary: Callable[[Any], str] | None = None
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Record each call of an exec-based action; `describe(*args, **kwargs)` gives the
    HTTP base it uses, the action's words and its target."""

    def wrap(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(func)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            http, action, target = describe(*args, **kwargs)
            auditor = auditor_for(http)
            if auditor is None:
                return await func(*args, **kwargs)
            return await run_recorded(
                auditor,
                action,
                target,
                lambda: func(*args, **kwargs),
                same_loop=False,  # the TUI runs shells on a private loop
                summary=summary,
            )

        return run

    return wrap


def command_text(command: Sequence[str] | None) -> str:
    """An exec command for the log: the words shell-quoted, or `(shell)` for the default."""
    return shlex.join(command) if command else "(shell)"


# -- what a write is about ----------------------------------------------------------------

_PATH_TARGETS = (
    ("/v1/job/", "job"),
    ("/v1/allocation/", "alloc"),
    ("/v1/client/allocation/", "alloc"),
    ("/v1/node/", "node"),
)


def target_of(
    path: str,
    body: Any,
    params: Mapping[str, str] | None,
    namespace: str | None,
) -> dict[str, str]:
    """The object a write acts on, from its API path (and body, for a job register)."""
    target: dict[str, str] = {}
    for prefix, kind in _PATH_TARGETS:
        if path.startswith(prefix):
            rest = path.removeprefix(prefix)
            # A job ID may hold `/` (sent as %2F); the rest of the path is the verb.
            target[kind] = unquote(rest.split("/", 1)[0])
            break
    else:
        if path.startswith("/v1/deployment/"):
            target["deployment"] = unquote(path.rsplit("/", 1)[-1])
        elif path == "/v1/jobs" and isinstance(body, Mapping):
            job = body.get("Job")
            if isinstance(job, Mapping):
                target["job"] = str(job.get("ID", ""))
                namespace = str(job.get("Namespace") or "") or namespace
    chosen = (params or {}).get("namespace") or namespace
    if chosen and ("job" in target or "namespace" in (params or {})):
        target["namespace"] = chosen
    return target


__all__ = [
    "Auditor",
    "attach",
    "audited",
    "auditor_for",
    "command_text",
    "run_recorded",
    "target_of",
]
