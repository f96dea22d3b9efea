"""`nomad alloc exec` over the allocation exec WebSocket (PROTOCOLS.md §6).

    async with ExecSession.open_with(http, alloc_id, "http", ["/bin/sh"], tty=True) as s:
        await s.resize(rows, cols)
        await s.send_stdin(b"ls\\n")
        async for stream, data in s.output():
            ...
        code = await s.wait()

The token travels in the `X-Nomad-Token` header of the upgrade request, never in the URL.
Frames are processed in order and the exit frame ends the session: whatever happens to
the connection after it is ignored (§6.4, hashicorp/nomad#10657).

Errors are classified in `nomtui.client.exec_errors`.

Flow control: `send_stdin` splits data into frames of `stdin_chunk` bytes (the Go client
uses 2048; up to 64 KiB is allowed here for throughput) and waits for the socket to drain
after each, so a caller streaming a 100 MB file holds only a chunk at a time. Output goes
through a bounded queue: a consumer that stops reading stops the socket, and the agent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, NamedTuple
from urllib.parse import urlencode

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    WebSocketException,
)
from websockets.frames import Close

from nomtui.client.auth import parse_address
from nomtui.client.base import flag, seg
from nomtui.client.exec_errors import ExecTimeout, close_error, open_error
from nomtui.client.http import HttpClient
from nomtui.config.secret import Secret, split_basic_auth
from nomtui.errors import (
    BadResponse,
    NomtuiError,
    scrub,
)
from nomtui.models.base import ModelError, decode
from nomtui.models.frames import ExecInput, ExecOutput, ExecStdin, TtySize

HEARTBEAT_S = 10.0
"""The Go client's application heartbeat period."""
DEFAULT_STDIN_CHUNK = 32 * 1024
MAX_STDIN_CHUNK = 64 * 1024
OUTPUT_QUEUE = 64
"""Output frames held for a slow consumer (Nomad reads output in 4 KiB pieces)."""
MAX_MESSAGE = 16 * 1024 * 1024


class _NoRedirects(connect):
    """websockets' `connect`, minus redirects: on a cross-origin redirect it strips only
    Authorization and cookies, so X-Nomad-Token would reach wherever a proxy points. A
    3xx ends the opening like any other refusal (the HTTP client does not follow either)."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


class _Redacting(logging.LoggerAdapter):  # type: ignore[type-arg]  # generic only in typeshed
    """websockets' logger without our secrets: at DEBUG it logs every handshake header,
    X-Nomad-Token and Authorization included, to whatever handler the host app set up."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__(logging.getLogger("websockets.client"), {})
        self._secrets = [s for s in secrets if s]

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            super().log(level, msg, *(self._clean(a) for a in args), **kwargs)

    def _clean(self, arg: object) -> object:
        text = str(arg)
        return scrub(text, *self._secrets) if any(s in text for s in self._secrets) else arg


class OutputChunk(NamedTuple):
    stream: Literal["stdout", "stderr"]
    data: bytes


class _End:
    """Queue marker: the session is over (exit code or error recorded)."""


_END = _End()


def _ws_url(address: str, alloc_id: str, query: dict[str, str]) -> tuple[str, str | None]:
    url, uds, _ = parse_address(address, "Nomad")
    path = f"/v1/client/allocation/{seg(alloc_id)}/exec?{urlencode(query)}"
    if uds is not None:
        return f"ws://localhost{path}", uds
    scheme = "wss" if url.scheme == "https" else "ws"
    netloc = url.netloc.decode("ascii")
    return f"{scheme}://{netloc}{url.raw_path.decode('ascii').rstrip('/')}{path}", None


class ExecSession:
    """One running command; use `ExecSession.open(...)` / `open_with(http, ...)`."""

    def __init__(self, ws: ClientConnection, *, address: str, alloc_id: str, path: str) -> None:
        self._ws = ws
        self.address = address
        self.alloc_id = alloc_id
        self._path = path
        self.stdin_chunk = DEFAULT_STDIN_CHUNK
        self._queue: asyncio.Queue[OutputChunk | _End] = asyncio.Queue(OUTPUT_QUEUE)
        self._lock = asyncio.Lock()
        self._done = asyncio.Event()
        self._exit_code: int | None = None
        self._error: NomtuiError | None = None
        self._reading = False
        self._stdin_closed = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        address: str,
        alloc_id: str,
        task: str,
        command: Sequence[str],
        *,
        tty: bool = False,
        token: Secret | str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        server_name: str | None = None,
        basic_auth: Secret | None = None,
        region: str | None = None,
        namespace: str | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        open_timeout_s: float = 10.0,
    ) -> AsyncIterator[ExecSession]:
        """Start `command` in `task` of the allocation; the session ends with the block."""
        secret = token if isinstance(token, Secret) or token is None else Secret(token)
        del token
        query = {"task": task, "command": json.dumps(list(command)), "tty": flag(tty)}
        query.update({k: v for k, v in (("region", region), ("namespace", namespace)) if v})
        url, uds = _ws_url(address, alloc_id, query)
        path = f"/v1/client/allocation/{alloc_id}/exec"
        headers: dict[str, str] = {}
        if secret:
            headers["X-Nomad-Token"] = secret.reveal()
        if basic_auth:
            # For a proxy in front of the agent; the token keeps its own header.
            user, password = split_basic_auth(basic_auth)
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {pair}"
        extra: dict[str, Any] = {"unix": True, "path": uds} if uds else {}
        if url.startswith("wss://"):
            extra["ssl"] = ssl_context or ssl.create_default_context()
            if server_name:
                extra["server_hostname"] = server_name
        shown = parse_address(address, "Nomad")[0]
        addr = f"unix://{uds}" if uds else str(shown)
        secret_text = secret.reveal() if secret else None
        problem: NomtuiError | None = None
        try:
            ws = await _NoRedirects(
                url,
                additional_headers=headers,
                open_timeout=open_timeout_s,
                compression=None,  # Nomad's upgrader does not negotiate permessage-deflate
                proxy=None,  # like the HTTP client: no proxies from the environment
                max_size=MAX_MESSAGE,
                user_agent_header="nomtui",
                logger=_Redacting(list(headers.values())),
                **extra,
            )
        except (OSError, WebSocketException) as exc:
            problem = open_error(exc, addr, path, open_timeout_s, secret_text)
        if problem is not None:
            raise problem
        del headers
        session = cls(ws, address=addr, alloc_id=alloc_id, path=path)
        session._tasks = [
            asyncio.create_task(session._read(), name=f"exec-read:{alloc_id[:8]}"),
            asyncio.create_task(session._heartbeat(heartbeat_s), name=f"exec-beat:{alloc_id[:8]}"),
        ]
        try:
            yield session
        finally:
            await session._shutdown()

    @classmethod
    def open_with(
        cls,
        http: HttpClient,
        alloc_id: str,
        task: str,
        command: Sequence[str],
        *,
        tty: bool = False,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> contextlib.AbstractAsyncContextManager[ExecSession]:
        """`open` with the address, token, TLS and defaults of an HTTP client."""
        return cls.open(
            http.address,
            alloc_id,
            task,
            command,
            tty=tty,
            token=http.token,
            ssl_context=http.ssl_context,
            server_name=http.server_name,
            basic_auth=http.basic_auth,
            region=http.region,
            namespace=http.namespace,
            heartbeat_s=heartbeat_s,
        )

    # -- input -----------------------------------------------------------------------------

    async def send_stdin(self, data: bytes) -> None:
        """Bytes for the command's stdin, in frames of `stdin_chunk` (≤ 64 KiB) bytes."""
        size = max(1, min(self.stdin_chunk, MAX_STDIN_CHUNK))
        view = memoryview(data)
        for start in range(0, len(view), size):
            await self._send(ExecInput(stdin=ExecStdin(data=bytes(view[start : start + size]))))

    async def send_stdin_from(self, chunks: AsyncIterable[bytes], *, close: bool = True) -> None:
        """Stream `chunks` to stdin (then close it), one chunk in memory at a time."""
        async for chunk in chunks:
            await self.send_stdin(chunk)
        if close:
            await self.close_stdin()

    async def close_stdin(self) -> None:
        """End of input (once). With a TTY, programs wait for Ctrl-D (b"\\x04") instead."""
        if not self._stdin_closed:
            self._stdin_closed = True
            await self._send(ExecInput(stdin=ExecStdin(close=True)))

    async def resize(self, rows: int, cols: int) -> None:
        await self._send(ExecInput(tty_size=TtySize(height=rows, width=cols)))

    async def _send(self, frame: ExecInput) -> None:
        text = msgspec.json.encode(frame).decode("ascii")
        problem: NomtuiError | None = None
        try:
            async with self._lock:
                await self._ws.send(text)
        except ConnectionClosed as exc:
            problem = self._error or self._closed(exc.rcvd)
        if problem is not None:
            raise problem

    async def _heartbeat(self, period_s: float) -> None:
        while not self._done.is_set():
            await asyncio.sleep(period_s)
            try:
                await self._send(ExecInput())
            except NomtuiError:
                return  # the reader reports why the session ended

    # -- output ----------------------------------------------------------------------------

    async def output(self) -> AsyncIterator[OutputChunk]:
        """(stream, bytes) until the command exits; raises what ended the session early."""
        self._reading = True
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _End):
                    self._queue.put_nowait(item)  # later readers end too
                    if self._error is not None:
                        raise self._error
                    return
                yield item
        finally:
            self._reading = False

    async def wait(self, timeout: float | None = None) -> int:
        """The exit code. Output nobody is reading is discarded, so the command can finish.

        `timeout` (seconds): raise `ExecTimeout` if the command is still running then; the
        session stays open (leave the `async with` block to end it).
        """
        try:
            async with asyncio.timeout(timeout):
                if self._reading:
                    await self._done.wait()
                else:
                    while not isinstance(item := await self._queue.get(), _End):
                        del item
                    self._queue.put_nowait(item)
        except TimeoutError:
            assert timeout is not None
            raise ExecTimeout(self.address, self.alloc_id, timeout, self._stdin_closed) from None
        if self._error is not None:
            raise self._error
        assert self._exit_code is not None
        return self._exit_code

    @property
    def exit_code(self) -> int | None:
        return self._exit_code

    async def _read(self) -> None:
        self._error = await self._pump()
        self._done.set()
        # Waits for room when nobody reads: `wait()` drains the queue, `output()` reads it.
        await self._queue.put(_END)

    async def _pump(self) -> NomtuiError | None:
        """Frames in order until the exit frame (None) or what ended the session."""
        try:
            async for message in self._ws:
                frame = decode(ExecOutput, message)
                if frame.exited:
                    self._exit_code = frame.exit_code
                    return None  # anything after the exit frame is ignored (§6.4)
                if frame.stdout is not None and frame.stdout.data:
                    await self._queue.put(OutputChunk("stdout", frame.stdout.data))
                if frame.stderr is not None and frame.stderr.data:
                    await self._queue.put(OutputChunk("stderr", frame.stderr.data))
        except ConnectionClosed as exc:
            return self._closed(exc.rcvd)
        except ModelError as exc:
            return BadResponse(self.address, self._path, str(exc))
        return self._closed(self._ws.protocol.close_rcvd)

    def _closed(self, rcvd: Close | None) -> NomtuiError:
        return close_error(rcvd, self.address, self._path)

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Closing before the exit tells the agent to kill the command, as Ctrl-C would.
        await self._ws.close()


__all__ = ["ExecSession", "ExecTimeout", "OutputChunk"]
